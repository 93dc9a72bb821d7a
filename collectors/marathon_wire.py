"""Marathon's JSON as typed wire structs: only the fields Podium reads (msgspec skips the rest).

Shapes follow Marathon's RAML (1.x) and the 0.x docs: a 0.x task has no `state`, only
`stagedAt`/`startedAt`; counts (`tasksRunning`...) are absent unless embedded.
"""
from __future__ import annotations

from datetime import datetime

import msgspec


class HealthCheckResult(msgspec.Struct):
    alive: bool = False
    consecutiveFailures: int = 0
    lastFailureCause: str | None = None


class Task(msgspec.Struct):
    id: str
    appId: str | None = None
    host: str | None = None
    slaveId: str | None = None
    state: str | None = None
    startedAt: datetime | None = None
    healthCheckResults: list[HealthCheckResult] = []


class Docker(msgspec.Struct):
    image: str | None = None


class Container(msgspec.Struct):
    docker: Docker | None = None


class Fetch(msgspec.Struct):
    uri: str = ""


class TaskFailure(msgspec.Struct):
    taskId: str = ""
    host: str | None = None
    message: str = ""
    state: str = ""
    timestamp: datetime | None = None


class DeploymentRef(msgspec.Struct):
    id: str = ""


class App(msgspec.Struct):
    id: str
    instances: int = 0
    cpus: float = 0.0
    mem: float = 0.0
    cmd: str | None = None
    container: Container | None = None
    uris: list[str] | None = None
    fetch: list[Fetch] | None = None
    healthChecks: list[msgspec.Raw] = []
    tasksStaged: int | None = None
    tasksRunning: int | None = None
    tasksHealthy: int | None = None
    tasksUnhealthy: int | None = None
    deployments: list[DeploymentRef] = []
    tasks: list[Task] | None = None
    lastTaskFailure: TaskFailure | None = None


class AppList(msgspec.Struct):
    apps: list[App] = []


class AppSingle(msgspec.Struct):
    app: App


class TaskList(msgspec.Struct):
    tasks: list[Task] = []


class EndpointStatus(msgspec.Struct):
    name: str = ""
    healthy: bool | None = None


class ContainerStatus(msgspec.Struct):
    name: str = ""
    status: str | None = None
    message: str | None = None
    endpoints: list[EndpointStatus] = []


class PodInstanceStatus(msgspec.Struct):
    id: str
    status: str = ""
    statusSince: datetime | None = None
    message: str | None = None
    agentId: str | None = None
    agentHostname: str | None = None
    containers: list[ContainerStatus] = []


class PodResources(msgspec.Struct):
    cpus: float = 0.0
    mem: float = 0.0


class PodImage(msgspec.Struct):
    id: str = ""


class PodContainer(msgspec.Struct):
    name: str = ""
    resources: PodResources = msgspec.field(default_factory=PodResources)
    image: PodImage | None = None


class PodScaling(msgspec.Struct):
    instances: int = 1


class PodSpec(msgspec.Struct):
    id: str = ""
    scaling: PodScaling | None = None
    containers: list[PodContainer] = []
    executorResources: PodResources | None = None


class PodStatus(msgspec.Struct):
    id: str
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: str = ""
    message: str | None = None
    instances: list[PodInstanceStatus] = []


class Rejection(msgspec.Struct):
    reason: str = ""
    declined: int = 0
    processed: int = 0


class OffersSummary(msgspec.Struct):
    processedOffersCount: int = 0
    unusedOffersCount: int = 0
    rejectSummaryLastOffers: list[Rejection] | None = None
    rejectSummaryLaunchAttempt: list[Rejection] | None = None


class QueueDelay(msgspec.Struct):
    timeLeftSeconds: float = 0.0
    overdue: bool = True


class RunSpecRef(msgspec.Struct):
    id: str = ""


class QueueItem(msgspec.Struct):
    app: RunSpecRef | None = None
    pod: RunSpecRef | None = None
    count: int = 0
    delay: QueueDelay | None = None
    since: datetime | None = None
    processedOffersSummary: OffersSummary | None = None

    @property
    def run_spec_id(self) -> str:
        return (self.app or self.pod or RunSpecRef()).id


class Queue(msgspec.Struct):
    queue: list[QueueItem] = []


class DeploymentAction(msgspec.Struct):
    action: str | None = None
    type: str | None = None  # marathon-python era clients saw `type` in steps
    app: str | None = None
    pod: str | None = None


class Deployment(msgspec.Struct):
    id: str
    version: datetime | None = None
    affectedApps: list[str] = []
    affectedPods: list[str] = []
    currentActions: list[DeploymentAction] = []
    currentStep: int | None = None
    totalSteps: int | None = None


class MarathonConfig(msgspec.Struct):
    mesos_role: str | None = None


class Info(msgspec.Struct):
    version: str | None = None
    leader: str | None = None
    elected: bool | None = None
    frameworkId: str | None = None
    marathon_config: MarathonConfig | None = None
