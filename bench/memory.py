"""Peak memory of the process a benchmark runs its client in."""
from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's own peak RSS. VmHWM starts afresh at exec; ru_maxrss is carried across exec
    on Linux, so a child would report the (large) parent's peak, e.g. an emulator warmed with big lists."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
