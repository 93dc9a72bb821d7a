"""The History page's week, written ahead: moments and trend points under the real clusters' names."""
from __future__ import annotations

from datetime import timedelta

from bench.history_fill import prefill
from fleet.model import utc_now
from fleet.store import SQLITE_FILE, open_sqlite


def test_days_of_rounds_end_just_before_now_under_the_given_cluster_names(tmp_path):
    clusters = [("seed-kubernetes", "kubernetes"), ("seed-nomad", "nomad")]
    heard = []
    last_id = prefill(tmp_path, clusters, days=0.01, interval_s=15, progress=lambda done, total: heard.append(done))
    store = open_sqlite(tmp_path / SQLITE_FILE)
    kept = store.list_snapshots()
    assert len(kept) == 57 and kept[-1].id == last_id and heard[-1] == 57
    assert [b.taken_at - a.taken_at for a, b in zip(kept, kept[1:])] == [timedelta(seconds=15)] * 56
    assert timedelta(0) < utc_now() - kept[-1].taken_at < timedelta(minutes=1)
    assert store.clusters() == ["seed-kubernetes", "seed-nomad"]
    assert len(store.trends("seed-nomad")) == 57
    assert store.footprint().keyframes < 57  # deltas, as the dashboard writes them
