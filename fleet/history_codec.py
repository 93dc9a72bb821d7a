"""A stored round as the changes from the round before it, so history grows with churn, not fleet size.

A delta names items by their position in the parent round (the round it was computed against), so
rebuilding never needs keys: change items in place, drop the removed ones (or reorder the kept ones
when the collector's order changed), insert the added ones at their final positions. Nodes,
workloads and instances are matched by id, events by their whole content (they have no id), clusters
by name; a list with a repeated key is stored whole. Rebuilding keyframe + deltas gives back the
exact snapshot that was saved: `encode_snapshot` of both is byte for byte the same.
"""
from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any, Callable, Generic, TypeVar

import msgspec

from fleet.model import Cluster, Event, Instance, Node, Snapshot, Workload, decode_snapshot

T = TypeVar("T")

FULL_LEVEL = 1  # keyframes are big: the fast level; they are a small share of the bytes kept
DELTA_LEVEL = 6
REMOVE_IN_PLACE_MAX = 32  # more removals than this: rebuild the list once rather than shift it each time


class ListDelta(msgspec.Struct, Generic[T], kw_only=True, omit_defaults=True):
    changed: list[tuple[int, T]] = []  # (position in the parent list, new value)
    removed: list[int] = []  # positions in the parent list
    order: list[int] | None = None  # the kept parent positions in their new order, when it changed
    added: list[tuple[int, T]] = []  # (position in the new list, value), ascending
    whole: list[T] | None = None  # the new list, when its keys are not unique


class ClusterDelta(msgspec.Struct, kw_only=True, omit_defaults=True):
    header: Cluster  # the cluster without its lists (status, summary, ...): small, kept every round
    parent: int | None = None  # position of the same cluster in the parent round; None: new, lists whole
    nodes: ListDelta[Node] | None = None  # None: unchanged
    workloads: ListDelta[Workload] | None = None
    instances: ListDelta[Instance] | None = None
    events: ListDelta[Event] | None = None


class SnapshotDelta(msgspec.Struct, kw_only=True):
    taken_at: datetime
    clusters: list[ClusterDelta]


LISTS = ("nodes", "workloads", "instances", "events")
_encoder = msgspec.json.Encoder()
_delta_decoder = msgspec.json.Decoder(SnapshotDelta)


def by_id(item: Any) -> str:
    return item.id


def by_content(item: Any) -> bytes:
    return _encoder.encode(item)


KEYS: dict[str, Callable[[Any], Any]] = {"nodes": by_id, "workloads": by_id, "instances": by_id, "events": by_content}


# -- computing a delta -----------------------------------------------------------------------------


def diff_list(old: list[T], new: list[T], key: Callable[[T], Any]) -> ListDelta[T] | None:
    """What turns `old` into `new`; None when they are equal."""
    if old == new:
        return None
    old_keys, new_keys = [key(x) for x in old], [key(x) for x in new]
    if old_keys == new_keys:  # the usual round: same items, a few changed values
        return ListDelta(changed=[(i, b) for i, (a, b) in enumerate(zip(old, new)) if a != b])
    where = {k: i for i, k in enumerate(old_keys)}
    if len(where) != len(old_keys) or len(set(new_keys)) != len(new_keys):
        return ListDelta(whole=list(new))
    changed: list[tuple[int, T]] = []
    added: list[tuple[int, T]] = []
    kept: list[int] = []
    for position, (k, item) in enumerate(zip(new_keys, new)):
        i = where.get(k)
        if i is None:
            added.append((position, item))
            continue
        kept.append(i)
        if old[i] != item:
            changed.append((i, item))
    in_order = all(a < b for a, b in zip(kept, kept[1:]))
    kept_set = set(kept)
    return ListDelta(changed=changed, added=added, order=None if in_order else kept,
                     removed=[i for i in range(len(old)) if i not in kept_set] if in_order else [])


def header_of(cluster: Cluster) -> Cluster:
    return msgspec.structs.replace(cluster, nodes=[], workloads=[], instances=[], events=[])


def diff_snapshot(old: Snapshot, new: Snapshot) -> SnapshotDelta:
    names: dict[str, int] = {}
    for i, cluster in enumerate(old.clusters):
        names.setdefault(cluster.name, i)
    unique = len(names) == len(old.clusters) and len({c.name for c in new.clusters}) == len(new.clusters)
    clusters = []
    for cluster in new.clusters:
        parent = names.get(cluster.name) if unique else None
        if parent is None:
            lists = {name: ListDelta(whole=getattr(cluster, name)) for name in LISTS}
        else:
            lists = {name: diff_list(getattr(old.clusters[parent], name), getattr(cluster, name), KEYS[name])
                     for name in LISTS}
        clusters.append(ClusterDelta(header=header_of(cluster), parent=parent, **lists))
    return SnapshotDelta(taken_at=new.taken_at, clusters=clusters)


# -- applying a delta ------------------------------------------------------------------------------


def apply_list(items: list[T], delta: ListDelta[T] | None) -> list[T]:
    """`items` turned into the new list, in place: only what changed is touched."""
    if delta is None:
        return items
    if delta.whole is not None:
        return list(delta.whole)
    for i, item in delta.changed:
        items[i] = item
    if delta.order is not None:
        items[:] = [items[i] for i in delta.order]
    elif len(delta.removed) > REMOVE_IN_PLACE_MAX:
        gone = set(delta.removed)
        items[:] = [item for i, item in enumerate(items) if i not in gone]
    else:
        for i in reversed(delta.removed):
            del items[i]
    for position, item in delta.added:
        items.insert(position, item)
    return items


def apply_delta(base: Snapshot, delta: SnapshotDelta) -> Snapshot:
    """The round `delta` describes. Reuses (and changes) `base`'s lists: `base` is spent afterwards."""
    clusters = []
    for change in delta.clusters:
        old = base.clusters[change.parent] if change.parent is not None else header_of(change.header)
        lists = {name: apply_list(getattr(old, name), getattr(change, name)) for name in LISTS}
        clusters.append(msgspec.structs.replace(change.header, **lists))
    return Snapshot(taken_at=delta.taken_at, clusters=clusters)


# -- bodies ----------------------------------------------------------------------------------------


def compress_full(snapshot_json: bytes) -> bytes:
    """A keyframe: the whole snapshot as compressed v1 JSON, the format every earlier version wrote."""
    return zlib.compress(snapshot_json, FULL_LEVEL)


def read_full(body: bytes) -> Snapshot:
    return decode_snapshot(zlib.decompress(body))


def delta_body(delta: SnapshotDelta) -> bytes:
    return zlib.compress(_encoder.encode(delta), DELTA_LEVEL)


def read_delta(body: bytes) -> SnapshotDelta:
    return _delta_decoder.decode(zlib.decompress(body))
