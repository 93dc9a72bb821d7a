"""The whole analysis (every node's loss, every zone's loss, balance, headroom, single points of
failure, limits) on synthetic fleets: the fast analysis against the plain first-fit loop it replaced.

    .venv/bin/python -m bench.analysis_scale                 # 1,000 and 5,000 nodes (30 pods each), 52,000 (4 each)
    .venv/bin/python -m bench.analysis_scale --small         # 200 and 1,000 nodes, CI-sized
    .venv/bin/python -m bench.analysis_scale --oracle-max 0  # only the fast analysis
    .venv/bin/python -m bench.analysis_scale --mixed         # also a Marathon-like 52,000-node fleet

The baseline is the old implementation, kept as the test oracle (tests/fleet/analysis_oracle.py),
timed in this run on the same snapshot where it finishes in reasonable time; where it runs, the two
results are also compared. Target: 50,000 nodes / 200,000 instances in under 2 s.
"""
from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable

from bench.synthetic import synthetic_snapshot
from fleet.analysis import SnapshotAnalysis, analyze
from fleet.model import Snapshot
from tests.fleet import analysis_oracle

TARGET_S = 2.0
FULL = [(1000, 30), (5000, 30), (52000, 4)]
SMALL = [(200, 30), (1000, 30)]


def mixed_snapshot(nodes: int, per_node: int) -> Snapshot:
    """Like sim/marathon's fleets: agents of 8/16/32 cores and 32/64 GiB, tasks of 0.1-1 core and
    128-1,024 MiB placed at random, so every node runs its own mix of request sizes."""
    snapshot, rng, mib = synthetic_snapshot(nodes, per_node), random.Random(5), 2**20
    cluster = snapshot.clusters[0]
    for workload in cluster.workloads:
        workload.cpu_request_cores = rng.choice((0.1, 0.25, 0.5, 1.0))
        workload.mem_request_bytes = rng.choice((128, 256, 512, 1024)) * mib
    for node in cluster.nodes:
        node.cpu_allocatable_cores = float(rng.choice((8, 16, 32)))
        node.mem_allocatable_bytes = rng.choice((32, 64)) * 1024 * mib
        node.cpu_allocated_cores, node.mem_allocated_bytes = 0.0, 0
    workloads = {w.id: w for w in cluster.workloads}
    for instance in cluster.instances:
        node = cluster.nodes[rng.randrange(len(cluster.nodes))]
        instance.node_id = node.id
        node.cpu_allocated_cores += workloads[instance.workload_id or ""].cpu_request_cores
        node.mem_allocated_bytes += workloads[instance.workload_id or ""].mem_request_bytes
    return snapshot


def timed(run: Callable[[Snapshot], SnapshotAnalysis], snapshot: Snapshot) -> tuple[float, SnapshotAnalysis]:
    gc.collect()
    started = time.perf_counter()
    result = run(snapshot)
    return time.perf_counter() - started, result


def measure(nodes: int, per_node: int, oracle_max: int, mixed: bool = False) -> None:
    snapshot = (mixed_snapshot if mixed else synthetic_snapshot)(nodes, per_node)
    instances = sum(len(c.instances) for c in snapshot.clusters)
    seconds, fast = timed(analyze, snapshot)
    line = f"{nodes:>6,} nodes {instances:>8,} instances{' (mixed)' if mixed else ''}: fast {seconds:6.2f}s"
    if nodes >= 50_000:
        line += f" (target < {TARGET_S:.0f}s: {'met' if seconds < TARGET_S else 'MISSED'})"
    if nodes <= oracle_max:
        baseline, slow = timed(analysis_oracle.analyze, snapshot)
        line += f", oracle {baseline:6.2f}s, {baseline / seconds:5.1f}x faster, same answers: {fast == slow}"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="CI-sized fleets")
    parser.add_argument("--mixed", action="store_true", help="also a Marathon-like 52,000-node fleet")
    parser.add_argument("--oracle-max", type=int, default=5000, help="largest fleet the oracle is timed on")
    args = parser.parse_args()
    for nodes, per_node in SMALL if args.small else FULL:
        measure(nodes, per_node, args.oracle_max)
    if args.mixed:
        measure(52000 if not args.small else 1000, 4, args.oracle_max, mixed=True)


if __name__ == "__main__":
    main()
