"""A collector's helper process: runs module-level functions sent to it over a pipe, one at a time.

Started as a fresh interpreter (`python -c`), never forked from a process with running threads.
Not multiprocessing's spawn: that re-runs the parent's `__main__` script in the child, and under
Streamlit `__main__` is the dashboard script itself. Frames both ways are a header (request id,
length) and a pickle: requests `(function, args)`, answers `(ok, result or exception)`. Only our
own processes are at either end of the pipe. The process ends when its stdin closes.
"""
from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

HEADER = struct.Struct("!QQ")  # request id, payload length
READY = 0  # the id of the frame the worker sends once it is up


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


def main() -> None:
    frames_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot corrupt the frames
    frames_in = sys.stdin.buffer
    write_frame(frames_out, READY, b"")
    while (frame := read_frame(frames_in)) is not None:
        request_id, payload = frame
        fn, args = pickle.loads(payload)
        write_frame(frames_out, request_id, answer(fn, args))


if __name__ == "__main__":
    main()
