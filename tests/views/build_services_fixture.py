"""Writes tests/views/snapshots/services-fleet.json: two clusters with services in every state and
one autoscaler at its maximum.

Run `python -m tests.views.build_services_fixture` after changing it; the JSON file is what tests read.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fleet.model import (Autoscaler, Cluster, Instance, Node, Port, Service, Snapshot, Workload, encode_snapshot,
                         summarize)

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def nomad_cluster() -> Cluster:
    nodes = [Node(id="n1", name="client-1", status="ready", schedulable=True, os="ubuntu", arch="amd64"),
             Node(id="n2", name="client-2", status="ready", schedulable=True, os="windows", arch="amd64")]
    workloads = [
        Workload(id="eu/default/web", name="web", namespace="default", kind="service", desired=3, running=3,
                 healthy=3, status="healthy",
                 autoscaler=Autoscaler(kind="nomad-autoscaler", min=1, max=3, current=3, desired=3, limited=True,
                                       metrics=["avg_cpu (prometheus: avg(cpu)) → target-value 70"],
                                       message="group web at its maximum (3): the autoscaler may not add more")),
        Workload(id="eu/default/checkout", name="checkout", namespace="default", kind="service", desired=2,
                 running=0, status="failed"),
        Workload(id="eu/default/api", name="api", namespace="default", kind="service", desired=2, running=2,
                 status="healthy",
                 autoscaler=Autoscaler(kind="nomad-autoscaler", min=1, max=5, current=2, desired=2)),
    ]
    instances = [Instance(id=f"w{i}", name=f"web.web[{i}]", workload_id="eu/default/web", node_id="n1",
                          state="running") for i in range(3)]
    instances += [Instance(id=f"c{i}", name=f"checkout.checkout[{i}]", workload_id="eu/default/checkout",
                           node_id="n2", state="failed", reason="Exit Code: 1") for i in range(2)]
    services = [
        Service(id="eu/default/web-http", name="web-http", namespace="default", kind="nomad",
                addresses=["10.0.0.1:21000", "10.0.0.1:22000", "10.0.0.1:23000"], workload_ids=["eu/default/web"],
                backends_total=3, backends_ready=3, status="ok"),
        Service(id="eu/default/checkout-http", name="checkout-http", namespace="default", kind="nomad",
                workload_ids=["eu/default/checkout"], status="down"),
        Service(id="eu/default/api-http", name="api-http", namespace="default", kind="consul",
                workload_ids=["eu/default/api"], status="unknown"),
    ]
    return Cluster(name="eu-nomad", orchestrator="nomad", endpoint="http://nomad:4646", status="ok", version="1.7.7",
                   collected_at=T0, nodes=nodes, workloads=workloads, instances=instances, services=services,
                   summary=summarize(nodes, workloads, instances))


def swarm_cluster() -> Cluster:
    nodes = [Node(id="s1", name="swarm-1", status="ready", schedulable=True, os="linux", arch="x86_64")]
    workloads = [Workload(id="svc1", name="shop", kind="ReplicatedService", desired=2, running=2, healthy=1,
                          status="degraded")]
    instances = [Instance(id="t1", name="shop.1", workload_id="svc1", node_id="s1", state="running", health="healthy"),
                 Instance(id="t2", name="shop.2", workload_id="svc1", node_id="s1", state="running",
                          health="unhealthy")]
    services = [Service(id="svc1", name="shop", kind="vip", addresses=["10.255.0.5"],
                        ports=[Port(port=80, target="80", published=30080)], workload_ids=["svc1"],
                        backends_total=2, backends_ready=1, status="degraded")]
    return Cluster(name="edge-swarm", orchestrator="swarm", endpoint="unix:///var/run/docker.sock", status="ok",
                   collected_at=T0, nodes=nodes, workloads=workloads, instances=instances, services=services,
                   summary=summarize(nodes, workloads, instances))


def services_fleet() -> Snapshot:
    return Snapshot(taken_at=T0, clusters=[nomad_cluster(), swarm_cluster()])


if __name__ == "__main__":
    path = Path(__file__).parent / "snapshots" / "services-fleet.json"
    path.write_bytes(encode_snapshot(services_fleet()) + b"\n")
    print(f"wrote {path}")
