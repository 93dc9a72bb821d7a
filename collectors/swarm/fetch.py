"""Docker Swarm: nodes, services and their current tasks, through the Docker Engine API.

Talks to one manager (unix socket, or tcp with client TLS) with the docker SDK's low-level client.
Read-only: only list/inspect calls. Engine API reference: docs.docker.com/engine/api (Node,
Service with `status=true`, Task).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import docker
import requests

from collectors.base import Collector, require
from collectors.transport import transport_problem
from fleet.model import Event, Instance, Node, Workload
from fleet.source import ClusterData, MalformedPayload, Unauthorized, Unreachable, UpstreamError

log = logging.getLogger(__name__)

NANO = 1_000_000_000
STACK_LABEL = "com.docker.stack.namespace"
TASK_ID_LABEL = "com.docker.swarm.task.id"
MAX_EVENTS = 200

TASK_STATES: dict[str, str] = {
    "new": "pending", "allocated": "pending", "pending": "pending", "assigned": "pending",
    "accepted": "pending", "preparing": "pending", "ready": "pending", "starting": "pending",
    "running": "running", "complete": "succeeded", "failed": "failed", "rejected": "failed",
    "shutdown": "stopped", "remove": "stopped", "orphaned": "unknown",
}
NODE_STATES = {"ready": "ready", "down": "down", "disconnected": "not_ready", "unknown": "unknown"}
# states in which a task holds its reservation on a node (the scheduler counts these)
HOLDS_RESOURCES = {"pending", "running"}
STOPPED_ON_PURPOSE = {"shutdown", "complete", "remove"}


@dataclass
class SwarmRaw:
    version: dict[str, Any]
    nodes: list[dict[str, Any]]
    services: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    # health of containers on the manager we talk to, by task id: "healthy" | "unhealthy" | "starting"
    local_health: dict[str, str] = field(default_factory=dict)


class SwarmCollector(Collector[SwarmRaw]):
    orchestrator = "swarm"

    def __init__(self, config):
        super().__init__(config)
        self._client: docker.APIClient | None = None

    def _connect(self, timeout_s: float) -> docker.APIClient:
        if self._client is None:
            tls: docker.tls.TLSConfig | bool = False
            files = self.config.tls
            if files.cert_file or files.ca_file or self.config.url.startswith("https://"):
                tls = docker.tls.TLSConfig(
                    client_cert=(files.cert_file, files.key_file) if files.cert_file else None,
                    ca_cert=files.ca_file or self.config.ca_file,
                    verify=(files.ca_file or self.config.ca_file or True) if self.config.verify_tls else False,
                )
            self._client = _EngineClient(base_url=self.config.url, version="auto", timeout=timeout_s, tls=tls)
        self._client.timeout = timeout_s
        return self._client

    def fetch(self, timeout_s: float) -> SwarmRaw:
        try:
            client = self._connect(timeout_s)
            version = client.version()
            nodes = client.nodes()
            services = client.services(status=True)
            tasks = client.tasks()
            containers = self._local_containers(client)
        except Exception as exc:
            self.close()
            raise self._translate(exc) from None
        return SwarmRaw(version, nodes, services, tasks, local_task_health(containers))

    def _local_containers(self, client: docker.APIClient) -> list[dict[str, Any]]:
        """Containers of tasks on this manager, for their health checks: optional (a proxy in front
        of the engine may not pass /containers/json), so a refusal only leaves health unknown."""
        try:
            containers = client.containers(filters={"label": TASK_ID_LABEL})
        except docker.errors.APIError as exc:
            log.info("swarm cluster %s: container health not read: %s", self.name, short(exc))
            return []
        return require(containers, list, f"GET /containers/json on {self.endpoint}")

    def _translate(self, exc: Exception) -> Exception:
        where = self.endpoint
        if isinstance(exc, docker.errors.APIError) and exc.response is not None:
            code = exc.response.status_code
            text = exc.explanation or str(exc)
            if code in (401, 403):
                return Unauthorized(f"{where}: access denied ({code}): {text}; check the client certificate "
                                    "(tls.cert_file, tls.key_file) or the credentials of a proxy in front of "
                                    "the engine")
            if code == 503 and "not a swarm manager" in str(text):
                return UpstreamError(f"{where} is not a swarm manager: point url at a manager node ({text})")
            return UpstreamError(f"{where}: HTTP {code}: {text}", retry_after_s=retry_after_s(exc.response))
        if isinstance(exc, requests.exceptions.JSONDecodeError):  # before OSError: it is both
            return MalformedPayload(f"{where} answered with invalid JSON: {short(exc)}")
        if isinstance(exc, requests.exceptions.SSLError) or "SSL" in type(exc).__name__:
            return Unreachable(f"TLS failure talking to {where}: {transport_problem(exc)}")
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            docker.errors.DockerException, OSError)):
            return Unreachable(f"cannot reach the Docker engine at {where}: {connection_problem(exc)}")
        if isinstance(exc, ValueError):
            return MalformedPayload(f"{where} answered with invalid JSON: {short(exc)}")
        return UpstreamError(f"{where}: {type(exc).__name__}: {short(exc)}")

    def normalize(self, raw: SwarmRaw) -> ClusterData:
        return normalize(raw)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class _EngineClient(docker.APIClient):
    """The configured CA file must win: requests otherwise lets REQUESTS_CA_BUNDLE override a
    session's `verify`, and the engine's certificate fails against the system bundle."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= 240 else text[:237] + "..."


def connection_problem(exc: BaseException) -> str:
    text = str(exc)
    for needle, plain in (("FileNotFoundError", "no such socket"), ("Connection refused", "connection refused"),
                          ("ConnectionRefusedError", "connection refused"), ("PermissionError", "permission denied"),
                          ("timed out", "timed out"), ("Read timed out", "timed out")):
        if needle in text:
            return plain
    return transport_problem(exc)


def retry_after_s(response: requests.Response) -> float | None:
    """The engine's (or a proxy's) Retry-After, in seconds, for the poller's back-off."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def local_task_health(containers: list[dict[str, Any]]) -> dict[str, str]:
    """Container health by task id, read from the `(healthy)` suffix of `docker ps` status."""
    health = {}
    for container in containers:
        task_id = (container.get("Labels") or {}).get(TASK_ID_LABEL)
        status = container.get("Status") or ""
        if not task_id:
            continue
        if "(unhealthy)" in status:
            health[task_id] = "unhealthy"
        elif "(healthy)" in status:
            health[task_id] = "healthy"
        elif "(health: starting)" in status:
            health[task_id] = "starting"
    return health


def normalize(raw: SwarmRaw) -> ClusterData:
    """Pure: Engine API payloads in, the common model out."""
    require(raw.nodes, list, "GET /nodes")
    require(raw.services, list, "GET /services")
    require(raw.tasks, list, "GET /tasks")
    services = {s["ID"]: s for s in raw.services}
    current, history, earlier = split_current_tasks(raw.tasks, services)
    instances = [task_to_instance(t, services, raw.local_health, earlier.get(t["ID"], SlotHistory()))
                 for t in current]
    by_service: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        if instance.workload_id:
            by_service[instance.workload_id].append(instance)
    checked = {s["ID"] for s in raw.services if has_healthcheck(s)}
    checked |= {i.workload_id for i in instances if i.id in raw.local_health and i.workload_id}
    workloads = [service_to_workload(s, by_service.get(s["ID"], []), s["ID"] in checked) for s in raw.services]
    nodes = [node_to_model(n) for n in raw.nodes]
    nodes = with_allocations(nodes, instances, services)
    events = task_events(current + history, services)
    return ClusterData(version=raw.version.get("Version"), nodes=nodes, workloads=workloads,
                       instances=instances, events=events)


def slot_key(task: dict[str, Any]) -> tuple[str, str]:
    # replicated tasks keep a slot number across replacements; global tasks are one per node
    slot = task.get("Slot")
    return task["ServiceID"], str(slot) if slot else f"node:{task.get('NodeID')}"


def task_version(task: dict[str, Any]) -> tuple[str, int]:
    return task.get("CreatedAt") or "", (task.get("Version") or {}).get("Index", 0)


@dataclass
class SlotHistory:
    """Earlier failures in a current task's slot: Swarm replaces a failed task with a new one."""

    failures: int = 0
    last_error: str | None = None


def split_current_tasks(tasks: list[dict[str, Any]],
                        services: dict[str, Any]) -> tuple[list[dict], list[dict], dict[str, SlotHistory]]:
    """The newest task per slot is current unless it was stopped on purpose; the rest is history."""
    slots: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for task in tasks:
        if task.get("ServiceID") in services:
            slots[slot_key(task)].append(task)
    current, history, earlier = [], [], {}
    for key in sorted(slots):
        ordered = sorted(slots[key], key=task_version, reverse=True)
        newest, older = ordered[0], ordered[1:]
        history.extend(older)
        state = (newest.get("Status") or {}).get("State", "")
        if newest.get("DesiredState") in ("shutdown", "remove") and state in STOPPED_ON_PURPOSE:
            history.append(newest)
            continue
        current.append(newest)
        failed = [t for t in older if (t.get("Status") or {}).get("State") in ("failed", "rejected")]
        earlier[newest["ID"]] = SlotHistory(len(failed), failed[0]["Status"].get("Err") if failed else None)
    return current, history, earlier


def service_name(service: dict[str, Any]) -> str:
    return service["Spec"]["Name"]


def task_name(task: dict[str, Any], services: dict[str, Any]) -> str:
    name = service_name(services[task["ServiceID"]])
    return f"{name}.{task['Slot']}" if task.get("Slot") else f"{name}.{task.get('NodeID', '')}"


def task_to_instance(task: dict[str, Any], services: dict[str, Any], local_health: dict[str, str],
                     earlier: SlotHistory) -> Instance:
    status = task.get("Status") or {}
    upstream_state = status.get("State", "")
    state = TASK_STATES.get(upstream_state, "unknown")
    container_health = local_health.get(task["ID"])
    error = status.get("Err") or None
    if container_health in ("healthy", "unhealthy"):
        health = container_health
    elif error and "unhealthy" in error:
        health = "unhealthy"
    else:
        health = "unknown"
    reason = error
    if reason is None and health == "unhealthy":
        reason = "unhealthy container"
    if reason is None and state != "running":
        # a replacement waiting to start: why its predecessors failed is what an operator needs
        reason = earlier.last_error
    return Instance(
        id=task["ID"], name=task_name(task, services), workload_id=task["ServiceID"],
        node_id=task.get("NodeID") or None, state=state, health=health,
        restarts=earlier.failures, reason=reason,
        started_at=parse_time(status.get("Timestamp")) if state == "running" else None,
    )


def has_healthcheck(service: dict[str, Any]) -> bool:
    check = (service["Spec"].get("TaskTemplate", {}).get("ContainerSpec") or {}).get("Healthcheck") or {}
    test = check.get("Test") or []
    return bool(test) and test[0] != "NONE"


def reservations(spec: dict[str, Any]) -> tuple[float, int]:
    reserved = ((spec.get("Resources") or {}).get("Reservations")) or {}
    return (reserved.get("NanoCPUs") or 0) / NANO, int(reserved.get("MemoryBytes") or 0)


def service_to_workload(service: dict[str, Any], instances: list[Instance], checked: bool) -> Workload:
    spec = service["Spec"]
    mode = spec.get("Mode") or {}
    kind = next((k for k in ("Replicated", "Global", "ReplicatedJob", "GlobalJob") if k in mode), "Replicated")
    kind = {"Replicated": "ReplicatedService", "Global": "GlobalService"}.get(kind, kind)
    status = service.get("ServiceStatus") or {}
    desired = status.get("DesiredTasks")
    if desired is None and kind == "ReplicatedService":
        desired = mode["Replicated"].get("Replicas", 1)
    running = sum(1 for i in instances if i.state == "running")
    if "RunningTasks" in status:
        running = status["RunningTasks"]
    healthy = sum(1 for i in instances if i.state == "running" and i.health == "healthy") if checked else None
    template = spec.get("TaskTemplate") or {}
    image = (template.get("ContainerSpec") or {}).get("Image", "")
    cpu, mem = reservations(template)
    return Workload(
        id=service["ID"], name=spec["Name"], namespace=(spec.get("Labels") or {}).get(STACK_LABEL, ""),
        kind=kind, desired=desired, running=running, healthy=healthy,
        status=service_status(service, kind, desired, running, healthy, instances, status),
        images=[image.split("@", 1)[0]] if image else [], cpu_request_cores=cpu, mem_request_bytes=mem,
    )


def service_status(service: dict[str, Any], kind: str, desired: int | None, running: int, healthy: int | None,
                   instances: list[Instance], status: dict[str, Any]) -> str:
    update = (service.get("UpdateStatus") or {}).get("State")
    if kind.endswith("Job"):
        completed = status.get("CompletedTasks", 0)
        if desired is not None and completed >= desired > 0:
            return "completed"
    if update in ("updating", "rollback_started"):
        return "progressing"
    if desired == 0:
        return "stopped"
    if desired is None:
        return "unknown"
    troubled = any(i.state == "failed" or i.reason for i in instances if i.state != "running")
    if running == 0:
        return "failed" if troubled or update in ("paused", "rollback_paused") else "progressing"
    if running < desired or update in ("paused", "rollback_paused"):
        return "degraded"
    if healthy is not None and healthy < running:
        return "degraded"
    return "healthy"


def node_to_model(node: dict[str, Any]) -> Node:
    spec = node.get("Spec") or {}
    description = node.get("Description") or {}
    resources = description.get("Resources") or {}
    platform = description.get("Platform") or {}
    manager = node.get("ManagerStatus") or {}
    roles = [spec.get("Role", "worker")]
    if manager.get("Leader"):
        roles.append("leader")
    labels = {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}
    cpu = (resources.get("NanoCPUs") or 0) / NANO
    mem = int(resources.get("MemoryBytes") or 0)
    status = node.get("Status") or {}
    return Node(
        id=node["ID"], name=description.get("Hostname") or node["ID"],
        status=NODE_STATES.get(status.get("State", "unknown"), "unknown"),
        schedulable=spec.get("Availability", "active") == "active",
        roles=roles, address=status.get("Addr") or (manager.get("Addr") or "").rsplit(":", 1)[0] or None,
        # Swarm has no failure-domain field; operators mark one with node labels
        zone=labels.get("zone") or labels.get("topology.kubernetes.io/zone"),
        region=labels.get("region") or labels.get("topology.kubernetes.io/region"),
        cpu_capacity_cores=cpu, mem_capacity_bytes=mem,
        # Swarm reserves nothing for itself: all of a node is allocatable
        cpu_allocatable_cores=cpu, mem_allocatable_bytes=mem,
        labels=labels, version=(description.get("Engine") or {}).get("EngineVersion"),
        os=platform.get("OS"), arch=platform.get("Architecture"),
    )


def with_allocations(nodes: list[Node], instances: list[Instance], services: dict[str, Any]) -> list[Node]:
    cpu: dict[str, float] = defaultdict(float)
    mem: dict[str, int] = defaultdict(int)
    for instance in instances:
        if instance.node_id and instance.state in HOLDS_RESOURCES and instance.workload_id in services:
            c, m = reservations(services[instance.workload_id]["Spec"].get("TaskTemplate") or {})
            cpu[instance.node_id] += c
            mem[instance.node_id] += m
    for node in nodes:
        node.cpu_allocated_cores = round(cpu.get(node.id, 0.0), 9)
        node.mem_allocated_bytes = mem.get(node.id, 0)
    return nodes


def task_events(tasks: list[dict[str, Any]], services: dict[str, Any]) -> list[Event]:
    """Failed and rejected tasks, newest first, as events."""
    events = []
    for task in tasks:
        status = task.get("Status") or {}
        state = status.get("State")
        if state not in ("failed", "rejected"):
            continue
        when = parse_time(status.get("Timestamp")) or parse_time(task.get("UpdatedAt"))
        if when is None:
            continue
        events.append(Event(time=when, severity="error" if state == "failed" else "warning",
                            object=f"Task/{task_name(task, services)}", reason=f"Task{state.capitalize()}",
                            message=status.get("Err") or status.get("Message") or state))
    events.sort(key=lambda e: e.time, reverse=True)
    return events[:MAX_EVENTS]


def parse_time(value: str | None) -> datetime | None:
    """Docker writes RFC 3339 with nanoseconds; Python takes microseconds."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        digits = "".join(ch for ch in frac if ch.isdigit())
        text = f"{head}.{digits[:6]}"
    try:
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:
        return None
