"""Every request Podium sends is bounded in time and in size, however the server paces its bytes.

A socket timeout only bounds one silent wait: a server that sends one byte a second, or its status
line and headers one byte a second, never trips it. So a request runs inside `bounded(...)`: a
watchdog thread shuts the request's sockets down when its deadline passes, which makes the blocked
read return at once (the reading thread is freed, not abandoned), and the request fails with an
`Unreachable` that says so. Bodies are read with `read_capped`, which refuses an answer larger than
the request's ceiling before holding it in memory.

Every HTTP library Podium uses (requests, the Kubernetes client, the docker SDK) sends through
urllib3's `HTTPConnection`; `collectors.urllib3_deadline` hooks it, so each connection opened or
used inside `bounded(...)` is known to that request's watchdog entry. Plain sockets of our own
(collectors/plainget.py) attach themselves with `Budget.attach_socket`. This module does not import
urllib3: a worker process that reads only with plain sockets starts without it (~0.1 s of CPU).

Streams (watches, event streams, SSE) are bounded the same way, but `renew()` their budget each
time a complete event arrives: a stream that goes silent, or drips bytes without ever completing an
event, past its heartbeat is shut down and reopened by its reader.
"""
from __future__ import annotations

import heapq
import os
import socket
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from fleet.source import SourceError, Unreachable

MIB = 1024 * 1024
# an answer bigger than this is refused (per cluster: max_answer_mib): no API page Podium reads comes
# near it, and a broken or hostile server could otherwise make the process hold gigabytes
DEFAULT_MAX_BYTES = 1024 * MIB
READ_CHUNK = MIB
# how often the watchdog looks again at an expired request whose socket is not known yet (connecting)
RECHECK_S = 0.05
# finished requests the watchdog may hold beyond twice the live ones before it drops them (see forget)
COMPACT_AFTER = 256


class AnswerTooLarge(SourceError):
    """The server's answer is bigger than the ceiling: refused before it is held in memory."""

    status = "error"


class Budget:
    """One request's (or one stream's) bounds: a deadline on the monotonic clock and a byte ceiling."""

    def __init__(self, seconds: float, what: str, max_bytes: int = DEFAULT_MAX_BYTES):
        self.seconds = seconds
        self.what = what
        self.max_bytes = max_bytes
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        # whoever runs a TLS handshake says so (`handshaking`): a cut that lands on one is named as
        # the handshake's, whatever error the cut makes the handshake raise
        self._cut_in_handshake = False
        self._handshaking = False
        self._connections: list[Any] = []
        self._sockets: list[socket.socket] = []
        self._copies: list[socket.socket] = []  # ours to close: see collectors.urllib3_deadline
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def renew(self, seconds: float | None = None) -> None:
        """A stream made progress: its clock starts again (unless it has already been cut). Cheap:
        the watchdog notices the later deadline when the earlier one comes due."""
        with self._lock:
            if self.expired:
                return
            expires_at = time.monotonic() + (self.seconds if seconds is None else seconds)
            earlier, self.expires_at = expires_at < self.expires_at, expires_at
        if earlier:  # the watchdog would otherwise sleep until the old, later deadline
            WATCHDOG.requeue(self)

    def attach_connection(self, connection: Any) -> None:
        with self._lock:
            if any(known is connection for known in self._connections):
                return
            self._connections.append(connection)
            late = self.expired
        if late:
            self.cut()

    def attach_socket(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            self.cut()

    def attach_copy(self, sock: socket.socket) -> None:
        """Keep a duplicate of a connection's socket: shutting it down ends the connection even
        after a TLS wrap has taken the original socket object over (and left it closed), or after
        an answer saying `Connection: close` has taken it from its connection (http.client)."""
        try:  # by descriptor: an SSLSocket refuses dup()
            copy = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        except OSError:
            return
        with self._lock:
            self._copies.append(copy)
        self.attach_socket(copy)

    def release(self) -> None:
        with self._lock:
            copies, self._copies = self._copies, []
        for copy in copies:
            copy.close()

    def cut(self) -> bool:
        """Shut down every socket of this request; False while one is still connecting (no socket yet)."""
        with self._lock:
            self.expired = True
            self._cut_in_handshake = self._cut_in_handshake or self._handshaking
            sockets = list(self._sockets) + [getattr(c, "sock", None) for c in self._connections]
        for sock in sockets:
            if sock is not None:
                _shutdown(sock)
        return all(sock is not None for sock in sockets)

    def overdue(self) -> Unreachable:
        if self._cut_in_handshake:
            return Unreachable(f"{self.what}: TLS handshake got no answer within {self.seconds:g}s: "
                               "is this a TLS port?")
        return Unreachable(f"{self.what} did not finish within {self.seconds:g}s "
                           "(the server is too slow, or trickles its answer)")

    @contextmanager
    def handshaking(self) -> Iterator[None]:
        """The request's TLS handshake runs inside this. A cut while it runs is the handshake's, and so
        is one that came before it began: on a busy host the deadline can pass between the TCP connect
        and the handshake's first byte, which then fails on a shut socket (a broken pipe)."""
        with self._lock:
            self._handshaking = True
            self._cut_in_handshake = self._cut_in_handshake or self.expired
        try:
            yield
        finally:
            with self._lock:
                self._handshaking = False


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on it; close() alone may not
    except OSError:
        pass  # already closed or never connected


class _Watchdog:
    """One daemon thread for the whole process: cuts each budget when its deadline passes."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, Budget]] = []
        self._live: set[int] = set()
        self._thread: threading.Thread | None = None

    def watch(self, budget: Budget) -> None:
        with self._wake:
            self._live.add(id(budget))
            heapq.heappush(self._heap, (budget.expires_at, id(budget), budget))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def requeue(self, budget: Budget) -> None:
        with self._wake:
            if id(budget) in self._live:
                heapq.heappush(self._heap, (budget.expires_at, id(budget), budget))
                self._wake.notify()

    def forget(self, budget: Budget) -> None:
        """A request finished in time. Its entry stays in the heap until its deadline comes due, unless
        finished entries outnumber live ones: then they all go at once. Under a long timeout (a
        round's reads are bounded by the poll timeout) they would otherwise pile up for minutes."""
        with self._wake:
            self._live.discard(id(budget))
            if len(self._heap) > 2 * len(self._live) + COMPACT_AFTER:
                self._heap = [entry for entry in self._heap if entry[1] in self._live]
                heapq.heapify(self._heap)

    def entries(self) -> int:
        """Budgets the watchdog still holds, live or finished (for tests)."""
        with self._wake:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                when, key, budget = self._heap[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if key not in self._live:
                    continue  # finished in time
                if budget.expires_at > when:  # renewed meanwhile: wait for its new deadline
                    heapq.heappush(self._heap, (budget.expires_at, key, budget))
                    continue
            if not budget.cut():
                with self._wake:  # still connecting: look again shortly
                    if key in self._live:
                        heapq.heappush(self._heap, (time.monotonic() + RECHECK_S, key, budget))


WATCHDOG = _Watchdog()
_active: ContextVar[Budget | None] = ContextVar("podium_request_budget", default=None)


@contextmanager
def bounded(seconds: float, what: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Budget]:
    """Run one request (connect, TLS, headers, body) within `seconds`, whatever the server does.
    `what` names the request in the error ("GET /v1/nodes on http://nomad:4646")."""
    budget = Budget(seconds, what, max_bytes)
    token = _active.set(budget)
    WATCHDOG.watch(budget)
    try:
        yield budget
    except Exception as exc:
        if budget.expired and not isinstance(exc, AnswerTooLarge):
            raise budget.overdue() from None
        raise
    finally:
        WATCHDOG.forget(budget)
        budget.release()
        _active.reset(token)


def current() -> Budget | None:
    """The budget of the request running in this thread, if any."""
    return _active.get()


@contextmanager
def tls_handshake() -> Iterator[None]:
    """Run a TLS handshake of the request running in this thread (see `Budget.handshaking`)."""
    budget = current()
    if budget is None:
        yield
        return
    with budget.handshaking():
        yield


def read_capped(response: Any, budget: Budget | None = None, *, decode_content: bool = True) -> bytes:
    """The whole body of a urllib3 response (or requests' `response.raw`), refusing more than the
    budget's ceiling: a declared Content-Length over it is refused before a byte is read."""
    budget = budget or current()
    ceiling = budget.max_bytes if budget is not None else DEFAULT_MAX_BYTES
    what = budget.what if budget is not None else "the answer"
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > ceiling:
        response.close()
        raise too_large(what, ceiling, f"it declares {int(declared) / MIB:,.0f} MiB")
    if declared is not None and declared.isdigit() and not response.headers.get("Content-Encoding"):
        # a length within the ceiling, sent as is: one read of exactly that (no chunks to join)
        return response.read(decode_content=decode_content)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = response.read(READ_CHUNK, decode_content=decode_content)
        if not chunk:
            break
        total += len(chunk)
        if total > ceiling:
            response.close()
            raise too_large(what, ceiling, "it kept coming")
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(what: str, ceiling: int, detail: str) -> AnswerTooLarge:
    return AnswerTooLarge(f"{what}: answer larger than {ceiling / MIB:,.0f} MiB refused ({detail}); "
                          "raise max_answer_mib if this cluster really needs more")
