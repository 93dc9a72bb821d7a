"""A collector's helper process: runs module-level functions sent to it over a pipe, one at a time.

Started as a fresh interpreter (`python -c`), never forked from a process with running threads.
Not multiprocessing's spawn: that re-runs the parent's `__main__` script in the child, and under
Streamlit `__main__` is the dashboard script itself. Frames both ways are a header (request id,
length) and a pickle: requests `(function, args)`, answers `(ok, result or exception)`. Only our
own processes are at either end of the pipe. The process ends when its stdin closes.

Between rounds a worker sits idle for seconds to minutes, so once it has had nothing to do for a
moment it hands the memory its last tasks freed back to the system (`IdleTrim`).
"""
from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
from typing import Any, BinaryIO

HEADER = struct.Struct("!QQ")  # request id, payload length
READY = 0  # the id of the frame the worker sends once it is up
IDLE_BEFORE_TRIM_S = 2.0  # no task for this long: the tasks of this round are over


def write_frame(stream: BinaryIO, request_id: int, payload: bytes) -> None:
    stream.write(HEADER.pack(request_id, len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """The next frame, or None at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    request_id, length = HEADER.unpack(header)
    payload = stream.read(length)
    return (request_id, payload) if len(payload) == length else None


def answer(fn: Any, args: tuple) -> bytes:
    try:
        return pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # the caller decides what a failed task means
        try:
            return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class IdleTrim:
    """Once no task has run for IDLE_BEFORE_TRIM_S after the last one, hand the memory the C
    allocator holds free back to the system (fleet/freed_memory.py), once per idle spell. A worker
    that digested a 250 MB relist otherwise keeps that peak's pages for the rest of its life, and
    a later, bigger relist raises it again. Tasks never wait for it: it runs in its own thread,
    and the trim itself lets other threads run."""

    def __init__(self, idle_s: float = IDLE_BEFORE_TRIM_S) -> None:
        self.idle_s = idle_s
        self._changed = threading.Condition()
        self._busy = False
        self._owed = False  # a task ended since the last trim
        threading.Thread(target=self._run, name="idle-trim", daemon=True).start()

    def task_started(self) -> None:
        with self._changed:
            self._busy = True
            self._changed.notify()

    def task_ended(self) -> None:
        with self._changed:
            self._busy, self._owed = False, True
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._owed and not self._busy)
                if self._changed.wait_for(lambda: self._busy, timeout=self.idle_s):
                    continue  # another task came: wait until it ends
                self._owed = False
            from fleet.freed_memory import release_freed_memory  # here: not on the worker's start path

            release_freed_memory()


def main() -> None:
    frames_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot corrupt the frames
    frames_in = sys.stdin.buffer
    idle = IdleTrim()
    write_frame(frames_out, READY, b"")
    while (frame := read_frame(frames_in)) is not None:
        request_id, payload = frame
        idle.task_started()
        reply = answer(*pickle.loads(payload))
        del frame, payload
        write_frame(frames_out, request_id, reply)
        del reply  # nothing of the task is left for the trim to keep
        idle.task_ended()


if __name__ == "__main__":
    main()
