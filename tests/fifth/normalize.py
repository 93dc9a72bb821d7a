"""Pure: Lighthouse's wire structs in, the common model out."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from collectors.toolkit import MIB
from fleet.model import Instance, InstanceState, Node, NodeStatus, Workload, WorkloadStatus
from fleet.source import ClusterData
from tests.fifth.wire import Fleet, Host, Replica, Service

HOST_STATUS: dict[str, NodeStatus] = {"up": "ready", "draining": "ready", "down": "down"}
REPLICA_STATE: dict[str, InstanceState] = {"running": "running", "starting": "pending", "crashed": "failed",
                                           "exited": "stopped"}
HOLDS_RESOURCES = frozenset({"running", "pending"})
PER_NODE_MODE = "everywhere"  # one replica on every up host: a lost host takes only its own copy


@dataclass
class LighthouseRaw:
    fleet: Fleet
    hosts: list[Host]
    services: list[Service]
    replicas: list[Replica]


def node(host: Host, allocated_millis: int, allocated_mib: int) -> Node:
    cores = host.cpu_millis / 1000
    return Node(id=host.id, name=host.hostname, status=HOST_STATUS.get(host.state, "unknown"),
                schedulable=host.state == "up", zone=host.zone, cpu_capacity_cores=cores, cpu_allocatable_cores=cores,
                mem_capacity_bytes=host.mem_mib * MIB, mem_allocatable_bytes=host.mem_mib * MIB,
                cpu_allocated_cores=allocated_millis / 1000, mem_allocated_bytes=allocated_mib * MIB)


def status(desired: int, running: int) -> WorkloadStatus:
    if desired == 0:
        return "stopped"
    return "healthy" if running >= desired else "degraded" if running else "failed"


def workload(service: Service, running: int, up_hosts: int) -> Workload:
    per_node = service.mode == PER_NODE_MODE
    desired = up_hosts if per_node else service.replicas or 0
    return Workload(id=service.id, name=service.name, kind=service.mode, desired=desired, running=running,
                    status=status(desired, running), images=[service.image] if service.image else [],
                    cpu_request_cores=service.cpu_millis / 1000, mem_request_bytes=service.mem_mib * MIB,
                    per_node=per_node)


def instance(replica: Replica) -> Instance:
    return Instance(id=replica.id, name=replica.name, workload_id=replica.service, node_id=replica.host,
                    state=REPLICA_STATE.get(replica.state, "unknown"), restarts=replica.restarts,
                    reason=replica.reason, started_at=replica.started)


def normalize(raw: LighthouseRaw) -> ClusterData:
    services = {s.id: s for s in raw.services}
    instances = [instance(r) for r in raw.replicas]
    millis: dict[str, int] = defaultdict(int)
    mib: dict[str, int] = defaultdict(int)
    for item in instances:
        service = services.get(item.workload_id or "")
        if service is not None and item.node_id and item.state in HOLDS_RESOURCES:
            millis[item.node_id] += service.cpu_millis
            mib[item.node_id] += service.mem_mib
    running = Counter(i.workload_id for i in instances if i.state == "running")
    up_hosts = sum(1 for h in raw.hosts if h.state == "up")
    return ClusterData(version=raw.fleet.version,
                       nodes=[node(h, millis[h.id], mib[h.id]) for h in raw.hosts],
                       workloads=[workload(s, running[s.id], up_hosts) for s in raw.services],
                       instances=instances)
