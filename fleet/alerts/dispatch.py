"""Sending, off the poller's thread: one queue and one worker thread per destination.

A message is retried a bounded number of times with doubling waits; a destination that is down or
hangs only fills its own bounded queue (the oldest message is dropped, and counted, when it is
full), so it never slows collection nor the other destinations. Its health — failing since when,
the last error — is what the Alerts page shows.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import requests

from fleet.alerts.settings import DestinationConfig
from fleet.model import utc_now
from fleet.source import scrub

log = logging.getLogger(__name__)

QUEUE_SIZE = 500
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 30.0
ERROR_CHARS = 300


@dataclass(frozen=True)
class Message:
    path: str  # appended to the destination's URL
    body: Any  # JSON
    what: str  # for logs: "3 firing", "resend of 12"


@dataclass
class DestinationHealth:
    name: str
    kind: str
    url: str
    sent: int = 0
    failed: int = 0  # messages given up on after every attempt
    dropped: int = 0  # messages dropped unsent because the queue was full
    queued: int = 0
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    last_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.failing_since is None


class SendError(Exception):
    pass


Post = Callable[[str, Any, dict[str, str], float], None]


def http_post(url: str, body: Any, headers: dict[str, str], timeout_s: float) -> None:
    try:
        answer = requests.post(url, json=body, headers=headers, timeout=timeout_s)
    except requests.RequestException as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= answer.status_code < 300:
        raise SendError(f"HTTP {answer.status_code}: {answer.text[:ERROR_CHARS].strip()}")


class Dispatcher:
    def __init__(self, destination: DestinationConfig, *, post: Post = http_post,
                 clock: Callable[[], datetime] = utc_now, first_retry_s: float = FIRST_RETRY_S):
        self.destination = destination
        self.health = DestinationHealth(destination.name, destination.kind, destination.url)
        self._post = post
        self._clock = clock
        self._first_retry_s = first_retry_s
        self._queue: queue.Queue[Message] = queue.Queue(maxsize=QUEUE_SIZE)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"alerts-{destination.name}", daemon=True)
        self._thread.start()

    def send(self, message: Message) -> None:
        """Queue a message; never blocks (a full queue loses its oldest message)."""
        with self._lock:
            self._idle.clear()
            while True:
                try:
                    self._queue.put_nowait(message)
                    break
                except queue.Full:
                    try:
                        self._queue.get_nowait()
                        self.health.dropped += 1
                    except queue.Empty:
                        pass
            self.health.queued = self._queue.qsize()

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Until every queued message is sent or given up on (tests, shutdown)."""
        return self._idle.wait(timeout_s)

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        if wait:
            self._thread.join(timeout=self.destination.timeout_s + 1)

    def _headers(self) -> dict[str, str]:
        secret = self.destination.auth_header
        return {"Authorization": secret.reveal()} if secret is not None else {}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._queue.get(timeout=0.2)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._idle.set()
                continue
            self._deliver(message)
            with self._lock:
                self.health.queued = self._queue.qsize()

    def _deliver(self, message: Message) -> None:
        url = self.destination.url.rstrip("/") + message.path
        wait = self._first_retry_s
        for attempt in range(1, self.destination.max_attempts + 1):
            try:
                self._post(url, message.body, self._headers(), self.destination.timeout_s)
            except Exception as exc:  # a bug in a sender must not kill the worker either
                self._failed_attempt(exc)
                if attempt == self.destination.max_attempts or self._stop.wait(wait):
                    break
                wait = min(MAX_RETRY_S, wait * 2)
                continue
            self.health.sent += 1
            self.health.last_success_at = self._clock()
            self.health.failing_since = None
            return
        self.health.failed += 1
        log.warning("alerts to %s: gave up on %s after %d attempts: %s", self.destination.name, message.what,
                    self.destination.max_attempts, self.health.last_error)

    def _failed_attempt(self, exc: Exception) -> None:
        secret = self.destination.auth_header
        text = scrub(str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}",
                     [secret.reveal()] if secret is not None else [])
        self.health.last_error = text[:ERROR_CHARS]
        if self.health.failing_since is None:
            self.health.failing_since = self._clock()
