"""Nomad's JSON as typed wire structs: only the fields Podium reads (msgspec skips the rest).

Field names are Nomad's own (Go struct names, PascalCase), so a struct reads like the API docs.
Units are upstream's: CPU in MHz (`CpuShares`, `CPU`), memory in MB (MiB), times in unix
nanoseconds except `StartedAt` (RFC 3339). Older payloads carry the legacy `Resources` /
`Reserved` blocks instead of `NodeResources` / `ReservedResources` and `AllocatedResources`.
"""
from __future__ import annotations

from typing import Any, ClassVar

from collectors.toolkit import Wire


class Cpu(Wire):
    CpuShares: int = 0
    TotalCpuCores: int = 0


class Memory(Wire):
    MemoryMB: int = 0


class NodeResources(Wire):
    Cpu: Cpu | None = None
    Memory: Memory | None = None


class LegacyResources(Wire):
    CPU: int = 0
    Cores: int = 0
    MemoryMB: int = 0


class DriverInfo(Wire):
    Detected: bool = False
    Healthy: bool = False


class NodeStub(Wire):
    """A `/v1/nodes` entry (with `resources=true`), or a whole `/v1/node/:id`."""

    ID: str
    Name: str = ""
    Address: str = ""
    HTTPAddr: str = ""
    Datacenter: str = ""
    NodeClass: str = ""
    NodePool: str = ""
    Version: str = ""
    Drain: bool = False
    SchedulingEligibility: str = "eligible"
    Status: str = ""
    StatusDescription: str = ""
    Drivers: dict[str, DriverInfo] | None = None
    Attributes: dict[str, str] | None = None
    NodeResources: NodeResources | None = None
    ReservedResources: NodeResources | None = None
    Resources: LegacyResources | None = None
    Reserved: LegacyResources | None = None


class TaskAllocated(Wire):
    Cpu: Cpu | None = None
    Memory: Memory | None = None


class AllocatedResources(Wire):
    Tasks: dict[str, TaskAllocated] | None = None


class DeploymentStatus(Wire):
    Healthy: bool | None = None


class TaskEvent(Wire):
    Type: str = ""
    Time: int = 0
    DisplayMessage: str = ""
    Message: str = ""
    DriverError: str = ""
    SetupError: str = ""
    DownloadError: str = ""
    ValidationError: str = ""
    KillError: str = ""
    ExitCode: int = 0
    FailsTask: bool = False


class TaskState(Wire):
    State: str = ""
    Failed: bool = False
    Restarts: int = 0
    StartedAt: str | None = None
    Events: list[TaskEvent] | None = None


class RescheduleEvent(Wire):
    PrevAllocID: str = ""


class RescheduleTracker(Wire):
    Events: list[RescheduleEvent] | None = None


class LeanAlloc(Wire):
    """A `/v1/allocations` entry of the lean list (every allocation, without task states): only what
    each one needs. The troubled ones are read again in full (`AllocStub`), so what only they need
    is a constant here, and 100,000 allocations decode into fewer objects."""

    ID: str
    Name: str = ""
    Namespace: str = "default"
    NodeID: str = ""
    JobID: str = ""
    DesiredStatus: str = ""
    ClientStatus: str = ""
    DeploymentStatus: DeploymentStatus | None = None
    RescheduleTracker: RescheduleTracker | None = None
    AllocatedResources: AllocatedResources | None = None
    Resources: LegacyResources | None = None
    ClientDescription: ClassVar[str] = ""
    TaskStates: ClassVar[None] = None
    ModifyTime: ClassVar[int] = 0


class AllocStub(LeanAlloc):
    """A whole `/v1/allocations` entry: the lean one's fields and what only troubled allocations
    need; `TaskStates` only when asked for, `AllocatedResources` likewise."""

    ClientDescription: str = ""
    TaskStates: dict[str, TaskState] | None = None
    ModifyTime: int = 0


class SummaryCounts(Wire):
    Queued: int = 0
    Complete: int = 0
    Failed: int = 0
    Running: int = 0
    Starting: int = 0
    Lost: int = 0
    Unknown: int = 0


class JobSummary(Wire):
    Namespace: str = ""
    Summary: dict[str, SummaryCounts] | None = None


class JobStub(Wire):
    """A `/v1/jobs` entry with its embedded summary."""

    ID: str
    Name: str = ""
    Namespace: str = ""
    Type: str = "service"
    Status: str = ""
    Stop: bool = False
    Periodic: bool = False
    ParameterizedJob: bool = False
    JobModifyIndex: int = 0
    JobSummary: JobSummary | None = None

    @property
    def namespace(self) -> str:
        return self.Namespace or (self.JobSummary.Namespace if self.JobSummary else "") or "default"


class ServiceBlock(Wire):
    """A `service` block of a job spec (group or task level). Provider "" is Consul, Nomad's default."""

    Name: str = ""
    PortLabel: str = ""
    Provider: str = ""
    Tags: list[str] | None = None


class Task(Wire):
    Name: str = ""
    Driver: str = ""
    Config: dict[str, Any] | None = None
    Resources: LegacyResources | None = None
    Services: list[ServiceBlock] | None = None


class TaskGroup(Wire):
    Name: str = ""
    Count: int = 1
    Tasks: list[Task] | None = None
    Services: list[ServiceBlock] | None = None


class JobSpec(Wire):
    """`/v1/job/:id`: the spec Podium needs (counts, tasks, versions)."""

    ID: str
    Namespace: str = "default"
    Type: str = "service"
    Version: int = 0
    Stop: bool = False
    Status: str = ""
    JobModifyIndex: int = 0
    TaskGroups: list[TaskGroup] | None = None
    Periodic: dict[str, Any] | None = None
    ParameterizedJob: dict[str, Any] | None = None
    Dispatched: bool = False  # a child of a parameterized job: it runs its task groups itself


class DeploymentState(Wire):
    DesiredTotal: int = 0
    HealthyAllocs: int = 0
    UnhealthyAllocs: int = 0


class Deployment(Wire):
    ID: str
    JobID: str = ""
    Namespace: str = "default"
    JobVersion: int = 0
    Status: str = ""
    StatusDescription: str = ""
    CreateIndex: int = 0
    TaskGroups: dict[str, DeploymentState] | None = None


class AllocMetric(Wire):
    NodesEvaluated: int = 0
    NodesFiltered: int = 0
    NodesExhausted: int = 0
    DimensionExhausted: dict[str, int] | None = None
    ConstraintFiltered: dict[str, int] | None = None
    CoalescedFailures: int = 0


class Evaluation(Wire):
    ID: str
    JobID: str = ""
    Namespace: str = "default"
    Status: str = ""
    StatusDescription: str = ""
    FailedTGAllocs: dict[str, AllocMetric] | None = None
    QueuedAllocations: dict[str, int] | None = None
    CreateTime: int = 0
    ModifyTime: int = 0


class AgentVersion(Wire):
    Version: str = ""


class AgentConfig(Wire):
    Region: str = ""
    Version: AgentVersion | str | None = None


class AgentMember(Wire):
    Tags: dict[str, str] | None = None


class AgentSelf(Wire):
    config: AgentConfig | None = None
    member: AgentMember | None = None

    @property
    def version(self) -> str | None:
        configured = self.config.Version if self.config else None
        if isinstance(configured, AgentVersion) and configured.Version:
            return configured.Version
        if isinstance(configured, str) and configured:
            return configured
        return ((self.member.Tags or {}).get("build") if self.member else None) or None

    @property
    def region(self) -> str | None:
        if self.config and self.config.Region:
            return self.config.Region
        return ((self.member.Tags or {}).get("region") if self.member else None) or None


class HostMemory(Wire):
    Used: int = 0


class HostStats(Wire):
    """`/v1/client/stats`: `CPUTicksConsumed` is MHz in use across all cores."""

    Memory: HostMemory | None = None
    CPUTicksConsumed: float = 0.0


# --- native service discovery and scaling (Nomad 1.3+ / 0.11+) ------------------------------------

class ServiceName(Wire):
    ServiceName: str = ""
    Tags: list[str] | None = None


class ServiceList(Wire):
    """One `/v1/services` entry: a namespace and the service names registered in it."""

    Namespace: str = "default"
    Services: list[ServiceName] | None = None


class ServiceRegistration(Wire):
    """A `/v1/service/:name` item: one allocation's registration. It carries no check status. Only
    what the services are made of is decoded: the registration's ID, NodeID, Datacenter and Tags
    are not, which halves what the worker sends back for 28,000 registrations (9.0 → 3.8 MB)."""

    ServiceName: str = ""
    Namespace: str = "default"
    JobID: str = ""
    AllocID: str = ""
    Address: str = ""
    Port: int = 0


class ScalingTarget(Wire):
    Namespace: str = ""
    Job: str = ""
    Group: str = ""
    Task: str = ""


class ScalingPolicy(Wire):
    """A `/v1/scaling/policies` stub (no Min/Max/Policy), or a whole `/v1/scaling/policy/:id`."""

    ID: str
    Type: str = "horizontal"
    Enabled: bool = True
    Min: int | None = None
    Max: int | None = None
    Policy: dict[str, Any] | None = None
    Target: ScalingTarget | None = None


class GroupScale(Wire):
    Desired: int = 0
    Placed: int = 0
    Running: int = 0
    Healthy: int = 0
    Unhealthy: int = 0


class JobScale(Wire):
    """`/v1/job/:id/scale`: per task group what the job asks for and what runs."""

    JobID: str = ""
    Namespace: str = "default"
    JobStopped: bool = False
    TaskGroups: dict[str, GroupScale] | None = None
