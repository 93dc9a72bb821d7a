"""Small builders for hand-made snapshots with known answers (allocations follow the placements)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import msgspec

from fleet.model import Cluster, Instance, Node, Snapshot, Workload, summarize

GIB = 2**30
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


@dataclass
class ClusterBuilder:
    name: str = "c1"
    orchestrator: str = "kubernetes"
    status: str = "ok"
    nodes: list[Node] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)

    def node(self, name: str, *, cpu: float = 4, mem_gib: float = 8, zone: str | None = None, status: str = "ready",
             schedulable: bool = True, roles: tuple[str, ...] = ("worker",)) -> "ClusterBuilder":
        mem = int(mem_gib * GIB)
        self.nodes.append(Node(id=f"id-{name}", name=name, status=status,  # type: ignore[arg-type]
                               schedulable=schedulable, roles=list(roles), zone=zone, cpu_capacity_cores=cpu,
                               cpu_allocatable_cores=cpu, mem_capacity_bytes=mem, mem_allocatable_bytes=mem))
        return self

    def nodes_named(self, *names: str, **kwargs) -> "ClusterBuilder":
        for name in names:
            self.node(name, **kwargs)
        return self

    def workload(self, name: str, on: list[str], *, cpu: float = 0.0, mem_gib: float = 0.0,
                 desired: int | None = None, kind: str = "Deployment", image: str = "web:1",
                 state: str = "running", reason: str | None = None, per_node: bool = False) -> "ClusterBuilder":
        workload = Workload(id=f"id-{name}", name=name, kind=kind, desired=len(on) if desired is None else desired,
                            running=len(on) if state == "running" else 0, images=[image],
                            status="healthy" if state == "running" else "degraded",
                            cpu_request_cores=cpu, mem_request_bytes=int(mem_gib * GIB), per_node=per_node)
        self.workloads.append(workload)
        for index, node_name in enumerate(on):
            self.instances.append(Instance(id=f"id-{name}-{index}", name=f"{name}-{index}",  # type: ignore[arg-type]
                                           workload_id=workload.id, node_id=f"id-{node_name}", state=state,
                                           reason=reason))
        return self

    def build(self) -> Cluster:
        requests = {w.id: (w.cpu_request_cores, w.mem_request_bytes) for w in self.workloads}
        nodes = []
        for node in self.nodes:
            placed = [requests[i.workload_id] for i in self.instances
                      if i.node_id == node.id and i.state in ("running", "pending")]
            nodes.append(msgspec.structs.replace(node, cpu_allocated_cores=round(sum(p[0] for p in placed), 6),
                                                 mem_allocated_bytes=sum(p[1] for p in placed)))
        cluster = Cluster(name=self.name, orchestrator=self.orchestrator,  # type: ignore[arg-type]
                          endpoint=f"https://{self.name}", status=self.status,  # type: ignore[arg-type]
                          collected_at=T0, nodes=nodes, workloads=list(self.workloads), instances=list(self.instances))
        return with_summary(cluster)


def with_summary(cluster: Cluster) -> Cluster:
    return msgspec.structs.replace(cluster, summary=summarize(cluster.nodes, cluster.workloads, cluster.instances))


def snapshot(*clusters: Cluster, taken_at: datetime = T0) -> Snapshot:
    return Snapshot(taken_at=taken_at, clusters=list(clusters))
