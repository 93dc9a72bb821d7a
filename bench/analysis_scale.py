"""The whole analysis (every node's loss, every zone's loss, balance, headroom, single points of
failure, limits) on synthetic fleets: the fast analysis against the plain first-fit loop it replaced.

    .venv/bin/python -m bench.analysis_scale                 # 1,000 and 5,000 nodes (30 pods each), 52,000 (4 each)
    .venv/bin/python -m bench.analysis_scale --small         # 200 and 1,000 nodes, CI-sized
    .venv/bin/python -m bench.analysis_scale --oracle-max 0  # only the fast analysis

The baseline is the old implementation, kept as the test oracle (tests/fleet/analysis_oracle.py),
timed in this run on the same snapshot where it finishes in reasonable time; where it runs, the two
results are also compared. Target: 50,000 nodes / 200,000 instances in under 2 s.
"""
from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from bench.synthetic import synthetic_snapshot
from fleet.analysis import SnapshotAnalysis, analyze
from fleet.model import Snapshot
from tests.fleet import analysis_oracle

TARGET_S = 2.0
FULL = [(1000, 30), (5000, 30), (52000, 4)]
SMALL = [(200, 30), (1000, 30)]


def timed(run: Callable[[Snapshot], SnapshotAnalysis], snapshot: Snapshot) -> tuple[float, SnapshotAnalysis]:
    gc.collect()
    started = time.perf_counter()
    result = run(snapshot)
    return time.perf_counter() - started, result


def measure(nodes: int, per_node: int, oracle_max: int) -> None:
    snapshot = synthetic_snapshot(nodes, per_node)
    instances = sum(len(c.instances) for c in snapshot.clusters)
    seconds, fast = timed(analyze, snapshot)
    line = f"{nodes:>6,} nodes {instances:>8,} instances: fast {seconds:6.2f}s"
    if nodes >= 50_000:
        line += f" (target < {TARGET_S:.0f}s: {'met' if seconds < TARGET_S else 'MISSED'})"
    if nodes <= oracle_max:
        baseline, slow = timed(analysis_oracle.analyze, snapshot)
        line += f", oracle {baseline:6.2f}s, {baseline / seconds:5.1f}x faster, same answers: {fast == slow}"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="CI-sized fleets")
    parser.add_argument("--oracle-max", type=int, default=5000, help="largest fleet the oracle is timed on")
    args = parser.parse_args()
    for nodes, per_node in SMALL if args.small else FULL:
        measure(nodes, per_node, args.oracle_max)


if __name__ == "__main__":
    main()
