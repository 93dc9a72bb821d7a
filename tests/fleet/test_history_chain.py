"""History kept as keyframes and deltas, on SQLite and a real PostgreSQL: exact reads, retention, old databases."""
from __future__ import annotations

import zlib
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from fleet.model import decode_snapshot, encode_snapshot
from fleet.store import ChainPolicy, Retention
from tests.fleet.churn import T0, rounds

V1_SCHEMA = Path(__file__).with_name("history_v1_schema.sql")
LATER = T0 + timedelta(hours=1)


def every(rounds_per_chain: int) -> ChainPolicy:
    """Chains of exactly this many rounds: tiny test rounds would otherwise end them by weight."""
    return ChainPolicy(keyframe_every=rounds_per_chain, max_weight=float("inf"))


def exact(snapshot) -> bytes:
    return encode_snapshot(snapshot, indent=0)


def test_every_stored_round_of_a_random_sequence_reads_back_exactly(backend):
    store = backend.open(chain=every(7), clock=lambda: LATER)
    sequence = list(rounds(3, 40))
    ids = [store.save(snapshot) for snapshot in sequence]
    reader = backend.open(clock=lambda: LATER)  # another process: nothing from the writer's memory
    assert [exact(reader.load(i)) for i in ids] == [exact(s) for s in sequence]
    assert exact(reader.latest()) == exact(sequence[-1])
    footprint = reader.footprint()
    assert (footprint.keyframes, footprint.deltas) == (6, 34)  # rounds 0, 7, 14, ... are keyframes


def test_a_chain_ends_when_its_deltas_outweigh_a_keyframe(backend):
    store = backend.open(clock=lambda: LATER)
    sequence = list(rounds(5, 30))
    for snapshot in sequence:
        store.save(snapshot)
    assert store.footprint().keyframes > 1  # tiny rounds: each delta is a large share of a keyframe
    assert [exact(store.load(s.id)) for s in store.list_snapshots()] == [exact(s) for s in sequence]


def test_replicas_writing_to_one_history_each_keep_their_own_chain(backend):
    first, second = (backend.open(clock=lambda: LATER, chain=every(50)) for _ in range(2))
    ours, theirs = list(rounds(7, 12)), list(rounds(8, 12))
    saved = {}
    for mine, other in zip(ours, theirs):
        saved[first.save(mine)] = mine
        saved[second.save(other)] = other
    assert {i: exact(first.load(i)) for i in saved} == {i: exact(s) for i, s in saved.items()}
    assert first.footprint().keyframes == 2


def test_retention_by_count_keeps_the_newest_and_every_delta_its_keyframe(backend):
    store = backend.open(Retention(max_snapshots=5), clock=lambda: LATER, chain=every(4))
    sequence = list(rounds(11, 23))
    for snapshot in sequence:
        store.save(snapshot)
    kept = store.list_snapshots()
    assert [exact(store.load(s.id)) for s in kept] == [exact(s) for s in sequence[-5:]]
    assert len(store.trends(sequence[-1].clusters[0].name)) <= 5
    footprint = store.footprint()  # rounds 16..22 in two chains (16-19, 20-22): older chains are gone
    assert (footprint.keyframes, footprint.deltas) == (2, 5)


def test_retired_moments_are_not_listed_or_loadable(backend):
    store = backend.open(Retention(max_snapshots=2), clock=lambda: LATER, chain=every(10))
    ids = [store.save(snapshot) for snapshot in rounds(12, 4)]
    assert [s.id for s in store.list_snapshots()] == ids[-2:]
    with pytest.raises(KeyError):
        store.load(ids[0])  # its body is kept (the chain still needs it), the moment is gone


def test_retention_by_age_drops_whole_chains_once_none_of_their_moments_is_young(backend):
    now = [T0]
    store = backend.open(Retention(max_age_days=1), clock=lambda: now[0], chain=every(5))
    sequence = list(rounds(13, 20))  # 15 s apart
    for snapshot in sequence:
        now[0] = snapshot.taken_at + timedelta(days=1, seconds=-100)  # the last 7 rounds are young
        store.save(snapshot)
    assert [exact(store.load(s.id)) for s in store.list_snapshots()] == [exact(s) for s in sequence[13:]]
    footprint = store.footprint()
    assert (footprint.keyframes, footprint.deltas) == (2, 8)  # chains 10-14 (10-12 retired) and 15-19


def alike(count: int) -> list:
    """Rounds of one fleet that does not change, 15 s apart: every chain of them weighs the same."""
    first = next(iter(rounds(17, 1)))
    return [msgspec.structs.replace(first, taken_at=T0 + timedelta(seconds=15 * i)) for i in range(count)]


def test_retention_by_bytes_drops_the_oldest_whole_chains_until_the_history_fits(backend):
    sizing = backend.open(Retention(max_bytes=None), clock=lambda: LATER, chain=every(4))
    for snapshot in alike(4):
        sizing.save(snapshot)
    chain_bytes = sizing.footprint().body_bytes  # one whole chain: a keyframe and three deltas
    backend.reset()
    store = backend.open(Retention(max_bytes=round(chain_bytes * 2.5), bytes_checked_every=1), clock=lambda: LATER,
                         chain=every(4))
    sequence = alike(20)
    for snapshot in sequence:
        store.save(snapshot)
    kept = store.list_snapshots()
    assert [exact(store.load(s.id)) for s in kept] == [exact(s) for s in sequence[12:]]  # two whole chains
    assert store.footprint().body_bytes <= chain_bytes * 2.5
    assert len(store.trends(sequence[-1].clusters[0].name)) == 8


def test_between_two_sums_of_the_bytes_kept_the_history_may_outgrow_its_limit_by_that_many_rounds(backend):
    store = backend.open(Retention(max_bytes=1, bytes_checked_every=5), clock=lambda: LATER, chain=every(2))
    sequence = alike(11)  # chains of two rounds: 0-1, 2-3, ...
    for snapshot in sequence[:10]:
        store.save(snapshot)
    # summed at the first round, then at the sixth (round 5), which left only its own chain (4-5)
    assert [exact(store.load(s.id)) for s in store.list_snapshots()] == [exact(s) for s in sequence[4:10]]
    store.save(sequence[10])  # summed again: only the newest chain (round 10 alone) is left
    assert [exact(store.load(s.id)) for s in store.list_snapshots()] == [exact(sequence[10])]


def test_the_newest_chain_stays_however_small_the_byte_limit(backend):
    store = backend.open(Retention(max_bytes=1, bytes_checked_every=1), clock=lambda: LATER, chain=every(3))
    sequence = list(rounds(18, 7))
    for snapshot in sequence:
        store.save(snapshot)
    assert [exact(store.load(s.id)) for s in store.list_snapshots()] == [exact(s) for s in sequence[6:]]


def write_v1_history(backend, sequence) -> list[int]:
    """A database as the first version wrote it: its tables, one full compressed snapshot per row."""
    connection = connect_raw(backend)
    cursor = connection.cursor()
    for statement in V1_SCHEMA.read_text().split(";"):
        if statement.strip():
            cursor.execute(statement.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT" if backend.name == "sqlite"
                                             else "BIGSERIAL PRIMARY KEY").replace("{blob}", "BLOB" if
                                             backend.name == "sqlite" else "BYTEA"))
    mark = "?" if backend.name == "sqlite" else "%s"
    ids = []
    for snapshot in sequence:
        cursor.execute(f"INSERT INTO podium_snapshots (taken_at, taken_at_s, clusters, body) VALUES "
                       f"({mark}, {mark}, {mark}, {mark}) RETURNING id",
                       (snapshot.taken_at.isoformat(), snapshot.taken_at.timestamp(), len(snapshot.clusters),
                        zlib.compress(exact(snapshot), 6)))
        ids.append(cursor.fetchone()[0])
    connection.commit()
    connection.close()
    return ids


def connect_raw(backend):
    if backend.name == "sqlite":
        import sqlite3

        Path(backend.where).parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(backend.where)
    import psycopg

    return psycopg.connect(backend.where)


def test_a_history_written_by_the_first_version_still_reads_and_grows(backend):
    sequence = list(rounds(21, 8))
    old_ids = write_v1_history(backend, sequence[:4])
    store = backend.open(Retention(max_snapshots=6), clock=lambda: LATER, chain=every(100))
    assert [exact(store.load(i)) for i in old_ids] == [exact(s) for s in sequence[:4]]
    new_ids = [store.save(s) for s in sequence[4:]]
    assert [s.id for s in store.list_snapshots()] == old_ids[2:] + new_ids
    assert [exact(store.load(i)) for i in old_ids[2:] + new_ids] == [exact(s) for s in sequence[2:]]
    assert store.footprint().deltas == 3


def test_a_quiet_fleet_keeps_one_keyframe_for_hours_and_reads_back_exactly(backend):
    from bench.synthetic import synthetic_snapshot

    store = backend.open(clock=lambda: LATER)  # the default chain policy
    first = decode_snapshot(encode_snapshot(synthetic_snapshot(1000, 10)))  # a keyframe outweighing 150 quiet deltas
    sequence = [msgspec.structs.replace(first, taken_at=T0 + timedelta(seconds=15 * i)) for i in range(150)]
    ids = [store.save(snapshot) for snapshot in sequence]
    footprint = store.footprint()
    assert (footprint.keyframes, footprint.deltas) == (1, 149)  # 100-round chains wrote a second keyframe
    reader = backend.open(clock=lambda: LATER)
    assert exact(reader.load(ids[-1])) == exact(sequence[-1])
