"""The Docker Engine API's objects as typed wire structs: only the fields Podium reads (msgspec skips
the rest).

Field names are the Engine's own (Go struct names), so a struct reads like the API reference
(docs.docker.com/engine/api: Node, Service with `status=true`, Task, ContainerSummary, Version).
Go leaves empty fields out (`omitempty`), hence the defaults. CPU is in nano-cores (`NanoCPUs`),
memory in bytes, times are RFC 3339 with nanoseconds.
"""
from __future__ import annotations

from collectors.toolkit import Wire


class Resources(Wire):
    """A node's capacity (`Description.Resources`) or a task's reservation (`Resources.Reservations`)."""

    NanoCPUs: int | None = None
    MemoryBytes: int | None = None


class ObjectVersion(Wire):
    Index: int = 0


class NodeSpec(Wire):
    Role: str = "worker"
    Availability: str = "active"
    Labels: dict[str, str] | None = None


class Platform(Wire):
    OS: str | None = None
    Architecture: str | None = None


class EngineDescription(Wire):
    EngineVersion: str | None = None


class NodeDescription(Wire):
    Hostname: str | None = None
    Platform: Platform | None = None
    Resources: Resources | None = None
    Engine: EngineDescription | None = None


class NodeStatus(Wire):
    State: str = "unknown"
    Addr: str | None = None


class ManagerStatus(Wire):
    Leader: bool = False
    Addr: str | None = None


class Node(Wire):
    """A `/nodes` entry."""

    ID: str
    Spec: NodeSpec | None = None
    Description: NodeDescription | None = None
    Status: NodeStatus | None = None
    ManagerStatus: ManagerStatus | None = None


class HealthConfig(Wire):
    Test: list[str] | None = None


class ContainerSpec(Wire):
    Image: str = ""
    Healthcheck: HealthConfig | None = None


class ResourceRequirements(Wire):
    Reservations: Resources | None = None


class TaskTemplate(Wire):
    ContainerSpec: ContainerSpec | None = None
    Resources: ResourceRequirements | None = None


class ReplicatedMode(Wire):
    # an absent count is Docker's default of one replica; an explicit null is not a count
    Replicas: int | None = 1


class EmptyMode(Wire):
    """`Global`, `ReplicatedJob`, `GlobalJob`: only their presence names the mode."""


class ServiceMode(Wire):
    Replicated: ReplicatedMode | None = None
    Global: EmptyMode | None = None
    ReplicatedJob: EmptyMode | None = None
    GlobalJob: EmptyMode | None = None


class EndpointPort(Wire):
    Name: str | None = None
    Protocol: str = "tcp"
    TargetPort: int = 0
    PublishedPort: int | None = None
    PublishMode: str = "ingress"  # ingress: the routing mesh, on every node; host: on the task's node only


class EndpointSpec(Wire):
    Mode: str | None = None  # vip (default) | dnsrr
    Ports: list[EndpointPort] | None = None


class VirtualIP(Wire):
    NetworkID: str = ""
    Addr: str = ""  # CIDR: 10.0.0.5/24


class Endpoint(Wire):
    """A service's endpoint as the engine resolved it: ports with their published port assigned."""

    Spec: EndpointSpec | None = None
    Ports: list[EndpointPort] | None = None
    VirtualIPs: list[VirtualIP] | None = None


class ServiceSpec(Wire):
    Name: str
    Labels: dict[str, str] | None = None
    Mode: ServiceMode | None = None
    TaskTemplate: TaskTemplate | None = None
    EndpointSpec: EndpointSpec | None = None


class ServiceStatus(Wire):
    """Counts the engine keeps (API 1.41+, with `status=true`)."""

    RunningTasks: int | None = None
    DesiredTasks: int | None = None
    CompletedTasks: int = 0


class UpdateStatus(Wire):
    State: str | None = None


class Service(Wire):
    """A `/services` entry."""

    ID: str
    Spec: ServiceSpec
    ServiceStatus: ServiceStatus | None = None
    UpdateStatus: UpdateStatus | None = None
    Endpoint: Endpoint | None = None


class TaskStatus(Wire):
    State: str = ""
    Err: str | None = None
    Message: str | None = None
    Timestamp: str | None = None


class Task(Wire):
    """A `/tasks` entry."""

    ID: str
    ServiceID: str = ""
    NodeID: str = ""
    # replicated tasks keep their slot number across replacements; global tasks have none
    Slot: int | None = None
    DesiredState: str = ""
    CreatedAt: str = ""
    UpdatedAt: str | None = None
    Version: ObjectVersion | None = None
    Status: TaskStatus | None = None


class ContainerSummary(Wire):
    """A `/containers/json` entry."""

    Labels: dict[str, str] | None = None
    Status: str | None = None


class EngineVersion(Wire):
    """The `/version` answer."""

    Version: str | None = None
    # the newest API version the engine speaks: the prefix of every later request (/v1.47/nodes)
    ApiVersion: str | None = None
    # the oldest it still accepts (Docker 25+ refuses below 1.24, Docker 29 below 1.44)
    MinAPIVersion: str | None = None


class EventActor(Wire):
    ID: str = ""
    # a container's labels (com.docker.swarm.service.id, ...) or an object's name and changes
    Attributes: dict[str, str] | None = None


class EventMessage(Wire):
    """One line of the `/events` stream: `{"Type": "service", "Action": "update", "Actor": {...},
    "scope": "swarm", "time": 1700000000, "timeNano": 1700000000123456789}`."""

    Type: str = ""
    Action: str = ""
    Actor: EventActor | None = None
    timeNano: int = 0


class ErrorAnswer(Wire):
    """The body of an error answer: `{"message": "This node is not a swarm manager. ..."}`."""

    message: str | None = None
