"""A week of rounds on the History page: the store hands out thinned moments and trend points."""
from __future__ import annotations

from datetime import timedelta

from fleet.store import evenly
from tests.fleet.snapshot_builder import T0, ClusterBuilder, snapshot


def moment(minutes: int, ready: int):
    builder = ClusterBuilder(name="prod").nodes_named(*[f"n{i}" for i in range(ready)])
    return snapshot(builder.build(), taken_at=T0 + timedelta(minutes=minutes))


def test_evenly_keeps_the_newest_and_spaces_the_rest():
    rows = list(range(100))
    assert evenly(rows, 10, 2) == [0, 12, 24, 36, 49, 61, 73, 85, 98, 99]
    assert evenly(rows, None, 2) == rows and evenly(rows[:5], 10, 2) == rows[:5]


def test_listing_and_trends_are_thinned_oldest_first_with_the_newest(backend):
    store = backend.open()
    for minutes in range(12):
        store.save(moment(minutes, ready=1 + minutes % 3))
    every = store.list_snapshots()
    few = store.list_snapshots(most=5)
    assert len(few) == 5 and few[-2:] == every[-2:] and few[0] == every[0]
    assert [s.taken_at for s in few] == sorted(s.taken_at for s in few)
    points = store.trends("prod", most=4)
    assert len(points) == 4 and points[-1] == store.trends("prod")[-1]
    assert [p.nodes_total for p in points] == [1, 1, 2, 3]  # minutes 0, 3, 7 and the newest, 11
    assert store.span() == (12, every[0].taken_at, every[-1].taken_at)


def test_an_empty_store_spans_nothing(backend):
    assert backend.open().span() == (0, None, None)
