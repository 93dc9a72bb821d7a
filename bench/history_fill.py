"""Days of history written before the dashboard starts, so the History page meets a full week.

The rounds are a small fleet's under the names of the real fleet's clusters, `interval_s` apart up
to now, written through the real store (keyframes, deltas, trend points, retention as the
dashboard's defaults), so the page lists and thins as many moments and trend points as a week of
the real fleet leaves. Their bodies are small: the bytes a week of the seed fleet takes are
bench/history_scale.py's to measure; the page reads only the two moments it compares.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import msgspec

from bench.synthetic import synthetic_cluster
from fleet.model import Snapshot, utc_now
from fleet.store import SQLITE_FILE, open_sqlite


def prefill(history_dir: Path, clusters: list[tuple[str, str]], days: float, interval_s: float,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Write `days` of rounds of (name, orchestrator) clusters ending `interval_s` ago; the last id written."""
    store = open_sqlite(history_dir / SQLITE_FILE)
    base = Snapshot(taken_at=utc_now(), clusters=[
        msgspec.structs.replace(synthetic_cluster(name, 3, 2, seed=index), orchestrator=orchestrator)
        for index, (name, orchestrator) in enumerate(clusters)])
    rounds, now, last_id, reported = int(days * 86_400 / interval_s), utc_now(), 0, time.monotonic()
    for index in range(rounds):
        taken_at = now - timedelta(seconds=interval_s * (rounds - index))
        last_id = store.save(msgspec.structs.replace(
            base, taken_at=taken_at, clusters=[msgspec.structs.replace(c, collected_at=taken_at) for c in base.clusters]))
        if progress is not None and (time.monotonic() - reported > 10 or index + 1 == rounds):
            progress(index + 1, rounds)
            reported = time.monotonic()
    return last_id
