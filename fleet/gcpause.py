"""One reference-counted pause of the cyclic garbage collector, for every part that builds many
acyclic objects at once (decoded pages, model rows, an analysis' results), from any thread."""
from __future__ import annotations

import gc
import threading
from typing import Any


class _PausedGc:
    """Building a round's many acyclic objects (decoded pages, model rows) without the cyclic GC
    rescanning them each time a few thousand more exist; reference counting still frees memory.
    Reference-counted across threads: the GC comes back on when the last concurrent pause ends,
    and only if it was on before the first began."""

    _lock = threading.Lock()
    _pauses = 0
    _was_enabled = False

    def __enter__(self) -> None:
        with _PausedGc._lock:
            if _PausedGc._pauses == 0:
                _PausedGc._was_enabled = gc.isenabled()
                gc.disable()
            _PausedGc._pauses += 1

    def __exit__(self, *exc: Any) -> None:
        with _PausedGc._lock:
            _PausedGc._pauses -= 1
            if _PausedGc._pauses == 0 and _PausedGc._was_enabled:
                gc.enable()


def paused_gc() -> _PausedGc:
    return _PausedGc()
