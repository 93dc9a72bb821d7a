"""One reference-counted pause of the cyclic garbage collector, for every part that builds many
acyclic objects at once (decoded pages, model rows, an analysis' results), from any thread; and a
log line for each pass of it long enough to stall the dashboard."""
from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)
# a pass of the cyclic GC holds the interpreter lock throughout: every page, API answer and round
# waits for it (a full pass over the seed fleet's heap took 1-2 s when measured)
SLOW_PASS_S = 0.5


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


class _SlowPasses:
    """A `gc.callbacks` entry: times each pass and logs the ones over `threshold_s`."""

    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        took, self._started = time.perf_counter() - self._started, None
        if took >= self.threshold_s:
            log.warning("garbage collection of generation %d stopped every thread for %.2f s (%d objects "
                        "freed, %d uncollectable)", info.get("generation", -1), took, info.get("collected", 0),
                        info.get("uncollectable", 0))


def report_slow_passes(threshold_s: float = SLOW_PASS_S) -> None:
    """Log every pass of the cyclic GC that takes `threshold_s` or longer; once per process."""
    if not any(isinstance(callback, _SlowPasses) for callback in gc.callbacks):
        gc.callbacks.append(_SlowPasses(threshold_s))
