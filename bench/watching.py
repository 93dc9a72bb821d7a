"""What a long watch of the dashboard says: its CPU share, and whether its memory grows.

The samples come from bench/fleet_scale.py (every 5 s: seconds since the start, CPU seconds and RSS
of the dashboard's process tree). A single average hides a slow leak or a CPU cost that climbs with
the hours, so the first and the last window of the watch are set side by side, and every window's
median RSS is listed: a step early on (a collector's first periodic re-read) reads differently from a
climb that goes on to the end. Pure functions.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

# the last window's median RSS may exceed the first's by this share and still count as no growth:
# a 2 GiB Python heap moves by tens of MiB between rounds as allocations come and go
RSS_GROWTH_ALLOWED = 0.02


@dataclass(frozen=True)
class Sample:
    at_s: float  # seconds since the watch began
    cpu_s: float  # CPU seconds of the process tree, user + system
    rss_bytes: int


@dataclass(frozen=True)
class Window:
    start_s: float
    end_s: float
    cpu_share: float  # of one core
    median_rss_bytes: int


@dataclass(frozen=True)
class WatchSummary:
    seconds: float
    cpu_share: float  # of one core, over the whole watch
    peak_rss_bytes: int
    first: Window
    last: Window
    windows: list[Window]  # the whole watch, window after window (the last one may be shorter)
    late_trend_bytes_per_hour: float  # RSS's least-squares slope over the watch's second half

    @property
    def rss_growth(self) -> float:
        """The last window's median RSS over the first's, minus one."""
        return self.last.median_rss_bytes / self.first.median_rss_bytes - 1 if self.first.median_rss_bytes else 0.0

    @property
    def grows(self) -> bool:
        return self.rss_growth > RSS_GROWTH_ALLOWED


def window(samples: list[Sample]) -> Window:
    first, last = samples[0], samples[-1]
    elapsed = last.at_s - first.at_s
    return Window(start_s=first.at_s, end_s=last.at_s,
                  cpu_share=(last.cpu_s - first.cpu_s) / elapsed if elapsed > 0 else 0.0,
                  median_rss_bytes=int(statistics.median(s.rss_bytes for s in samples)))


def summarize(samples: list[Sample], window_s: float) -> WatchSummary:
    """The whole watch, and its first and last `window_s` (the whole watch each, when it is shorter)."""
    if len(samples) < 2:
        raise ValueError("a watch needs at least two samples")
    end = samples[-1].at_s
    first = [s for s in samples if s.at_s <= samples[0].at_s + window_s]
    last = [s for s in samples if s.at_s >= end - window_s]
    return WatchSummary(seconds=end - samples[0].at_s, cpu_share=window(samples).cpu_share,
                        peak_rss_bytes=max(s.rss_bytes for s in samples),
                        first=window(first if len(first) >= 2 else samples),
                        last=window(last if len(last) >= 2 else samples),
                        windows=consecutive_windows(samples, window_s),
                        late_trend_bytes_per_hour=rss_trend_per_hour([s for s in samples if s.at_s >= end / 2]))


def rss_trend_per_hour(samples: list[Sample]) -> float:
    """RSS's least-squares slope, in bytes per hour: a leak keeps climbing through the second half
    of a watch, where a step early on (a warm-up) has none. Reported beside the first-to-last growth,
    which counts both."""
    try:
        fit = statistics.linear_regression([s.at_s for s in samples], [s.rss_bytes for s in samples])
    except statistics.StatisticsError:  # fewer than two samples, or all taken at one moment
        return 0.0
    return fit.slope * 3600


def consecutive_windows(samples: list[Sample], window_s: float) -> list[Window]:
    """The watch cut into windows of `window_s` from its first sample; a tail with fewer than two
    samples joins the window before it."""
    by_window: dict[int, list[Sample]] = {}  # samples come in time order, so windows do too
    for sample in samples:
        by_window.setdefault(int((sample.at_s - samples[0].at_s) // window_s), []).append(sample)
    groups = list(by_window.values())
    if len(groups) > 1 and len(groups[-1]) < 2:
        groups[-2].extend(groups.pop())
    return [window(group) if len(group) >= 2 else window(samples) for group in groups]
