"""Docker Swarm's Engine API objects (typed wire structs) into the common model: pure, no I/O."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Container, NamedTuple

from collectors.swarm import wire
from collectors.toolkit import MAX_EVENTS
from fleet.model import Event, Instance, Node, Port, Service, Workload
from fleet.model import service_status as backends_status
from fleet.source import ClusterData

NANO = 1_000_000_000
STACK_LABEL = "com.docker.stack.namespace"
TASK_ID_LABEL = "com.docker.swarm.task.id"

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
FAILED = ("failed", "rejected")
# one task on every eligible node: a lost node takes its own copy along, nothing moves elsewhere
PER_NODE_KINDS = {"GlobalService", "GlobalJob"}
NO_STATUS = wire.TaskStatus()


@dataclass
class SwarmRaw:
    version: wire.EngineVersion
    nodes: list[wire.Node]
    services: list[wire.Service]
    tasks: list[wire.Task]
    # health of containers on the manager we talk to, by task id: "healthy" | "unhealthy" | "starting"
    local_health: dict[str, str] = field(default_factory=dict)
    # the Engine API version the answers were read with ("1.40"); "" when not known (recordings)
    api_version: str = ""
    # set when live updates are off (a proxy refused /events): the cluster is `degraded` and says so
    live_problem: str | None = None
    # of the live state read (collectors/swarm/live.py); None when everything was listed
    generation: int | None = None
    # which of `tasks` are current, when the listing already worked it out part by part; else None
    split: TaskSplit | None = None


def local_task_health(containers: list[wire.ContainerSummary]) -> dict[str, str]:
    """Container health by task id, read from the `(healthy)` suffix of `docker ps` status."""
    health = {}
    for container in containers:
        task_id = (container.Labels or {}).get(TASK_ID_LABEL)
        status = container.Status or ""
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
    """Pure: Engine API objects in, the common model out."""
    services = {s.ID: s for s in raw.services}
    current, failed_earlier, earlier, _, _ = raw.split or split_current_tasks(raw.tasks, services)
    failures = [t for t in current if t.Status is not None and t.Status.State in FAILED] + failed_earlier
    no_history = SlotHistory()
    instances = [task_to_instance(t, services, raw.local_health, earlier.get(t.ID, no_history))
                 for t in current]
    by_service: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        if instance.workload_id:
            by_service[instance.workload_id].append(instance)
    checked = {s.ID for s in raw.services if has_healthcheck(s)}
    checked |= {i.workload_id for i in instances if i.id in raw.local_health and i.workload_id}
    tasks_of: dict[str, list[wire.Task]] = defaultdict(list)
    if any(s.ServiceStatus is None for s in raw.services):  # engines before API 1.41: counted from tasks
        for task in raw.tasks:
            tasks_of[task.ServiceID].append(task)
    workloads = [service_to_workload(s, s.ServiceStatus or counted_status(s, tasks_of[s.ID]),
                                     by_service.get(s.ID, []), s.ID in checked) for s in raw.services]
    nodes = with_allocations([node_to_model(n) for n in raw.nodes], instances, services)
    events = task_events(failures, services)
    endpoints = [e for s, w in zip(raw.services, workloads)
                 if (e := endpoint_to_service(s, w, by_service.get(s.ID, []))) is not None]
    return ClusterData(version=engine_version(raw), nodes=nodes, workloads=workloads,
                       instances=instances, events=events, services=endpoints, degraded_reason=raw.live_problem)


def engine_version(raw: SwarmRaw) -> str | None:
    """`Docker 19.03.15 (API 1.40)`: the engine, and the API version Podium read it with."""
    version = raw.version.Version
    if not raw.api_version:
        return version
    return f"Docker {version or '(version not given)'} (API {raw.api_version})"


def counted_status(service: wire.Service, tasks: list[wire.Task]) -> wire.ServiceStatus:
    """The counts an engine returns with `status=true` (API 1.41+), computed from the tasks for
    older engines, as `docker service ls` did before: desired is the mode's replica count, or for a
    global service its tasks meant to run (the orchestrator makes one per eligible node: ready,
    active, matching the placement constraints); running is the tasks running that are meant to.
    A task the orchestrator has already replaced (on a node that went down, or in an update) may
    still say `running` until its node reports again: it is not counted."""
    mode = service.Spec.Mode
    running = sum(1 for t in tasks if task_status(t).State == "running" and t.DesiredState == "running")
    if mode is None or mode.Replicated is not None:
        return wire.ServiceStatus(RunningTasks=running,
                                  DesiredTasks=mode.Replicated.Replicas if mode is not None and mode.Replicated else 1)
    if mode.Global is not None:
        return wire.ServiceStatus(RunningTasks=running,
                                  DesiredTasks=sum(1 for t in tasks if t.DesiredState == "running"))
    # jobs came with API 1.41, which reports their counts itself
    return wire.ServiceStatus(RunningTasks=running)


def slot_key(task: wire.Task) -> tuple[str, str]:
    # replicated tasks keep a slot number across replacements; global tasks are one per node
    return task.ServiceID, str(task.Slot) if task.Slot else f"node:{task.NodeID}"


def task_version(task: wire.Task) -> tuple[str, int]:
    return task.CreatedAt, task.Version.Index if task.Version else 0


def task_status(task: wire.Task) -> wire.TaskStatus:
    return task.Status or NO_STATUS


@dataclass
class SlotHistory:
    """Earlier failures in a current task's slot: Swarm replaces a failed task with a new one."""

    failures: int = 0
    last_error: str | None = None


class TaskSplit(NamedTuple):
    """A listing's tasks sorted out: the current ones (in slot order), the failed and rejected
    earlier ones (slot by slot, newest first: the order events are listed in when their times tie),
    each current task's slot history, and the newest tasks of slots ended on purpose (no task is
    current there: the reason an older failed one is not)."""

    current: list[wire.Task]
    failed_earlier: list[wire.Task]
    earlier: dict[str, SlotHistory]
    ended: list[wire.Task]
    meant_to_run: list[wire.Task]  # earlier tasks not failed but still meant to run (in an update)


def joined(splits: list[TaskSplit]) -> TaskSplit:
    """The split of a listing read in parts, each part whole services in service-ID order: what
    `split_current_tasks` gives for all of their tasks at once."""
    return TaskSplit([t for s in splits for t in s.current], [t for s in splits for t in s.failed_earlier],
                     {task_id: history for s in splits for task_id, history in s.earlier.items()},
                     [t for s in splits for t in s.ended], [t for s in splits for t in s.meant_to_run])


def tasks_that_matter(split: TaskSplit) -> list[wire.Task]:
    """What of a listing decides the model, in split order: splitting these again gives the same
    split, and an older engine's counts (`counted_status`) come out the same. The rest, earlier
    tasks shut down on purpose, is most of a swarm's task history and changes nothing."""
    return [*split.current, *split.failed_earlier, *split.ended, *split.meant_to_run]


def split_current_tasks(tasks: list[wire.Task], services: Container[str]) -> TaskSplit:
    """The newest task per slot is current unless it was stopped on purpose; the rest is history.
    Only tasks of `services` are looked at."""
    # one pass, grouping by a cheap key; the sortable key (slot number as text) is made once per slot
    slots: dict[tuple[str, int | str], list[wire.Task]] = {}
    in_slot = slots.get
    for task in tasks:
        service = task.ServiceID
        if service in services:
            key = (service, task.Slot or task.NodeID)  # a slot number, or a node ID (global)
            group = in_slot(key)
            if group is None:
                slots[key] = [task]
            else:
                group.append(task)
    current: list[wire.Task] = []
    failed_earlier: list[wire.Task] = []
    earlier: dict[str, SlotHistory] = {}
    ended: list[wire.Task] = []
    meant_to_run: list[wire.Task] = []
    for key in sorted(slots, key=slot_order):
        group = slots[key]
        failed: list[wire.Task] = []
        if len(group) == 1:
            newest = group[0]
        else:
            newest = newest_task(group)
            for task in group:
                if task is not newest:
                    status = task.Status
                    if status is not None and status.State in FAILED:
                        failed.append(task)
                    elif task.DesiredState == "running":
                        meant_to_run.append(task)
            if len(failed) > 1:
                failed.sort(key=task_version, reverse=True)
            failed_earlier.extend(failed)
        if newest.DesiredState in ("shutdown", "remove") and task_status(newest).State in STOPPED_ON_PURPOSE:
            ended.append(newest)
            continue
        current.append(newest)
        if failed:
            earlier[newest.ID] = SlotHistory(len(failed), failed[0].Status.Err)  # type: ignore[union-attr]
    return TaskSplit(current, failed_earlier, earlier, ended, meant_to_run)


def slot_order(key: tuple[str, int | str]) -> tuple[str, str]:
    service, slot = key
    return service, str(slot) if isinstance(slot, int) else f"node:{slot}"


_VERSION = attrgetter("CreatedAt", "Version.Index")  # task_version, without a Python call per task


def newest_task(group: list[wire.Task]) -> wire.Task:
    """The newest of a slot's tasks; max keeps the first of equal versions, as a stable sort
    newest-first does."""
    try:
        return max(group, key=_VERSION)
    except AttributeError:  # a task without a Version
        return max(group, key=task_version)


def task_name(task: wire.Task, services: dict[str, wire.Service]) -> str:
    name = services[task.ServiceID].Spec.Name
    return f"{name}.{task.Slot}" if task.Slot else f"{name}.{task.NodeID}"


def task_to_instance(task: wire.Task, services: dict[str, wire.Service], local_health: dict[str, str],
                     earlier: SlotHistory) -> Instance:
    status = task_status(task)
    state = TASK_STATES.get(status.State, "unknown")
    container_health = local_health.get(task.ID)
    error = status.Err or None
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
        id=task.ID, name=task_name(task, services), workload_id=task.ServiceID,
        node_id=task.NodeID or None, state=state, health=health,
        restarts=earlier.failures, reason=reason,
        started_at=parse_time(status.Timestamp) if state == "running" else None,
    )


def has_healthcheck(service: wire.Service) -> bool:
    template = service.Spec.TaskTemplate
    container = template.ContainerSpec if template else None
    test = (container.Healthcheck.Test if container and container.Healthcheck else None) or []
    return bool(test) and test[0] != "NONE"


def reservations(template: wire.TaskTemplate | None) -> tuple[float, int]:
    reserved = template.Resources.Reservations if template and template.Resources else None
    if reserved is None:
        return 0.0, 0
    return (reserved.NanoCPUs or 0) / NANO, reserved.MemoryBytes or 0


def service_kind(service: wire.Service) -> str:
    mode = service.Spec.Mode
    if mode is None or mode.Replicated is not None:
        return "ReplicatedService"
    if mode.Global is not None:
        return "GlobalService"
    if mode.ReplicatedJob is not None:
        return "ReplicatedJob"
    return "GlobalJob" if mode.GlobalJob is not None else "ReplicatedService"


def desired_tasks(service: wire.Service, status: wire.ServiceStatus, kind: str) -> int | None:
    if status.DesiredTasks is not None:
        return status.DesiredTasks
    mode = service.Spec.Mode
    if kind == "ReplicatedService" and mode is not None and mode.Replicated is not None:
        return mode.Replicated.Replicas
    return None


def service_to_workload(service: wire.Service, status: wire.ServiceStatus, instances: list[Instance],
                        checked: bool) -> Workload:
    spec = service.Spec
    kind = service_kind(service)
    desired = desired_tasks(service, status, kind)
    running = sum(1 for i in instances if i.state == "running")
    if status.RunningTasks is not None:
        running = status.RunningTasks
    # the engine reports a task with a health check "running" only once the check passed (until then it
    # is "starting"), so a running task counts as healthy unless its container is seen unhealthy now
    healthy = sum(1 for i in instances if i.state == "running" and i.health != "unhealthy") if checked else None
    template = spec.TaskTemplate
    image = template.ContainerSpec.Image if template and template.ContainerSpec else ""
    cpu, mem = reservations(template)
    return Workload(
        id=service.ID, name=spec.Name, namespace=(spec.Labels or {}).get(STACK_LABEL, ""),
        kind=kind, desired=desired, running=running, healthy=healthy,
        status=service_status(service, status, kind, desired, running, healthy, instances),
        images=[image.split("@", 1)[0]] if image else [], cpu_request_cores=cpu, mem_request_bytes=mem,
        per_node=kind in PER_NODE_KINDS,
    )


def service_status(service: wire.Service, counts: wire.ServiceStatus, kind: str, desired: int | None, running: int,
                   healthy: int | None, instances: list[Instance]) -> str:
    update = service.UpdateStatus.State if service.UpdateStatus else None
    if kind.endswith("Job"):
        completed = counts.CompletedTasks
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


def endpoint_to_service(service: wire.Service, workload: Workload, instances: list[Instance]) -> Service | None:
    """The service's endpoint, when it has one a client can dial: a virtual IP, published ports, or
    DNS round-robin. Backends are the service's current tasks; ready ones run and are not unhealthy."""
    endpoint = service.Endpoint or wire.Endpoint()
    spec = endpoint.Spec or service.Spec.EndpointSpec or wire.EndpointSpec()
    mode = spec.Mode or "vip"
    vips = [v.Addr.split("/", 1)[0] for v in endpoint.VirtualIPs or [] if v.Addr]
    ports = [Port(port=p.TargetPort or p.PublishedPort or 0, protocol=p.Protocol if p.Protocol in ("tcp", "udp", "sctp")
                  else "tcp", target=str(p.TargetPort) if p.TargetPort else p.Name, published=p.PublishedPort or None)
             for p in endpoint.Ports or spec.Ports or [] if p.TargetPort or p.PublishedPort]
    if mode == "vip" and not vips and not ports:
        return None  # no network and nothing published: nothing to dial
    ready = sum(i.state == "running" and i.health != "unhealthy" for i in instances)
    expected = workload.desired != 0 and workload.status not in ("stopped", "completed")
    return Service(id=service.ID, name=service.Spec.Name, namespace=workload.namespace, kind=mode,
                   # DNS round-robin: the name resolves to the tasks' own addresses
                   addresses=vips if mode == "vip" else [service.Spec.Name],
                   ports=ports, workload_ids=[service.ID], backends_total=len(instances), backends_ready=ready,
                   status=backends_status(len(instances), ready, expected=expected))


def node_to_model(node: wire.Node) -> Node:
    spec = node.Spec
    description = node.Description
    resources = description.Resources if description else None
    platform = description.Platform if description else None
    engine = description.Engine if description else None
    manager = node.ManagerStatus
    roles = [spec.Role if spec else "worker"]
    if manager and manager.Leader:
        roles.append("leader")
    labels = dict(spec.Labels or {}) if spec else {}
    cpu = ((resources.NanoCPUs if resources else None) or 0) / NANO
    mem = (resources.MemoryBytes if resources else None) or 0
    status = node.Status
    manager_addr = (manager.Addr if manager else None) or ""
    return Node(
        id=node.ID, name=(description.Hostname if description else None) or node.ID,
        status=NODE_STATES.get(status.State if status else "unknown", "unknown"),
        schedulable=(spec.Availability if spec else "active") == "active",
        roles=roles, address=(status.Addr if status else None) or manager_addr.rsplit(":", 1)[0] or None,
        # Swarm has no failure-domain field; operators mark one with node labels
        zone=labels.get("zone") or labels.get("topology.kubernetes.io/zone"),
        region=labels.get("region") or labels.get("topology.kubernetes.io/region"),
        cpu_capacity_cores=cpu, mem_capacity_bytes=mem,
        # Swarm reserves nothing for itself: all of a node is allocatable
        cpu_allocatable_cores=cpu, mem_allocatable_bytes=mem,
        labels=labels, version=engine.EngineVersion if engine else None,
        os=platform.OS if platform else None, arch=platform.Architecture if platform else None,
    )


def with_allocations(nodes: list[Node], instances: list[Instance],
                     services: dict[str, wire.Service]) -> list[Node]:
    cpu: dict[str, float] = defaultdict(float)
    mem: dict[str, int] = defaultdict(int)
    reserved = {service_id: reservations(s.Spec.TaskTemplate) for service_id, s in services.items()}
    for instance in instances:
        if instance.node_id and instance.state in HOLDS_RESOURCES and instance.workload_id in reserved:
            c, m = reserved[instance.workload_id]  # type: ignore[index]
            cpu[instance.node_id] += c
            mem[instance.node_id] += m
    for node in nodes:
        node.cpu_allocated_cores = round(cpu.get(node.id, 0.0), 9)
        node.mem_allocated_bytes = mem.get(node.id, 0)
    return nodes


def task_events(tasks: list[wire.Task], services: dict[str, wire.Service]) -> list[Event]:
    """Failed and rejected tasks, newest first, as events (the newest MAX_EVENTS)."""
    timed = []
    for task in tasks:
        status = task_status(task)
        if status.State not in FAILED:
            continue
        when = parse_time(status.Timestamp) or parse_time(task.UpdatedAt)
        if when is not None:
            timed.append((when, task))
    timed.sort(key=lambda pair: pair[0], reverse=True)
    events = []
    for when, task in timed[:MAX_EVENTS]:
        status = task_status(task)
        events.append(Event(time=when, severity="error" if status.State == "failed" else "warning",
                            object=f"Task/{task_name(task, services)}", reason=f"Task{status.State.capitalize()}",
                            message=status.Err or status.Message or status.State))
    return events


def parse_time(value: str | None) -> datetime | None:
    """Docker writes RFC 3339 in UTC with nanoseconds; Python (3.11+) reads that, truncating to
    microseconds. Anything else is read the older way: digits past the microseconds cut, as UTC."""
    if not value or value.startswith("0001-01-01"):
        return None
    if value[-1] == "Z":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    text = value.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        digits = "".join(ch for ch in frac if ch.isdigit())
        text = f"{head}.{digits[:6]}"
    try:
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:
        return None
