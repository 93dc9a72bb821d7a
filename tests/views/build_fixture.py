"""Writes tests/views/snapshots/small-fleet.json: a small hand-built fleet with known problems.

Run `python -m tests.views.build_fixture` after changing it; the JSON file is what tests read.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from fleet.model import Cluster, Event, Instance, Node, Snapshot, Workload, encode_snapshot, summarize

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
GIB = 2**30


def swarm_cluster() -> Cluster:
    nodes = [Node(id=f"sw{i}", name=f"swarm-{i}", status="ready" if i < 3 else "down", schedulable=i != 2,
                  roles=["manager", "leader"] if i == 0 else ["worker"], zone=f"zone-{'ab'[i % 2]}",
                  cpu_capacity_cores=4, cpu_allocatable_cores=4, cpu_allocated_cores=[3.5, 1.0, 0.5, 0][i],
                  mem_capacity_bytes=16 * GIB, mem_allocatable_bytes=16 * GIB, mem_allocated_bytes=[8, 2, 1, 0][i] * GIB,
                  version="28.0.1") for i in range(4)]
    workloads = [
        Workload(id="web", name="web", kind="ReplicatedService", desired=3, running=3, healthy=3, status="healthy",
                 images=["shop/web:2.1"], cpu_request_cores=0.5, mem_request_bytes=GIB),
        Workload(id="api", name="api", kind="ReplicatedService", desired=2, running=1, healthy=None, status="degraded",
                 images=["shop/api:1.9"], cpu_request_cores=1, mem_request_bytes=2 * GIB),
        Workload(id="ghost", name="ghost", kind="ReplicatedService", desired=1, running=0, status="failed",
                 images=["shop/ghost:0.1"]),
        Workload(id="agent", name="agent", namespace="monitoring", kind="GlobalService", desired=3, running=3,
                 status="healthy", per_node=True, images=["prom/node-exporter:1"]),
    ]
    instances = [Instance(id=f"web{i}", name=f"web.{i}", workload_id="web", node_id=f"sw{i}", state="running",
                          health="healthy", started_at=T0 - timedelta(hours=i)) for i in range(3)]
    instances += [
        Instance(id="api1", name="api.1", workload_id="api", node_id="sw0", state="running", started_at=T0),
        Instance(id="api2", name="api.2", workload_id="api", node_id="sw1", state="pending", restarts=7,
                 reason="task: non-zero exit (1)"),
        Instance(id="ghost1", name="ghost.1", workload_id="ghost", node_id="sw1", state="failed", restarts=3,
                 reason="No such image: shop/ghost:0.1"),
    ]
    instances += [Instance(id=f"agent{i}", name=f"agent.sw{i}", workload_id="agent", node_id=f"sw{i}",
                           state="running", started_at=T0) for i in range(3)]
    events = [Event(time=T0 - timedelta(minutes=m), severity="warning", object="Task/ghost.1", reason="TaskRejected",
                    message="No such image: shop/ghost:0.1") for m in (1, 5)]
    events.append(Event(time=T0 - timedelta(minutes=2), severity="info", object="Task/web.1", reason="Started",
                        message="started"))
    return Cluster(name="edge-swarm", orchestrator="swarm", endpoint="unix:///var/run/docker.sock", status="ok",
                   version="28.0.1", collected_at=T0, nodes=nodes, workloads=workloads, instances=instances,
                   events=events, summary=summarize(nodes, workloads, instances))


def stale_nomad_cluster() -> Cluster:
    nodes = [Node(id="n1", name="nomad-client-1", status="ready", schedulable=True, roles=["client"], zone="dc1",
                  region="global", cpu_capacity_cores=8, cpu_allocatable_cores=7.5, cpu_allocated_cores=2,
                  mem_capacity_bytes=32 * GIB, mem_allocatable_bytes=30 * GIB, mem_allocated_bytes=4 * GIB,
                  cpu_used_cores=1.2, mem_used_bytes=3 * GIB)]
    workloads = [Workload(id="batch", name="nightly", namespace="default", kind="batch", desired=1, running=0,
                          status="completed", images=["busybox:1"])]
    return Cluster(name="batch-nomad", orchestrator="nomad", endpoint="http://nomad.service:4646",
                   status="unreachable", error="cannot connect to http://nomad.service:4646: connection refused",
                   version="1.9.3", collected_at=T0 - timedelta(minutes=10), stale=True, nodes=nodes,
                   workloads=workloads, summary=summarize(nodes, workloads, []))


def small_fleet() -> Snapshot:
    return Snapshot(taken_at=T0, clusters=[swarm_cluster(), stale_nomad_cluster()])


if __name__ == "__main__":
    path = Path(__file__).parent / "snapshots" / "small-fleet.json"
    path.write_bytes(encode_snapshot(small_fleet()) + b"\n")
    print(path)
