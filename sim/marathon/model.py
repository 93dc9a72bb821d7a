"""What the emulated Marathon knows: apps, tasks, pods, the launch queue, deployments.

Plain dataclasses, filled by a scenario and rendered to Marathon's JSON by `sim.marathon.render`.
Times are ISO-8601 strings with milliseconds and a `Z`, as Marathon writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class HealthResult:
    alive: bool
    consecutive_failures: int = 0
    last_failure_cause: str | None = None
    last_success: str | None = "2026-01-01T00:00:10.000Z"
    last_failure: str | None = None


@dataclass
class Task:
    id: str
    app_id: str
    agent_id: str
    host: str
    state: str = "TASK_RUNNING"
    staged_at: str = "2026-01-01T00:00:00.000Z"
    started_at: str | None = "2026-01-01T00:00:05.000Z"
    version: str = "2026-01-01T00:00:00.000Z"
    ports: list[int] = field(default_factory=lambda: [31000])
    health: list[HealthResult] | None = None
    region: str | None = None
    zone: str | None = None


@dataclass
class OfferRejection:
    reason: str
    declined: int
    processed: int


@dataclass
class QueueEntry:
    count: int
    since: str = "2026-01-01T00:00:00.000Z"
    delay_left_s: int = 0
    overdue: bool = True
    processed_offers: int = 0
    unused_offers: int = 0
    rejections: list[OfferRejection] = field(default_factory=list)
    role: str = "*"


@dataclass
class TaskFailure:
    task_id: str
    host: str
    agent_id: str
    message: str
    state: str = "TASK_FAILED"
    timestamp: str = "2026-01-01T00:00:00.000Z"
    version: str = "2026-01-01T00:00:00.000Z"


@dataclass
class App:
    id: str
    instances: int
    cpus: float = 0.5
    mem: float = 256.0
    image: str | None = None
    cmd: str | None = None
    uris: list[str] = field(default_factory=list)
    # e.g. {"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0}
    health_checks: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    deployment_ids: list[str] = field(default_factory=list)
    last_failure: TaskFailure | None = None
    queue: QueueEntry | None = None
    labels: dict[str, str] = field(default_factory=dict)
    constraints: list[list[str]] = field(default_factory=list)
    version: str = "2026-01-01T00:00:00.000Z"
    service_port: int = 10000  # unique per app in a real cluster (Marathon assigns from 10000 up)
    vip: str | None = None  # a VIP_0 label on its port, e.g. "/payments/api:80"


@dataclass
class PodContainer:
    name: str
    image: str
    cpus: float
    mem: float


@dataclass
class PodInstance:
    id: str
    agent_id: str
    host: str
    status: str  # PENDING, STAGING, STABLE, DEGRADED, TERMINAL
    # container name -> (Mesos task state, endpoint health or None when unchecked)
    containers: dict[str, tuple[str, bool | None]] = field(default_factory=dict)
    since: str = "2026-01-01T00:00:05.000Z"


@dataclass
class Pod:
    id: str
    instances: int
    containers: list[PodContainer]
    pod_instances: list[PodInstance] = field(default_factory=list)
    status: str = "STABLE"  # DEGRADED, STABLE, TERMINAL
    executor_cpus: float = 0.1
    executor_mem: float = 32.0
    version: str = "2026-01-01T00:00:00.000Z"


@dataclass
class Deployment:
    id: str
    apps: list[str] = field(default_factory=list)
    pods: list[str] = field(default_factory=list)
    action: str = "RestartApplication"
    current_step: int = 1
    total_steps: int = 2
    version: str = "2026-01-01T00:00:00.000Z"


@dataclass
class MarathonState:
    apps: list[App] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    version: str = "1.11.24"
    framework_id: str = "e3b0c442-98fc-1c14-9afb-f4c8996fb924-0000"
    mesos_role: str = "*"
    mesos_leader_url: str = "http://127.0.0.1:5050/"
    # server-sent events queued for /v2/events: (event type, payload)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
