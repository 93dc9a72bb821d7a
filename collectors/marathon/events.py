"""Marathon's event bus (`GET /v2/events`, server-sent events) between polls.

A poll sees only each app's *last* task failure; a task that failed and was replaced between two
polls leaves no trace. With the event stream open, every failure Marathon reports becomes an event
at its own time. The stream is opened from the second round on (a one-shot `snapshot` never opens
it; a poller polling in the background opens it before the first round, so that the second round
can already take the first round's apps when nothing changed), reconnects with back-off, follows the leader found by the polls, and keeps the last
`MAX_EVENTS` events of the last `WINDOW_S` seconds. Read-only: one long GET.

The stream is bounded like every request (`collectors.deadline`), by its heartbeat: each complete
event (or keep-alive line) renews its budget, so a stream that goes silent, or drips bytes without
ever completing an event, for `heartbeat_s` is cut and reopened; an event larger than
`MAX_EVENT_BYTES` ends the connection (and is reopened after the back-off) rather than grow.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

import requests

from collectors.deadline import MIB, Budget, bounded, too_large
from collectors.toolkit import MAX_EVENTS
from fleet.model import Event

log = logging.getLogger(__name__)

WINDOW_S = 900.0
FAILED_STATES = {"TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_UNREACHABLE"}
# what Marathon publishes when something `/v2/apps` shows changes: a task's state or health, an
# app's definition, a deployment or its steps (mesosphere.github.io/marathon/docs/event-bus.html)
CHANGES = ("status_update_event", "unhealthy_instance_kill_event", "unhealthy_task_kill_event",
           "health_status_changed_event", "instance_health_changed_event", "failed_health_check_event",
           "add_health_check_event", "remove_health_check_event", "api_post_event", "app_terminated_event",
           "group_change_success", "deployment_info", "deployment_success", "deployment_failed",
           "deployment_step_success", "deployment_step_failure", "instance_changed_event",
           "unknown_instance_terminated_event", "pod_created_event", "pod_updated_event", "pod_deleted_event")
SUBSCRIBED = CHANGES
HEARTBEAT_S = 300.0  # a stream without a complete event or keep-alive for this long is cut and reopened
MAX_EVENT_BYTES = 8 * MIB  # the events subscribed to are a few KB each
READ_BYTES = 65536


def stream_lines(raw: Any, budget: Budget) -> Iterator[bytes]:
    """The lines of a streaming body (`response.raw`) as they arrive. A blank line (the end of an
    event, or a keep-alive) or a comment renews the budget; more than its ceiling of bytes without
    one ends the stream."""
    pending = b""
    since_renewal = 0
    while chunk := raw.read1(READ_BYTES):
        since_renewal += len(chunk)
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if not line.strip(b"\r") or line.startswith(b":"):
                budget.renew()
                since_renewal = len(pending)
            yield line + b"\n"
        if since_renewal > budget.max_bytes:
            raise too_large(budget.what, budget.max_bytes, "one event kept coming")
    if pending:
        yield pending


def parse_sse(lines: Iterable[bytes | str]) -> Iterator[tuple[str, str]]:
    """(event type, data) for each event of a text/event-stream (comments and ids ignored)."""
    event_type, data = "message", []
    for raw in lines:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield event_type, "\n".join(data)
            event_type, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event_type = value
            elif name == "data":
                data.append(value)
    if data:
        yield event_type, "\n".join(data)


def to_event(event_type: str, data: str, received_at: datetime) -> tuple[str, Event] | None:
    """(task id, event) for the events worth showing; None for the rest."""
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    task_id = str(payload.get("taskId") or payload.get("instanceId") or "")
    when = parse_time(payload.get("timestamp")) or received_at
    where = f" on {payload['host']}" if payload.get("host") else ""
    app_id = payload.get("appId") or ""
    if event_type == "status_update_event" and payload.get("taskStatus") in FAILED_STATES:
        message = payload.get("message") or "no message"
        return task_id, Event(time=when, severity="warning", object=f"App{app_id}", reason=payload["taskStatus"],
                              message=f"task {task_id}{where}: {message}")
    if event_type in ("unhealthy_instance_kill_event", "unhealthy_task_kill_event"):
        return task_id, Event(time=when, severity="warning", object=f"App{app_id}", reason="UnhealthyTaskKilled",
                              message=f"task {task_id}{where} killed after failing health checks: "
                                      f"{payload.get('reason') or 'no reason given'}")
    return None


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class EventFeed:
    """A background reader of one Marathon event stream. `open_stream` returns a streaming response."""

    def __init__(self, open_stream: Callable[[], requests.Response], *, max_events: int = MAX_EVENTS,
                 window_s: float = WINDOW_S, clock: Callable[[], float] = time.time,
                 heartbeat_s: float = HEARTBEAT_S, max_event_bytes: int = MAX_EVENT_BYTES):
        self.open_stream = open_stream
        self.heartbeat_s, self.max_event_bytes = heartbeat_s, max_event_bytes
        self.window_s = window_s
        self.clock = clock
        self._events: deque[tuple[float, str, Event]] = deque(maxlen=max_events)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._response: requests.Response | None = None
        self._thread: threading.Thread | None = None
        self.connected = False
        self._connected = threading.Event()  # set while connected: `wait_connected`
        self.connections = 0  # streams opened so far (tests: a cut stream is reopened)
        self.changes = 0  # events of CHANGES received so far

    def start(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"marathon-events-{name}", daemon=True)
            self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def mark(self) -> tuple[int, int] | None:
        """Where the stream is now: (which connection, how many changes so far), or None while it is
        not connected. Equal marks: nothing Marathon announces changed in between."""
        with self._lock:
            return (self.connections, self.changes) if self.connected else None

    def recent(self) -> list[tuple[str, Event]]:
        """(task id, event) for the events of the last window, oldest first."""
        cutoff = self.clock() - self.window_s
        with self._lock:
            return [(task_id, event) for at, task_id, event in self._events if at >= cutoff]

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            response.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff_s = 1.0
        while not self._stop.is_set():
            try:
                self._read_one_connection()
                backoff_s = 1.0
            except Exception as exc:  # any failure: the polls still work; try again later
                log.debug("Marathon event stream failed: %s", exc)
                if self.connected:  # it was streaming: a cut for silence is no reason to wait longer
                    backoff_s = 1.0
            with self._lock:
                self.connected = False
                self._connected.clear()
            self._stop.wait(backoff_s)
            backoff_s = min(backoff_s * 2, 60.0)

    def _read_one_connection(self) -> None:
        with bounded(self.heartbeat_s, "the Marathon event stream (GET /v2/events)",
                     max_bytes=self.max_event_bytes) as budget:
            self.connections += 1
            response = self.open_stream()
            self._response = response
            try:
                if response.status_code != 200:
                    log.info("Marathon event stream answered HTTP %s; retrying later", response.status_code)
                    return
                with self._lock:
                    self.connected = True
                    self._connected.set()
                for event_type, data in parse_sse(stream_lines(response.raw, budget)):
                    if self._stop.is_set():
                        return
                    found = to_event(event_type, data, datetime.now(timezone.utc))
                    with self._lock:
                        if event_type in CHANGES:
                            self.changes += 1
                        if found is not None:
                            self._events.append((self.clock(), *found))
                if budget.expired:
                    log.info("Marathon event stream silent for %gs; reopening it", self.heartbeat_s)
            finally:
                self._response = None
                response.close()
