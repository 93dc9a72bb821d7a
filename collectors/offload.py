"""Work on the second core: a helper process per collector, and big lists digested there.

Decoding a page of JSON and digesting its items is pure CPU under the GIL: at 100,000+ items
that is most of a first collection, on one core while the other idles. So when a list is big,
the collector starts one worker process (`collectors.worker`: a fresh interpreter, never
forked from a process with running threads) and hands it raw pages as they arrive; the worker sends back its digest,
msgpack-encoded (about a microsecond a row to read back). Whenever the worker already has
`IN_FLIGHT` pages queued, the collector's own thread digests the page itself, so both cores
stay busy; digests come back in the order the pages were given. If the worker cannot start or
dies, the pages it held are digested inline and the collector carries on without it.
No credentials or connections go to the worker: only page bytes (and plain arguments) in,
digests out.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

import msgspec

from collectors.toolkit import paused_gc
from collectors.worker import READY, read_frame, write_frame

log = logging.getLogger(__name__)
IN_FLIGHT = 8  # pages queued at the worker (~1-2 MB each) before the collector's thread digests one itself
SPILL_DIR = "/dev/shm"  # tmpfs: pages handed to the worker as files here, never written to a disk
SPILL_MIN_BYTES = 256 * 1024  # smaller pages go through the pipe
Digest = TypeVar("Digest")
_encoder = msgspec.msgpack.Encoder()


def _digest_encoded(digest: Callable[..., Any], data: bytes, args: tuple) -> bytes:
    """The worker's task: its objects hold no cycles, so the cyclic GC need not scan them."""
    with paused_gc():
        return _encoder.encode(digest(data, *args))


def _digest_spilled(digest: Callable[..., Any], path: str, args: tuple) -> bytes:
    """The worker's task for a page handed over as a file in shared memory (see `spill`)."""
    with open(path, "rb") as page:
        data = page.read()
    remove(path)
    return _digest_encoded(digest, data, args)


def spill(data: bytes) -> str | None:
    """A big page as a private file in shared memory, for the worker to read: a pipe moves
    about 0.4 GB a second between two processes (a 150,000-task swarm's 250 MB took 0.7 s), a
    tmpfs file is one copy each way. None when there is no such place (the pipe then)."""
    try:
        descriptor, path = tempfile.mkstemp(prefix=f"podium-page-{os.getpid()}-", dir=SPILL_DIR)  # mode 0600
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "wb") as page:
            page.write(data)
    except OSError:
        remove(path)
        return None
    return path


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


ROOT = Path(__file__).resolve().parents[1]  # the worker imports `collectors` from here, wherever it was started
_LAUNCH = "import sys; sys.path.insert(0, {root!r}); from collectors.worker import main; main()"
WAIT_ON_CLOSE_S = 5.0
START_WAIT_S = 30.0
# how long a page's digest is waited for when the caller states no budget
ANSWER_WAIT_S = 60.0


def _imported(*functions: Callable[..., Any]) -> None:
    """Nothing: receiving the functions has imported their modules in the worker."""


class WorkerGone(RuntimeError):
    """The worker process ended (or never started, or did not answer in time) before it answered."""


class _Process:
    """One worker process and the tasks it still owes an answer for."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.started: Future[bool] = Future()
        self.pending: dict[int, Future] = {}
        self.outbox: queue.SimpleQueue[tuple[int, bytes] | None] = queue.SimpleQueue()
        self.warmed: Future | None = None  # the modules of `Worker.preload` imported there


class Worker:
    """One helper process of a collector (`collectors.worker`), started on first need and kept
    until `close`. `run(fn, *args)` runs a module-level function there (the worker imports it by
    name) and gives a Future of its result; None when the worker is not available, so the caller
    does the work itself. Requests are written by a thread of their own, so a caller handing
    over a big page never waits for the worker to read it. `answer(future, within_s)` waits for
    a result no longer than the caller's budget: a worker that overruns it is killed, and the
    next `start` brings up a fresh one."""

    def __init__(self, what: str):
        self.what = what
        self._current: _Process | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.broken = False
        # functions whose modules a fresh worker imports before it counts as up: a first page
        # would otherwise wait for those imports while this process could digest it
        self.preload: tuple[Callable[..., Any], ...] = ()

    def start(self, *, wait: bool = False) -> None:
        """Start the worker (once); `wait` until it is up (tests: so it surely takes the work)."""
        fresh = None
        with self._lock:
            if self._current is None and not self.broken:
                try:
                    popen = subprocess.Popen([sys.executable, "-c", _LAUNCH.format(root=str(ROOT))],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                except (OSError, ValueError) as exc:
                    self.give_up(exc)
                else:
                    self._current = fresh = _Process(popen)
                    threading.Thread(target=self._read, args=(self._current,), daemon=True,
                                     name=f"worker-read:{self.what}").start()
                    threading.Thread(target=self._write, args=(self._current,), daemon=True,
                                     name=f"worker-write:{self.what}").start()
            current = self._current
        if fresh is not None and self.preload:
            fresh.warmed = self.run(_imported, *self.preload)
        if wait and current is not None:
            try:
                current.started.result(START_WAIT_S)
                if current.warmed is not None:
                    current.warmed.result(START_WAIT_S)
            except Exception as exc:  # the worker could not start (or not in time)
                self.give_up(exc)

    @property
    def up(self) -> bool:
        current = self._current
        return (not self.broken and current is not None and current.started.done()
                and current.started.exception() is None and (current.warmed is None or current.warmed.done()))

    def run(self, fn: Callable[..., Any], *args: Any) -> Future | None:
        with self._lock:
            current = self._current
            if current is None or self.broken:
                return None
            request_id, future = next(self._ids), Future()
            current.pending[request_id] = future
        try:
            payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # not a module-level function, or arguments that do not pickle
            with self._lock:
                current.pending.pop(request_id, None)
            future.set_exception(exc)
            return future
        current.outbox.put((request_id, payload))
        return future

    def answer(self, future: Future, within_s: float) -> Any:
        """The result of a task run here, waited for at most `within_s` (the caller's remaining
        budget). A worker that does not answer in time is killed: what it held fails with
        WorkerGone, and the next `start` brings up a fresh process."""
        try:
            return future.result(timeout=max(0.0, within_s))
        except FutureTimeout:
            raise self.abandon(f"did not answer within {within_s:g}s") from None

    def abandon(self, why: str) -> WorkerGone:
        """Kill the current worker process; the next `start` brings up a fresh one."""
        exc = WorkerGone(f"the {self.what} worker {why}: stopped it (a fresh one starts on next use)")
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            log.warning("%s", exc)
            current.outbox.put(None)
            current.popen.kill()
            try:
                current.popen.wait(timeout=WAIT_ON_CLOSE_S)  # reaped, not left a zombie
            except subprocess.TimeoutExpired:
                log.warning("the %s worker (pid %s) did not end when killed", self.what, current.popen.pid)
            self._settle(current, exc)
        return exc

    def _write(self, current: _Process) -> None:
        """The only writer to the worker's stdin; closes it at `close` (the worker then ends)."""
        try:
            while (item := current.outbox.get()) is not None:
                write_frame(current.popen.stdin, *item)  # type: ignore[arg-type]
            current.popen.stdin.close()  # type: ignore[union-attr]
        except (OSError, ValueError) as exc:
            self._ended(current, WorkerGone(f"the {self.what} worker stopped reading: {exc}"))

    def _read(self, current: _Process) -> None:
        while (frame := read_frame(current.popen.stdout)) is not None:  # type: ignore[arg-type]
            request_id, payload = frame
            if request_id == READY:
                if not current.started.done():
                    current.started.set_result(True)
                continue
            with self._lock:
                future = current.pending.pop(request_id, None)
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
        self._ended(current, WorkerGone(f"the {self.what} worker process ended (exit status {current.popen.poll()})"))

    def _ended(self, current: _Process, exc: BaseException) -> None:
        """A worker process is gone: if it is still this worker's, the worker is broken (the
        caller does the work itself from now on); every caller it owed an answer hears so."""
        if current is self._current:
            self.give_up(exc)  # first: whoever hears of it below finds the worker broken
        self._settle(current, exc)

    def _settle(self, current: _Process, exc: BaseException) -> None:
        with self._lock:
            pending, current.pending = list(current.pending.values()), {}
        if not current.started.done():
            current.started.set_exception(exc)
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
            current, self._current = self._current, None
            closing = not self.broken
            self.broken = True  # a closed worker takes no more work; what it held is read here
        if current is None:
            return
        current.outbox.put(None)  # the writer closes the worker's stdin after what it still holds
        try:
            current.popen.wait(timeout=WAIT_ON_CLOSE_S if closing else 0.5)
        except subprocess.TimeoutExpired:  # busy or hung: it is not needed any more
            current.popen.kill()
            current.popen.wait()
        self._settle(current, WorkerGone(f"the {self.what} worker was closed"))


class Offload(Worker, Generic[Digest]):
    """A worker that digests pages of a big list. `digest(data, *args)` must be a module-level
    pure function returning a `result_type`, the same in the worker and inline."""

    def __init__(self, digest: Callable[..., Digest], result_type: type[Digest], min_items: int, what: str,
                 *, in_flight: int = IN_FLIGHT):
        super().__init__(what)
        self.digest, self.min_items, self.in_flight = digest, min_items, in_flight
        self.preload = (digest,)
        self._decoder = msgspec.msgpack.Decoder(result_type)
        self.pages_offloaded = 0  # for tests and the bench

    def worth(self, items: int) -> bool:
        return not self.broken and items >= self.min_items

    def has_room(self, queued: int) -> bool:
        """The worker is up and has fewer than `in_flight` pages waiting."""
        return self.up and queued < self.in_flight

    def submit(self, data: bytes, *args: Any) -> Future[bytes] | None:
        if not self.up:
            return None
        spilled = spill(data) if len(data) >= SPILL_MIN_BYTES else None
        if spilled is None:
            future = self.run(_digest_encoded, self.digest, data, args)
        else:
            future = self.run(_digest_spilled, self.digest, spilled, args)
            if future is not None:  # removed once answered, or once the worker is gone
                future.add_done_callback(lambda _: remove(spilled))
            else:
                remove(spilled)
        if future is not None:
            self.pages_offloaded += 1
        return future

    def collect(self, future: Future[bytes] | None, data: bytes, *args: Any,
                within_s: float = ANSWER_WAIT_S) -> Digest:
        """The digest of a page handed to the worker, waited for at most `within_s`; digested
        here if the worker failed or overran (then it is replaced by a fresh one next time)."""
        if future is not None:
            try:
                return self._decoder.decode(self.answer(future, within_s))
            except WorkerGone:  # it ended (then it is given up) or overran (then it was stopped)
                pass
            except Exception as exc:  # the worker sent garbage: do it here
                self.give_up(exc)
        return self.digest(data, *args)

    def pages(self, *args: Any, within_s: float = ANSWER_WAIT_S) -> "SharedPages[Digest]":
        """One list's pages, shared between the worker and the caller's thread, in order; each
        page's digest is waited for at most `within_s`."""
        return SharedPages(self, args, within_s)


@dataclass
class _AtWorker:
    future: Future[bytes]
    data: bytes  # digested here should the worker fail
    args: tuple


class SharedPages(Generic[Digest]):
    """Pages given one by one: each goes to the worker when it has room, else is digested here at
    once while the worker works on its own; `add` and `finish` hand back the digests that are
    ready, in page order. A page's own arguments (`add(data, *page_args)`) follow the list's."""

    def __init__(self, offload: Offload[Digest], args: tuple, within_s: float = ANSWER_WAIT_S):
        self.offload, self.args, self.within_s = offload, args, within_s
        # in page order: a page at the worker (its future, and what to digest here should it fail),
        # or a page digested here, waiting for the worker's pages before it
        self.queued: deque[_AtWorker | Digest] = deque()
        self.at_worker = 0

    def add(self, data: bytes, *page_args: Any) -> list[Digest]:
        args = self.args + page_args
        future = self.offload.submit(data, *args) if self.offload.has_room(self.at_worker) else None
        if future is not None:
            self.queued.append(_AtWorker(future, data, args))
            self.at_worker += 1
        else:
            self.queued.append(self.offload.digest(data, *args))
        return self._drain(everything=False)

    def finish(self) -> list[Digest]:
        return self._drain(everything=True)

    def _drain(self, *, everything: bool) -> list[Digest]:
        ready = []
        while self.queued:
            head = self.queued[0]
            if not isinstance(head, _AtWorker):
                ready.append(self.queued.popleft())
                continue
            if not (everything or head.future.done()):
                break
            self.queued.popleft()
            self.at_worker -= 1
            ready.append(self.offload.collect(head.future, head.data, *head.args, within_s=self.within_s))
        return ready
