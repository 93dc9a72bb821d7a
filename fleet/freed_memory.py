"""Hand the pages the C allocator holds free back to the system, after each round.

A round decodes hundreds of MB of JSON. What it frees afterwards is not always handed back:
glibc's allocator keeps freed chunks in its heap (and, once a large buffer has been freed, serves
buffers up to 32 MB from the heap rather than from their own mappings), so a dashboard that runs
for hours shows an RSS that climbs while the objects it holds do not. `malloc_trim(0)` hands the
heap's free pages back: 109 MB of a 2.0 GiB dashboard watching the seed fleet, in under 10 ms
(docs/dashboard.md). Where the C library has no `malloc_trim` (musl, macOS) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any


def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> bool:
    """True when the allocator handed some memory back (ctypes lets other threads run meanwhile)."""
    return bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False
