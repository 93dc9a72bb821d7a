"""Work on the second core: a helper process per collector, and big lists digested there.

Decoding a page of JSON and digesting its items is pure CPU under the GIL: at 100,000+ items
that is most of a first collection, on one core while the other idles. So when a list is big,
the collector starts one worker process (`collectors.worker`: a fresh interpreter, never
forked from a process with running threads) and hands it raw pages as they arrive; the worker sends back its digest,
msgpack-encoded (about a microsecond a row to read back). Whenever the worker already has
`IN_FLIGHT` pages queued, the collector's own thread digests the page itself, so both cores
stay busy, and pages come back in the order they were given. If the worker cannot start or
dies, the pages it held are digested inline and the collector carries on without it.
No credentials or connections go to the worker: only page bytes (and plain arguments) in,
digests out.
"""
from __future__ import annotations

import itertools
import logging
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

import msgspec

from collectors.toolkit import paused_gc
from collectors.worker import READY, read_frame, write_frame

log = logging.getLogger(__name__)
IN_FLIGHT = 8  # pages queued at the worker (~1-2 MB each) before the collector's thread digests one itself
Digest = TypeVar("Digest")
_encoder = msgspec.msgpack.Encoder()


def _digest_encoded(digest: Callable[..., Any], data: bytes, args: tuple) -> bytes:
    """The worker's task: its objects hold no cycles, so the cyclic GC need not scan them."""
    with paused_gc():
        return _encoder.encode(digest(data, *args))


ROOT = Path(__file__).resolve().parents[1]  # the worker imports `collectors` from here, wherever it was started
_LAUNCH = "import sys; sys.path.insert(0, {root!r}); from collectors.worker import main; main()"
WAIT_ON_CLOSE_S = 5.0


class WorkerGone(RuntimeError):
    """The worker process ended (or never started) before it answered."""


class Worker:
    """One helper process of a collector (`collectors.worker`), started on first need and kept
    until `close`. `run(fn, *args)` runs a module-level function there (the worker imports it by
    name) and gives a Future of its result; None when the worker is not available, so the caller
    does the work itself. Requests are written by a thread of their own, so a caller handing
    over a big page never waits for the worker to read it."""

    def __init__(self, what: str):
        self.what = what
        self._process: subprocess.Popen | None = None
        self._started: Future[bool] | None = None
        self._pending: dict[int, Future] = {}
        self._outbox: queue.SimpleQueue[tuple[int, bytes] | None] = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.broken = False

    def start(self, *, wait: bool = False) -> None:
        """Start the worker (once); `wait` until it is up (tests: so it surely takes the work)."""
        with self._lock:
            if self._process is None and not self.broken:
                try:
                    self._process = subprocess.Popen([sys.executable, "-c", _LAUNCH.format(root=str(ROOT))],
                                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                except (OSError, ValueError) as exc:
                    self.give_up(exc)
                else:
                    self._started = Future()
                    threading.Thread(target=self._read, args=(self._process,), daemon=True,
                                     name=f"worker-read:{self.what}").start()
                    threading.Thread(target=self._write, args=(self._process,), daemon=True,
                                     name=f"worker-write:{self.what}").start()
            started = self._started
        if wait and started is not None:
            try:
                started.result()
            except Exception as exc:  # the worker could not start
                self.give_up(exc)

    @property
    def up(self) -> bool:
        started = self._started
        return not self.broken and started is not None and started.done() and started.exception() is None

    def run(self, fn: Callable[..., Any], *args: Any) -> Future | None:
        with self._lock:
            if self._process is None or self.broken:
                return None
            request_id, future = next(self._ids), Future()
            self._pending[request_id] = future
        try:
            payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # not a module-level function, or arguments that do not pickle
            with self._lock:
                self._pending.pop(request_id, None)
            future.set_exception(exc)
            return future
        self._outbox.put((request_id, payload))
        return future

    def _write(self, process: subprocess.Popen) -> None:
        """The only writer to the worker's stdin; closes it at `close` (the worker then ends)."""
        try:
            while (item := self._outbox.get()) is not None:
                write_frame(process.stdin, *item)  # type: ignore[arg-type]
            process.stdin.close()  # type: ignore[union-attr]
        except (OSError, ValueError) as exc:
            self._fail(WorkerGone(f"the {self.what} worker stopped reading: {exc}"))

    def _read(self, process: subprocess.Popen) -> None:
        while (frame := read_frame(process.stdout)) is not None:  # type: ignore[arg-type]
            request_id, payload = frame
            if request_id == READY:
                self._started.set_result(True)  # type: ignore[union-attr]
                continue
            with self._lock:
                future = self._pending.pop(request_id, None)
            if future is None:
                continue
            try:
                ok, value = pickle.loads(payload)
            except Exception as exc:
                future.set_exception(exc)
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._fail(WorkerGone(f"the {self.what} worker process ended (exit status {process.poll()})"))

    def _fail(self, exc: BaseException) -> None:
        """The worker is gone: every waiting caller hears so, and does the work itself."""
        self.give_up(exc)  # first: whoever hears of it below finds the worker broken
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
            started = self._started
        if started is not None and not started.done():
            started.set_exception(exc)
        for future in pending:
            if not future.done():
                future.set_exception(exc)

    def give_up(self, exc: BaseException) -> None:
        if not self.broken:
            log.warning("%s worker process unavailable (%s: %s); doing that work in this process",
                        self.what, type(exc).__name__, exc)
        self.broken = True

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            closing = not self.broken
            self.broken = True  # a closed worker takes no more work; what it held is read here
        if process is None:
            return
        self._outbox.put(None)  # the writer closes the worker's stdin after what it still holds
        try:
            process.wait(timeout=WAIT_ON_CLOSE_S if closing else 0.5)
        except subprocess.TimeoutExpired:  # busy or hung: it is not needed any more
            process.kill()
            process.wait()


class Offload(Worker, Generic[Digest]):
    """A worker that digests pages of a big list. `digest(data, *args)` must be a module-level
    pure function returning a `result_type`, the same in the worker and inline."""

    def __init__(self, digest: Callable[..., Digest], result_type: type[Digest], min_items: int, what: str):
        super().__init__(what)
        self.digest, self.min_items = digest, min_items
        self._decoder = msgspec.msgpack.Decoder(result_type)
        self.pages_offloaded = 0  # for tests and the bench

    def worth(self, items: int) -> bool:
        return not self.broken and items >= self.min_items

    def has_room(self, queued: int) -> bool:
        """The worker is up and has fewer than IN_FLIGHT pages waiting."""
        return self.up and queued < IN_FLIGHT

    def submit(self, data: bytes, *args: Any) -> Future[bytes] | None:
        future = self.run(_digest_encoded, self.digest, data, args)
        if future is not None:
            self.pages_offloaded += 1
        return future

    def collect(self, future: Future[bytes] | None, data: bytes, *args: Any) -> Digest:
        """The digest of a page handed to the worker; digested here if the worker failed."""
        if future is not None:
            try:
                return self._decoder.decode(future.result())
            except Exception as exc:  # the worker died or sent garbage: do it here
                self.give_up(exc)
        return self.digest(data, *args)

    def pages(self, *args: Any) -> "SharedPages[Digest]":
        """One list's pages, shared between the worker and the caller's thread, in order."""
        return SharedPages(self, args)


class SharedPages(Generic[Digest]):
    """Pages given one by one: each goes to the worker when it has room, else is digested here
    (after the pages the worker holds, so the order is kept). `add` and `finish` hand back the
    digests that are ready, in page order."""

    def __init__(self, offload: Offload[Digest], args: tuple):
        self.offload, self.args = offload, args
        self.queued: deque[tuple[Future[bytes] | None, bytes]] = deque()

    def add(self, data: bytes) -> list[Digest]:
        ready = self._drain(everything=False)
        future = self.offload.submit(data, *self.args) if self.offload.has_room(len(self.queued)) else None
        if future is not None:
            self.queued.append((future, data))
            return ready
        ready += self._drain(everything=True)
        ready.append(self.offload.digest(data, *self.args))
        return ready

    def finish(self) -> list[Digest]:
        return self._drain(everything=True)

    def _drain(self, *, everything: bool) -> list[Digest]:
        ready = []
        while self.queued and (everything or self.queued[0][0] is None or self.queued[0][0].done()):
            future, data = self.queued.popleft()
            ready.append(self.offload.collect(future, data, *self.args))
        return ready
