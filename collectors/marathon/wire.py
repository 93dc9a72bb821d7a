"""Marathon's and the Mesos master's JSON as typed wire structs: only the fields Podium reads
(msgspec skips the rest without building it, which is what keeps 50,000 agents cheap).

Marathon's shapes follow its RAML (1.x) and the 0.x docs: a 0.x task has no `state`, only
`stagedAt`/`startedAt`; counts (`tasksRunning`...) are absent unless embedded. The master's are
its legacy JSON (`/master/state-summary`, `/master/state`): resources come as flat maps (`cpus`
in cores, `mem` in MB).
"""
from __future__ import annotations

from datetime import datetime

from typing import Any

import msgspec

from collectors.toolkit import Wire


class HealthCheckResult(Wire):
    alive: bool = False
    consecutiveFailures: int = 0
    lastFailureCause: str | None = None


class Task(Wire):
    id: str
    appId: str | None = None
    host: str | None = None
    slaveId: str | None = None
    state: str | None = None
    startedAt: datetime | None = None
    # absent on tasks without health checks (most): None then, not an empty list made for each of 200,000
    healthCheckResults: list[HealthCheckResult] | None = None


class PortMapping(Wire):
    """`container.portMappings` (1.5+) or `container.docker.portMappings` (before): hostPort 0 is dynamic."""

    containerPort: int = 0
    hostPort: int | None = None
    servicePort: int | None = None
    protocol: str = "tcp"
    name: str | None = None
    labels: dict[str, str] | None = None


class PortDefinition(Wire):
    """`portDefinitions` (host networking): `port` is the service port."""

    port: int = 0
    protocol: str = "tcp"
    name: str | None = None
    labels: dict[str, str] | None = None


class Docker(Wire):
    image: str | None = None
    portMappings: list[PortMapping] | None = None


class Container(Wire):
    docker: Docker | None = None
    portMappings: list[PortMapping] | None = None


class Fetch(Wire):
    uri: str = ""


class TaskFailure(Wire):
    taskId: str = ""
    host: str | None = None
    message: str = ""
    state: str = ""
    timestamp: datetime | None = None


class DeploymentRef(Wire):
    id: str = ""


class App(Wire):
    id: str
    instances: int = 0
    cpus: float = 0.0
    mem: float = 0.0
    cmd: str | None = None
    container: Container | None = None
    uris: list[str] | None = None
    fetch: list[Fetch] | None = None
    healthChecks: list[msgspec.Raw] = []
    portDefinitions: list[PortDefinition] | None = None
    ports: list[int] | None = None  # 0.x: service ports only
    tasksRunning: int | None = None
    tasksHealthy: int | None = None
    deployments: list[DeploymentRef] = []
    tasks: list[Task] | None = None
    lastTaskFailure: TaskFailure | None = None


class AppList(Wire):
    apps: list[App]  # required: an answer without it is not Marathon's app list


class AppSlices(Wire):
    """The app list with each app left undecoded (a slice of the body): see `apps_read_again`."""
    apps: list[msgspec.Raw]


class EndpointStatus(Wire):
    name: str = ""
    healthy: bool | None = None


class ContainerStatus(Wire):
    name: str = ""
    status: str | None = None
    message: str | None = None
    endpoints: list[EndpointStatus] = []


class PodInstanceStatus(Wire):
    id: str
    status: str = ""
    statusSince: datetime | None = None
    message: str | None = None
    agentId: str | None = None
    containers: list[ContainerStatus] = []


class PodResources(Wire):
    cpus: float = 0.0
    mem: float = 0.0


class PodImage(Wire):
    id: str = ""


class PodContainer(Wire):
    name: str = ""
    resources: PodResources = msgspec.field(default_factory=PodResources)
    image: PodImage | None = None


class PodScaling(Wire):
    instances: int = 1


class PodSpec(Wire):
    id: str = ""
    scaling: PodScaling | None = None
    containers: list[PodContainer] = []
    executorResources: PodResources | None = None


class PodStatus(Wire):
    id: str
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: str = ""
    message: str | None = None
    instances: list[PodInstanceStatus] = []


class Rejection(Wire):
    reason: str = ""
    declined: int = 0


class OffersSummary(Wire):
    processedOffersCount: int = 0
    unusedOffersCount: int = 0
    rejectSummaryLastOffers: list[Rejection] | None = None
    rejectSummaryLaunchAttempt: list[Rejection] | None = None


class QueueDelay(Wire):
    timeLeftSeconds: float = 0.0
    overdue: bool = True


class RunSpecRef(Wire):
    id: str = ""


class QueueItem(Wire):
    app: RunSpecRef | None = None
    pod: RunSpecRef | None = None
    count: int = 0
    delay: QueueDelay | None = None
    since: datetime | None = None
    processedOffersSummary: OffersSummary | None = None

    @property
    def run_spec_id(self) -> str:
        return (self.app or self.pod or RunSpecRef()).id


class Queue(Wire):
    queue: list[QueueItem] = []


class DeploymentAction(Wire):
    action: str | None = None
    type: str | None = None  # marathon-python era clients saw `type` in steps
    app: str | None = None
    pod: str | None = None


class Deployment(Wire):
    id: str
    version: datetime | None = None
    affectedApps: list[str] = []
    affectedPods: list[str] = []
    currentActions: list[DeploymentAction] = []
    currentStep: int | None = None
    totalSteps: int | None = None


class MarathonConfig(Wire):
    mesos_role: str | None = None


class Info(Wire):
    version: str | None = None
    leader: str | None = None
    elected: bool | None = None
    marathon_config: MarathonConfig | None = None


# --- the Mesos master -------------------------------------------------------------------------
class Resources(Wire):
    cpus: float = 0.0
    mem: float = 0.0  # MB


class DrainInfo(Wire):
    state: str = ""


class DomainName(Wire):
    name: str = ""


class FaultDomain(Wire):
    region: DomainName | None = None
    zone: DomainName | None = None


class Domain(Wire):
    fault_domain: FaultDomain | None = None


class Agent(Wire):
    id: str
    hostname: str = ""
    pid: str | None = None
    active: bool = True
    deactivated: bool | None = None
    drain_info: DrainInfo | None = None
    resources: Resources = msgspec.field(default_factory=Resources)
    used_resources: Resources | None = None
    reserved_resources: dict[str, Resources] | None = None
    unreserved_resources: Resources | None = None
    attributes: dict[str, Any] = {}
    version: str | None = None
    domain: Domain | None = None


class AgentList(Wire):
    """`/master/state-summary`, `/master/slaves` and `/master/state` all carry `slaves`."""

    slaves: list[Agent]  # required: an answer without it is not the master's agent list
