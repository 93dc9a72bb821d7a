"""Two paths timed on a noisy shared machine: interleaved pairs, each ratio from one pair.

A first collection takes about a second and the machine's speed drifts by tens of percent over a
minute, so timing one path three times and then the other once compares different machines. Here
each pair runs the baseline right after Podium, both see the same minute, and the printed ratio is
the median of the pairs' ratios (as bench/marathon_scale.py does). Each run is a dict with its
`seconds`, from a fresh child process.
"""
from __future__ import annotations

import statistics
from typing import Any, Callable

Run = dict[str, Any]


def interleaved(podium: Callable[[], Run], baseline: Callable[[], Run] | None, pairs: int) -> tuple[list[Run], list[Run]]:
    """`pairs` runs of each, alternating (Podium first); no baseline runs when it is None."""
    podium_runs: list[Run] = []
    baseline_runs: list[Run] = []
    for _ in range(pairs):
        podium_runs.append(podium())
        if baseline is not None:
            baseline_runs.append(baseline())
    return podium_runs, baseline_runs


def median_run(runs: list[Run]) -> Run:
    """The run of median seconds (the upper one of an even count), with every run's seconds in order."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[len(ordered) // 2], "all_seconds": [r["seconds"] for r in runs]}


def pair_ratios(podium_runs: list[Run], baseline_runs: list[Run]) -> list[float]:
    """Baseline seconds over Podium's, pair by pair, smallest first."""
    return sorted(b["seconds"] / p["seconds"] for p, b in zip(podium_runs, baseline_runs))


def ratio_text(ratios: list[float]) -> str:
    each = ", ".join(f"{r:.2f}" for r in ratios)  # two decimals: a verdict near the target needs them
    return f"{statistics.median(ratios):.2f}x faster (median of {len(ratios)} interleaved pairs: {each})"
