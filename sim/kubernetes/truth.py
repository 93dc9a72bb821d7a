"""What a correct collector must report about a scenario, stated by the scenario's generator.

The generator writes down its intent for every node, workload and pod as it builds the wire
objects (a pod it means to crash-loop, a node it means to be NotReady). Tests compare a
collector's output with these records; nothing here reads the generated JSON back.

The rules the generator follows are documented in docs/kubernetes.md ("what Podium reports").
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class NodeTruth:
    name: str
    status: str  # ready / not_ready / unknown
    schedulable: bool
    roles: list[str]
    zone: str
    region: str
    cpu_capacity_m: int
    mem_capacity_mi: int
    cpu_allocatable_m: int
    mem_allocatable_mi: int
    cpu_used_nano: int | None = None
    mem_used_ki: int | None = None


@dataclass
class PodTruth:
    namespace: str
    name: str
    workload_id: str
    node: str | None
    state: str  # running / pending / succeeded / failed
    health: str  # healthy / unhealthy / unknown
    reason: str | None
    restarts: int
    cpu_m: int  # effective request: max(init, sum of containers) + overhead
    mem_mi: int

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def holds_resources(self) -> bool:
        return self.node is not None and self.state not in ("succeeded", "failed")


@dataclass
class WorkloadTruth:
    kind: str
    namespace: str
    name: str
    status: str
    desired: int | None
    images: list[str]
    cpu_request_m: int
    mem_request_mi: int
    running: int = 0
    healthy: int = 0

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass
class ServiceTruth:
    namespace: str
    name: str
    kind: str  # ClusterIP / NodePort / LoadBalancer / Headless / ExternalName
    addresses: list[str]
    ports: list[tuple[int, str, str | None, int | None]]  # (port, protocol, target, published)
    workload_ids: list[str]
    backends_total: int  # pods behind it with an address (each once, however many slices list it)
    backends_ready: int
    status: str  # ok / degraded / down / unknown

    @property
    def id(self) -> str:
        return f"Service/{self.namespace}/{self.name}"


@dataclass
class AutoscalerTruth:
    min: int
    max: int
    current: int
    desired: int
    metrics: list[str]  # current vs target, as kubectl reads them: "cpu 92% / 70%"
    limited: bool
    message: str | None


@dataclass
class Expected:
    nodes: dict[str, NodeTruth] = field(default_factory=dict)
    workloads: dict[str, WorkloadTruth] = field(default_factory=dict)
    pods: dict[str, PodTruth] = field(default_factory=dict)
    services: dict[str, ServiceTruth] = field(default_factory=dict)
    autoscalers: dict[str, AutoscalerTruth] = field(default_factory=dict)  # by workload id
    warning_events: int = 0
    metrics: str = "ok"

    def add_pod(self, pod: PodTruth) -> None:
        self.pods[pod.key] = pod
        workload = self.workloads[pod.workload_id]
        if pod.state == "running":
            workload.running += 1
            workload.healthy += pod.health == "healthy"

    def nodes_by_status(self) -> dict[str, int]:
        return dict(Counter(n.status for n in self.nodes.values()))

    def unschedulable_nodes(self) -> int:
        return sum(not n.schedulable for n in self.nodes.values())

    def workloads_by_status(self) -> dict[str, int]:
        return dict(Counter(w.status for w in self.workloads.values()))

    def workloads_by_kind(self) -> dict[str, int]:
        return dict(Counter(w.kind for w in self.workloads.values()))

    def instances_by_state(self) -> dict[str, int]:
        return dict(Counter(p.state for p in self.pods.values()))

    def reasons(self) -> dict[str, int]:
        return dict(Counter(p.reason for p in self.pods.values() if p.reason))

    def allocated_by_node(self) -> dict[str, tuple[float, int]]:
        """node → (cores, bytes) requested by the pods that hold resources there."""
        cpu_m: Counter[str] = Counter()
        mem_mi: Counter[str] = Counter()
        for pod in self.pods.values():
            if pod.holds_resources:
                cpu_m[pod.node] += pod.cpu_m  # type: ignore[index]
                mem_mi[pod.node] += pod.mem_mi  # type: ignore[index]
        return {name: (cpu_m[name] / 1000, mem_mi[name] * 2 ** 20) for name in self.nodes}

    def capacity(self) -> tuple[float, int]:
        return (sum(n.cpu_capacity_m for n in self.nodes.values()) / 1000,
                sum(n.mem_capacity_mi for n in self.nodes.values()) * 2 ** 20)

    def used_by_node(self) -> dict[str, tuple[float | None, int | None]]:
        """node → (cores, bytes) measured; (None, None) when metrics are missing or the node is not scraped."""
        result: dict[str, tuple[float | None, int | None]] = {}
        for node in self.nodes.values():
            if self.metrics == "ok" and node.cpu_used_nano is not None and node.mem_used_ki is not None:
                result[node.name] = (node.cpu_used_nano / 1e9, node.mem_used_ki * 1024)
            else:
                result[node.name] = (None, None)
        return result
