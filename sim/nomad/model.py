"""The emulated Nomad cluster's own state: compact records the wire renderer turns into JSON.

Kept small on purpose (slots, no nested dicts) so a 10,000-node, 100,000-allocation cluster fits
in memory; `sim.nomad.wire` renders the upstream shapes from these on demand.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MIB = 1024 * 1024
NANOS = 1_000_000_000


@dataclass(slots=True)
class TaskEvent:
    type: str
    time_ns: int
    message: str = ""  # DisplayMessage
    fails_task: bool = False
    exit_code: int = 0
    driver_error: str = ""
    restart_reason: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Task:
    name: str
    driver: str
    config: dict[str, object]
    cpu_mhz: int
    memory_mb: int
    lifecycle: str | None = None  # "prestart" etc.


@dataclass(slots=True)
class GroupService:
    """A group-level `service` block: provider nomad registers it in Nomad, consul in Consul."""
    name: str
    port_label: str
    provider: str = "nomad"
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class Scaling:
    """A group's horizontal `scaling` block (what the Nomad Autoscaler reads)."""
    id: str
    min: int
    max: int
    enabled: bool = True
    checks: tuple[tuple[str, str, str], ...] = ()  # (name, source, query)


@dataclass(slots=True)
class Group:
    name: str
    count: int
    tasks: list[Task]
    services: list[GroupService] = field(default_factory=list)
    scaling: Scaling | None = None


@dataclass(slots=True)
class Node:
    id: str
    name: str
    region: str
    datacenter: str
    address: str
    node_class: str
    pool: str
    cores: int
    mhz_per_core: int
    memory_mb: int
    reserved_mhz: int
    reserved_memory_mb: int
    drivers: tuple[str, ...]
    status: str = "ready"  # ready | down | initializing | disconnected
    eligible: bool = True
    draining: bool = False
    stats: bool = True  # the client answers /v1/client/stats
    os_name: str = "ubuntu"
    arch: str = "amd64"
    version: str = "1.7.7"
    create_index: int = 10
    modify_index: int = 10
    status_updated_at: int = 0  # unix seconds
    cpu_used_mhz: float = 0.0
    memory_used_mb: int = 0

    @property
    def cpu_mhz(self) -> int:
        return self.cores * self.mhz_per_core


@dataclass(slots=True)
class Job:
    id: str
    name: str
    namespace: str
    region: str
    type: str  # service | batch | system | sysbatch
    datacenters: list[str]
    groups: list[Group]
    status: str = "running"  # pending | running | dead
    stop: bool = False
    version: int = 0
    priority: int = 50
    periodic: bool = False
    has_update: bool = False  # an `update` block: allocations report deployment health
    create_index: int = 20
    modify_index: int = 20
    job_modify_index: int = 20
    submit_time_ns: int = 0
    summary: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(slots=True)
class Alloc:
    id: str
    job: Job
    group: Group
    index: int  # the [n] in the name
    node: Node
    eval_id: str
    client_status: str  # pending | running | complete | failed | lost | unknown
    desired_status: str = "run"  # run | stop | evict
    client_description: str = ""
    desired_description: str = ""
    job_version: int = 0
    healthy: bool | None = None  # DeploymentStatus.Healthy; None: no deployment status
    deployment_id: str = ""
    restarts: int = 0
    events: list[TaskEvent] = field(default_factory=list)  # events of the failing task
    failing_task: str = ""
    previous_id: str = ""  # the allocation this one replaces (RescheduleTracker)
    next_id: str = ""
    migrate: bool = False
    create_index: int = 30
    modify_index: int = 30
    create_time_ns: int = 0
    modify_time_ns: int = 0
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def name(self) -> str:
        return f"{self.job.id}.{self.group.name}[{self.index}]"

    @property
    def namespace(self) -> str:
        return self.job.namespace


@dataclass(slots=True)
class DeploymentGroup:
    desired_total: int
    placed: int
    healthy: int
    unhealthy: int
    desired_canaries: int = 0
    promoted: bool = False
    auto_revert: bool = False


@dataclass(slots=True)
class Deployment:
    id: str
    job: Job
    job_version: int
    status: str  # running | successful | failed | paused | cancelled
    description: str
    groups: dict[str, DeploymentGroup]
    create_index: int = 40
    modify_index: int = 40


@dataclass(slots=True)
class PlacementFailure:
    group: str
    nodes_evaluated: int
    nodes_exhausted: int
    dimension: str  # "memory" | "cpu"
    nodes_available: dict[str, int]
    coalesced: int = 0


@dataclass(slots=True)
class Evaluation:
    id: str
    job: Job
    status: str  # blocked | complete | pending
    triggered_by: str
    failures: list[PlacementFailure] = field(default_factory=list)
    queued: dict[str, int] = field(default_factory=dict)
    create_index: int = 50
    modify_index: int = 50
    create_time_ns: int = 0


@dataclass
class Region:
    """One region's state store: what its servers answer for `?region=<name>`."""

    name: str
    datacenters: list[str]
    nodes: list[Node] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    allocs: list[Alloc] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    leader: str = "10.0.0.1:4647"
    # False: the region's servers cannot be reached from the others (cross-region RPC fails)
    reachable: bool = True
    # False: no leader; only `?stale` reads are answered (by a follower)
    has_leader: bool = True
