"""Deltas between rounds: applied to the round before, they give back the next round byte for byte."""
from __future__ import annotations

import pytest

from fleet import history_codec as codec
from fleet.model import Instance, decode_snapshot, encode_snapshot
from tests.fleet.churn import rounds


def copy_of(snapshot):
    return decode_snapshot(encode_snapshot(snapshot, indent=0))


@pytest.mark.parametrize("seed", range(40))
def test_every_round_of_a_random_sequence_is_rebuilt_exactly_from_the_one_before(seed):
    sequence = list(rounds(seed, 30))
    rebuilt = copy_of(sequence[0])
    for new in sequence[1:]:
        delta = codec.read_delta(codec.delta_body(codec.diff_snapshot(rebuilt, new)))
        rebuilt = codec.apply_delta(rebuilt, delta)
        assert encode_snapshot(rebuilt, indent=0) == encode_snapshot(new, indent=0)


def test_a_round_without_changes_stores_only_the_cluster_headers():
    first = next(rounds(1, 1))
    delta = codec.diff_snapshot(first, copy_of(first))
    assert all(c.nodes is c.workloads is c.instances is c.events is None for c in delta.clusters)


def instances(*ids: str) -> list[Instance]:
    return [Instance(id=i, name=i) for i in ids]


def test_changed_items_are_named_by_position_and_only_they_are_stored():
    old, new = instances("a", "b", "c"), instances("a", "b", "c")
    new[1].restarts = 3
    assert codec.diff_list(old, new, codec.by_id) == codec.ListDelta(changed=[(1, new[1])])


def test_removed_and_added_items_keep_the_new_order_without_storing_it():
    old, new = instances("a", "b", "c", "d"), instances("x", "a", "c", "y", "d")
    delta = codec.diff_list(old, new, codec.by_id)
    assert delta.removed == [1] and [p for p, _ in delta.added] == [0, 3] and delta.order is None
    assert codec.apply_list(list(old), delta) == new


def test_reordered_items_store_the_new_order_of_positions():
    old, new = instances("a", "b", "c"), instances("c", "a", "b")
    delta = codec.diff_list(old, new, codec.by_id)
    assert delta.order == [2, 0, 1] and codec.apply_list(list(old), delta) == new


def test_a_list_with_a_repeated_id_is_stored_whole():
    old, new = instances("a", "b"), instances("a", "b", "a")
    assert codec.diff_list(old, new, codec.by_id) == codec.ListDelta(whole=new)


def test_many_removals_rebuild_the_list_the_same_as_few():
    old = instances(*[f"i{n}" for n in range(200)])
    new = [item for n, item in enumerate(old) if n % 3]
    delta = codec.diff_list(old, new, codec.by_id)
    assert len(delta.removed) > codec.REMOVE_IN_PLACE_MAX and codec.apply_list(list(old), delta) == new
