"""The common model: Snapshot v1 (see docs/snapshot-format.md).

Every page, export, CLI command and test sees the fleet through these types. Field names and
meanings are a contract (`podium.snapshot/v1`): extend, never rename or drop.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Literal

import msgspec

SCHEMA_ID = "podium.snapshot/v1"

# the orchestrators of the v1 contract; the registry (fleet/orchestrators.py) holds the same names, and
# Cluster.orchestrator is a plain str so a snapshot naming an orchestrator added later still reads
Orchestrator = Literal["kubernetes", "swarm", "nomad", "marathon"]
ClusterStatus = Literal["ok", "degraded", "unreachable", "unauthorized", "error"]
NodeStatus = Literal["ready", "not_ready", "down", "unknown"]
WorkloadStatus = Literal["healthy", "progressing", "degraded", "failed", "completed", "stopped", "unknown"]
InstanceState = Literal["running", "pending", "succeeded", "failed", "stopped", "unknown"]
InstanceHealth = Literal["healthy", "unhealthy", "unknown"]
ServiceStatus = Literal["ok", "degraded", "down", "unknown"]
Protocol = Literal["tcp", "udp", "sctp"]
Severity = Literal["info", "warning", "error"]

SERVICE_STATUSES: tuple[str, ...] = ("ok", "degraded", "down", "unknown")
WORKLOAD_STATUSES: tuple[str, ...] = ("healthy", "progressing", "degraded", "failed", "completed", "stopped", "unknown")
INSTANCE_STATES: tuple[str, ...] = ("running", "pending", "succeeded", "failed", "stopped", "unknown")


# Node, Workload, Instance and Event hold only scalars and lists or maps of strings, so they can
# never be part of a reference cycle: `gc=False` keeps the 100,000s of them a large fleet has out of
# the cyclic garbage collector's passes (msgspec: "Disabling garbage collection").


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Node(msgspec.Struct, kw_only=True, gc=False):
    id: str
    name: str
    status: NodeStatus
    schedulable: bool
    roles: list[str] = []
    address: str | None = None
    zone: str | None = None
    region: str | None = None
    cpu_capacity_cores: float = 0.0
    mem_capacity_bytes: int = 0
    cpu_allocatable_cores: float = 0.0
    mem_allocatable_bytes: int = 0
    cpu_allocated_cores: float = 0.0
    mem_allocated_bytes: int = 0
    cpu_used_cores: float | None = None
    mem_used_bytes: int | None = None
    labels: dict[str, str] = {}
    version: str | None = None
    os: str | None = None
    arch: str | None = None


class Autoscaler(msgspec.Struct, kw_only=True, gc=False):
    """What may change a Workload's size by itself (K8s HPA, Nomad Autoscaler policy)."""
    kind: str
    max: int
    min: int | None = None
    current: int | None = None
    desired: int | None = None
    metrics: list[str] = []  # as a person reads it, current vs target: "cpu 92% / 70%"
    limited: bool = False
    message: str | None = None


class Workload(msgspec.Struct, kw_only=True, gc=False):
    id: str
    name: str
    namespace: str = ""
    kind: str
    desired: int | None = None
    running: int = 0
    healthy: int | None = None
    status: WorkloadStatus = "unknown"
    images: list[str] = []
    cpu_request_cores: float = 0.0
    mem_request_bytes: int = 0
    # one instance on every eligible node (DaemonSet, global service, system job): a lost node takes
    # its own copy with it, nothing is re-placed elsewhere. Set by the collector; false in older snapshots.
    per_node: bool = False
    autoscaler: Autoscaler | None = None


class Instance(msgspec.Struct, kw_only=True, gc=False):
    id: str
    name: str
    workload_id: str | None = None
    node_id: str | None = None
    state: InstanceState = "unknown"
    health: InstanceHealth = "unknown"
    restarts: int = 0
    reason: str | None = None
    started_at: datetime | None = None


class Port(msgspec.Struct, kw_only=True, gc=False):
    port: int
    protocol: Protocol = "tcp"
    target: str | None = None  # container port (as text) or its name
    published: int | None = None  # node / host / ingress port


class Service(msgspec.Struct, kw_only=True, gc=False):
    """A stable address in front of instances: K8s Service, Swarm endpoint, Nomad registration, Marathon ports."""
    id: str
    name: str
    namespace: str = ""
    kind: str
    addresses: list[str] = []
    ports: list[Port] = []
    workload_ids: list[str] = []
    backends_total: int = 0  # one per endpoint target (pod, task, registration), not per address or port
    backends_ready: int = 0
    status: ServiceStatus = "unknown"


def service_status(backends_total: int, backends_ready: int, expected: bool = True) -> ServiceStatus:
    """ok: every backend ready (at least one); degraded: some; down: expected but none ready; unknown: none expected."""
    if not expected:
        return "unknown"
    if backends_ready and backends_ready >= backends_total:
        return "ok"
    if backends_ready:
        return "degraded"
    return "down"


class Event(msgspec.Struct, kw_only=True, gc=False):
    time: datetime
    severity: Severity
    object: str
    reason: str
    message: str


class Summary(msgspec.Struct, kw_only=True):
    nodes_total: int = 0
    nodes_ready: int = 0
    workloads_total: int = 0
    workloads_by_status: dict[str, int] = {}
    instances_total: int = 0
    instances_by_state: dict[str, int] = {}
    cpu_capacity_cores: float = 0.0
    cpu_allocatable_cores: float = 0.0
    cpu_allocated_cores: float = 0.0
    mem_capacity_bytes: int = 0
    mem_allocatable_bytes: int = 0
    mem_allocated_bytes: int = 0
    cpu_used_cores: float | None = None
    mem_used_bytes: int | None = None


class Cluster(msgspec.Struct, kw_only=True):
    name: str
    orchestrator: str
    endpoint: str
    status: ClusterStatus
    error: str | None = None
    version: str | None = None
    collected_at: datetime | None = None
    stale: bool = False
    # false when the cluster's config turns TLS verification off (verify_tls: false): shown as a warning
    verify_tls: bool = True
    nodes: list[Node] = []
    workloads: list[Workload] = []
    instances: list[Instance] = []
    events: list[Event] = []
    services: list[Service] = []
    summary: Summary = msgspec.field(default_factory=Summary)


# what a cluster says (status unreachable, nothing collected) until its first collection ends
NOT_COLLECTED_YET = "not collected yet: the first collection round is running"


def not_collected_yet(cluster: Cluster) -> bool:
    """The placeholder a cluster is until its first collection ends: no data, and no verdict either."""
    return cluster.collected_at is None and cluster.error == NOT_COLLECTED_YET


class Snapshot(msgspec.Struct, kw_only=True):
    schema: Literal["podium.snapshot/v1"] = SCHEMA_ID
    taken_at: datetime
    clusters: list[Cluster] = []


def summarize(nodes: list[Node], workloads: list[Workload], instances: list[Instance]) -> Summary:
    """Totals over a cluster's lists. Usage totals are null unless every ready node reports usage."""
    ready = [n for n in nodes if n.status == "ready"]
    cpu_used = [n.cpu_used_cores for n in ready]
    mem_used = [n.mem_used_bytes for n in ready]
    return Summary(
        nodes_total=len(nodes),
        nodes_ready=len(ready),
        workloads_total=len(workloads),
        workloads_by_status=dict(Counter(w.status for w in workloads)),
        instances_total=len(instances),
        instances_by_state=dict(Counter(i.state for i in instances)),
        cpu_capacity_cores=round(sum(n.cpu_capacity_cores for n in nodes), 6),
        cpu_allocatable_cores=round(sum(n.cpu_allocatable_cores for n in nodes), 6),
        cpu_allocated_cores=round(sum(n.cpu_allocated_cores for n in nodes), 6),
        mem_capacity_bytes=sum(n.mem_capacity_bytes for n in nodes),
        mem_allocatable_bytes=sum(n.mem_allocatable_bytes for n in nodes),
        mem_allocated_bytes=sum(n.mem_allocated_bytes for n in nodes),
        cpu_used_cores=round(sum(cpu_used), 6) if ready and None not in cpu_used else None,
        mem_used_bytes=sum(mem_used) if ready and None not in mem_used else None,  # type: ignore[arg-type]
    )


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Snapshot)


def encode_snapshot(snapshot: Snapshot, *, indent: int = 2) -> bytes:
    raw = _encoder.encode(snapshot)
    return msgspec.json.format(raw, indent=indent) if indent else raw


def decode_snapshot(data: bytes | str) -> Snapshot:
    """Decode and validate a v1 snapshot; raises msgspec.ValidationError / DecodeError on bad input."""
    return _decoder.decode(data)


def json_schema() -> dict:
    return msgspec.json.schema(Snapshot)
