"""Synthetic fleets in the common model, of any size, for benchmarks and scale tests."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from fleet.model import Cluster, Instance, Node, Port, Service, Snapshot, Workload, summarize

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
GIB = 2**30
STATES = ["running"] * 95 + ["pending"] * 2 + ["failed"] * 2 + ["succeeded"]


def synthetic_cluster(name: str, nodes: int, instances_per_node: int, *, seed: int = 0,
                      orchestrator: str = "kubernetes") -> Cluster:
    rng = random.Random(seed)
    node_list = [Node(id=f"{name}-n{i}", name=f"{name}-node-{i:05d}", status="ready" if rng.random() > 0.01 else
                      "not_ready", schedulable=rng.random() > 0.02, roles=["worker"], zone=f"zone-{i % 3}",
                      cpu_capacity_cores=16, cpu_allocatable_cores=15.5, mem_capacity_bytes=64 * GIB,
                      mem_allocatable_bytes=62 * GIB, labels={"pool": f"pool-{i % 4}"}) for i in range(nodes)]
    workload_count = max(1, nodes * instances_per_node // 10)
    workloads = [Workload(id=f"{name}-w{i}", name=f"app-{i:05d}", namespace=f"team-{i % 20}", kind="Deployment",
                          desired=10, running=10, healthy=10, status="healthy", images=[f"registry/app-{i}:1"],
                          cpu_request_cores=0.25, mem_request_bytes=GIB // 2) for i in range(workload_count)]
    instances = []
    for n, node in enumerate(node_list):
        for k in range(instances_per_node):
            index = n * instances_per_node + k
            state = rng.choice(STATES)
            instances.append(Instance(
                id=f"{name}-i{index}", name=f"app-{index // 10:05d}-{index % 10}", workload_id=f"{name}-w{index // 10}",
                node_id=node.id, state=state, health="healthy" if state == "running" else "unknown",
                restarts=rng.choice([0, 0, 0, 1, 7]), reason="CrashLoopBackOff" if state == "failed" else None,
                started_at=T0 - timedelta(minutes=index % 600)))
        node.cpu_allocated_cores = instances_per_node * 0.25
        node.mem_allocated_bytes = instances_per_node * GIB // 2
    # one Service per workload, every 500th without a ready backend (no draws: the instances stay as they were)
    services = [Service(id=f"{name}-s{i}", name=f"app-{i:05d}", namespace=w.namespace, kind="ClusterIP",
                        addresses=[f"10.96.{i // 250 % 250}.{i % 250}"], ports=[Port(port=80, target="8080")],
                        workload_ids=[w.id], backends_total=10, backends_ready=0 if i % 500 == 7 else 10,
                        status="down" if i % 500 == 7 else "ok") for i, w in enumerate(workloads)]
    return Cluster(name=name, orchestrator=orchestrator, endpoint=f"https://{name}:6443", status="ok",  # type: ignore
                   version="v1.31.0", collected_at=T0, nodes=node_list, workloads=workloads, instances=instances,
                   services=services, summary=summarize(node_list, workloads, instances))


def synthetic_snapshot(nodes: int, instances_per_node: int, *, clusters: int = 1) -> Snapshot:
    per_cluster = max(1, nodes // clusters)
    return Snapshot(taken_at=T0, clusters=[synthetic_cluster(f"c{i}", per_cluster, instances_per_node, seed=i)
                                           for i in range(clusters)])
