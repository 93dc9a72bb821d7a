"""History at the seed's scale: keyframes + deltas against one full snapshot per round, same run.

    .venv/bin/python -m bench.history_scale                          # 5,000 nodes / 150,000 instances, 100 rounds
    .venv/bin/python -m bench.history_scale --nodes 500 --rounds 30  # a quick look

A synthetic fleet (bench/synthetic.py) changes 1% of its instances per round (half of them change
state and restarts, half are replaced by new instances with new ids). Each round is saved by the
store (SQLite, in a temporary folder) and, as the baseline, the way the first version stored every
round: the whole snapshot as zlib-compressed JSON (level 6) in one row, one transaction per round,
the same SQLite settings. Printed: bytes per round and per day at 15 s rounds, seconds to write a
round (mean and slowest), seconds to read back a stored moment (the deepest delta and the mean over
a sample), each beside the baseline's and its target. Nothing is compared to a remembered number.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import msgspec

from bench.synthetic import synthetic_snapshot
from fleet.model import Snapshot, decode_snapshot, encode_snapshot
from fleet.store import Retention, SnapshotStore, open_sqlite, sqlite_connector

TARGET_DAY_BYTES = 10**9
TARGET_WRITE_S = 0.5
TARGET_READ_S = 2.0
KEEP_ALL = Retention(max_age_days=3650, max_snapshots=10**6)


def next_round(snapshot: Snapshot, rng: random.Random, churn: float, round_s: float, serial: list[int]) -> Snapshot:
    """A new Snapshot with `churn` of the instances changed: the previous one is left untouched."""
    cluster = snapshot.clusters[0]
    instances = list(cluster.instances)
    picked = rng.sample(range(len(instances)), k=max(1, int(len(instances) * churn)))
    half = len(picked) // 2
    for i in picked[:half]:
        old = instances[i]
        instances[i] = msgspec.structs.replace(old, restarts=old.restarts + 1,
                                               state="failed" if old.state == "running" else "running")
    for i in sorted(picked[half:], reverse=True):
        old = instances.pop(i)
        serial[0] += 1
        instances.append(msgspec.structs.replace(old, id=f"{cluster.name}-new{serial[0]}", restarts=0))
    taken_at = snapshot.taken_at + timedelta(seconds=round_s)
    return Snapshot(taken_at=taken_at, clusters=[msgspec.structs.replace(cluster, instances=instances,
                                                                         collected_at=taken_at)])


class FullRoundStore:
    """The baseline: the first version's format, one whole compressed snapshot per round."""

    def __init__(self, path: Path):
        self.connect = sqlite_connector(path)
        with self.connect() as connection:
            connection.execute("CREATE TABLE rounds (id INTEGER PRIMARY KEY AUTOINCREMENT, taken_at_s DOUBLE "
                               "PRECISION NOT NULL, body BLOB NOT NULL)")

    def save(self, snapshot: Snapshot) -> int:
        body = zlib.compress(encode_snapshot(snapshot, indent=0), 6)
        connection = self.connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            row = connection.execute("INSERT INTO rounds (taken_at_s, body) VALUES (?, ?) RETURNING id",
                                     (snapshot.taken_at.timestamp(), body)).fetchone()
            connection.execute("COMMIT")
        finally:
            connection.close()
        return int(row[0])

    def load(self, snapshot_id: int) -> Snapshot:
        connection = self.connect()
        try:
            (body,) = connection.execute("SELECT body FROM rounds WHERE id = ?", (snapshot_id,)).fetchone()
        finally:
            connection.close()
        return decode_snapshot(zlib.decompress(body))

    def body_bytes(self) -> int:
        connection = self.connect()
        try:
            return int(connection.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM rounds").fetchone()[0])
        finally:
            connection.close()


@dataclass
class Figures:
    bytes_per_round: float
    write_mean_s: float
    write_p95_s: float
    write_max_s: float
    read_deepest_s: float
    read_mean_s: float


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(store: SnapshotStore | FullRoundStore, rounds: list[Snapshot], deepest: int, sample: list[int],
            body_bytes) -> tuple[Figures, list[int]]:
    writes, ids = [], []
    for snapshot in rounds:
        seconds, snapshot_id = timed(lambda: store.save(snapshot))
        writes.append(seconds)
        ids.append(snapshot_id)
    deepest_s, rebuilt = timed(lambda: store.load(ids[deepest]))
    assert encode_snapshot(rebuilt, indent=0) == encode_snapshot(rounds[deepest], indent=0), "a moment read wrong"
    reads = [timed(lambda: store.load(ids[i]))[0] for i in sample]
    p95 = statistics.quantiles(writes, n=20)[-1] if len(writes) > 1 else writes[0]
    return Figures(body_bytes() / len(rounds), statistics.mean(writes), p95, max(writes), deepest_s,
                   statistics.mean(reads)), writes


def row(label: str, new: float, old: float, unit: str, target: str) -> str:
    return f"  {label:<30} {new:>12.3f} {unit:<4} baseline {old:>12.3f} {unit:<4} ratio {old / new:>7.1f}x  {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--per-node", type=int, default=30, help="instances per node")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--churn", type=float, default=0.01, help="share of instances changing per round")
    parser.add_argument("--round-seconds", type=float, default=15.0)
    args = parser.parse_args()

    rng = random.Random(14)
    first = decode_snapshot(encode_snapshot(synthetic_snapshot(args.nodes, args.per_node), indent=0))
    rounds, serial = [first], [0]
    while len(rounds) < args.rounds:
        rounds.append(next_round(rounds[-1], rng, args.churn, args.round_seconds, serial))
    instances = len(first.clusters[0].instances)
    print(f"history: {args.nodes:,} nodes, {instances:,} instances, {args.rounds} rounds, "
          f"{args.churn:.1%} of instances changing per round, {args.round_seconds:g} s rounds (SQLite)")

    with tempfile.TemporaryDirectory(prefix="podium-history-bench-") as folder:
        store = open_sqlite(Path(folder) / "chained.sqlite3", KEEP_ALL, clock=lambda: rounds[-1].taken_at)
        deepest = min(args.rounds, store.chain.keyframe_every) - 1
        sample = random.Random(1).sample(range(args.rounds), k=min(10, args.rounds))
        new, new_writes = measure(store, rounds, deepest, sample, lambda: store.footprint().body_bytes)
        footprint = store.footprint()
        baseline = FullRoundStore(Path(folder) / "full.sqlite3")
        old, _ = measure(baseline, rounds, deepest, sample, baseline.body_bytes)

    per_day = 86400 / args.round_seconds
    print(f"  stored as {footprint.keyframes} keyframe(s) + {footprint.deltas} deltas; "
          f"slowest delta round {max(new_writes[1:] or [0]):.3f} s, first (keyframe) round {new_writes[0]:.3f} s")
    print(row("bytes per round", new.bytes_per_round / 1e6, old.bytes_per_round / 1e6, "MB", ""))
    print(row("bytes per day", new.bytes_per_round * per_day / 1e9, old.bytes_per_round * per_day / 1e9, "GB",
              f"target < {TARGET_DAY_BYTES / 1e9:g} GB"))
    print(row("write a round (mean)", new.write_mean_s, old.write_mean_s, "s", f"target < {TARGET_WRITE_S:g} s"))
    print(row("write a round (95th pct)", new.write_p95_s, old.write_p95_s, "s", f"target < {TARGET_WRITE_S:g} s"))
    print(row("write a round (slowest)", new.write_max_s, old.write_max_s, "s", f"target < {TARGET_WRITE_S:g} s"))
    print(row(f"read moment #{deepest} (deepest)", new.read_deepest_s, old.read_deepest_s, "s",
              f"target < {TARGET_READ_S:g} s"))
    print(row("read a moment (mean of 10)", new.read_mean_s, old.read_mean_s, "s", f"target < {TARGET_READ_S:g} s"))


if __name__ == "__main__":
    main()
