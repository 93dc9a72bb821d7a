"""A stored round as the changes from the round before it, so history grows with churn, not fleet size.

A delta names items by their position in the parent round (the round it was computed against), so
rebuilding never needs keys: change items in place, drop the removed ones (or reorder the kept ones
when the collector's order changed), insert the added ones at their final positions. Nodes,
workloads and instances are matched by id, events by their whole content (they have no id), clusters
by name; a list with a repeated key is stored whole. Rebuilding keyframe + deltas gives back the
exact snapshot that was saved: `encode_snapshot` of both is byte for byte the same.
"""
from __future__ import annotations

import threading
import zlib
from itertools import compress, repeat
from operator import attrgetter, is_not, ne, not_
from datetime import datetime
from typing import Any, Callable, Generic, NamedTuple, TypeVar

import msgspec

from fleet.model import (Cluster, Event, Instance, Node, Port, Service, Snapshot, Workload, decode_snapshot,
                         encode_snapshot)

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
    services: ListDelta[Service] | None = None  # absent in rounds stored before services existed


class SnapshotDelta(msgspec.Struct, kw_only=True):
    taken_at: datetime
    clusters: list[ClusterDelta]


LISTS = ("nodes", "workloads", "instances", "events", "services")
_encoder = msgspec.json.Encoder()
_delta_decoder = msgspec.json.Decoder(SnapshotDelta)


by_id = attrgetter("id")
by_content = _encoder.encode

KEYS: dict[str, Callable[[Any], Any]] = {"nodes": by_id, "workloads": by_id, "instances": by_id, "events": by_content,
                                        "services": by_id}


# -- computing a delta -----------------------------------------------------------------------------
# A round of the seed fleet has 150,000 instances: the loops below are map/zip/compress, run in C.


def changed_pairs(old: list[T], old_positions: list[int], new_items: list[T]) -> list[tuple[int, T]]:
    """(old position, new item) for each pair whose values differ."""
    differs = map(ne, map(old.__getitem__, old_positions), new_items)
    return list(compress(zip(old_positions, new_items), differs))


def diff_list(old: list[T], new: list[T], key: Callable[[T], Any]) -> ListDelta[T] | None:
    """What turns `old` into `new`; None when they are equal."""
    if old == new:
        return None
    old_keys, new_keys = list(map(key, old)), list(map(key, new))
    if old_keys == new_keys:  # the usual round: same items, a few changed values
        return ListDelta(changed=changed_pairs(old, list(range(len(old))), new))
    where = dict(zip(old_keys, range(len(old_keys))))
    new_set = set(new_keys)
    if len(where) != len(old_keys) or len(new_set) != len(new_keys):
        return ListDelta(whole=list(new))
    found = list(map(where.get, new_keys))  # old position of each new item, None when added
    is_kept = list(map(is_not, found, repeat(None)))
    kept: list[int] = list(compress(found, is_kept))  # type: ignore[arg-type]
    added = list(compress(enumerate(new), map(not_, is_kept)))
    changed = changed_pairs(old, kept, list(compress(new, is_kept)))
    if kept == sorted(kept):
        removed = list(compress(range(len(old)), map(not_, map(new_set.__contains__, old_keys))))
        return ListDelta(changed=changed, added=added, removed=removed)
    return ListDelta(changed=changed, added=added, order=kept)


def header_of(cluster: Cluster) -> Cluster:
    return msgspec.structs.replace(cluster, nodes=[], workloads=[], instances=[], events=[], services=[])


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
        keep = bytearray(b"\x01") * len(items)
        for i in delta.removed:
            keep[i] = 0
        items[:] = compress(items, keep)
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


def own_copy(snapshot: Snapshot) -> Snapshot:
    """A copy the caller's later changes cannot reach: items copied, and the lists and maps inside them.

    The writer computes the next delta against it, so it must keep the values as they were saved. Far
    cheaper than decoding the keyframe's JSON again (150,000 instances: ~0.05-0.1 s against ~0.25 s).
    """
    return Snapshot(schema=snapshot.schema, taken_at=snapshot.taken_at,
                    clusters=[msgspec.structs.replace(cluster, nodes=list(map(own_node, cluster.nodes)),
                                                      workloads=list(map(own_workload, cluster.workloads)),
                                                      instances=list(map(Instance.__copy__, cluster.instances)),
                                                      events=list(map(Event.__copy__, cluster.events)),
                                                      services=list(map(own_service, cluster.services)))
                              for cluster in snapshot.clusters])


def own_node(node: Node) -> Node:
    copy = node.__copy__()
    copy.roles, copy.labels = list(node.roles), dict(node.labels)
    return copy


def own_workload(workload: Workload) -> Workload:
    copy = workload.__copy__()
    copy.images = list(workload.images)
    if workload.autoscaler is not None:
        copy.autoscaler = workload.autoscaler.__copy__()
        copy.autoscaler.metrics = list(workload.autoscaler.metrics)
    return copy


def own_service(service: Service) -> Service:
    copy = service.__copy__()
    copy.addresses, copy.workload_ids = list(service.addresses), list(service.workload_ids)
    copy.ports = list(map(Port.__copy__, service.ports))
    return copy


# -- bodies ----------------------------------------------------------------------------------------


def compress_full(snapshot_json: bytes) -> bytes:
    """A keyframe: the whole snapshot as compressed v1 JSON, the format every earlier version wrote."""
    return zlib.compress(snapshot_json, FULL_LEVEL)


class Keyframe(NamedTuple):
    body: bytes  # compress_full's
    copy: Snapshot  # own_copy's: the writer's next head


def keyframe(snapshot: Snapshot) -> Keyframe:
    """A keyframe's body and the writer's copy, the copy made while a thread compresses (zlib frees the
    GIL; 150,000 instances: ~0.1-0.25 s each)."""
    snapshot_json = encode_snapshot(snapshot, indent=0)
    outcome: list[bytes | BaseException] = []

    def compress() -> None:
        try:
            outcome.append(compress_full(snapshot_json))
        except BaseException as failure:  # handed to the writer, raised there
            outcome.append(failure)

    compressing = threading.Thread(target=compress, name="keyframe-compress")
    compressing.start()
    try:
        copy = own_copy(snapshot)
    finally:
        compressing.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return Keyframe(outcome[0], copy)


def read_full(body: bytes) -> Snapshot:
    return decode_snapshot(zlib.decompress(body))


def delta_body(delta: SnapshotDelta) -> bytes:
    return zlib.compress(_encoder.encode(delta), DELTA_LEVEL)


def read_delta(body: bytes) -> SnapshotDelta:
    return _delta_decoder.decode(zlib.decompress(body))
