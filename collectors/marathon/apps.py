"""Marathon apps, pods, tasks, the launch queue and deployments → workloads, instances, events.

Pure functions over the wire structs of `collectors.marathon.wire`. The rules an operator would
apply, in order, for an app's status:

1. 0 instances wanted → `stopped` (or `progressing` while a deployment still drains tasks);
2. stuck in the launch queue — every offer since the launch attempt began was declined, or the
   launch is delayed by back-off after failures → `failed` when nothing is up, else `degraded`,
   with the offer-rejection reason (or the back-off) as an event, even during a deployment;
3. a deployment under way → `progressing`;
4. otherwise by instances up (healthy ones when the app has health checks, else running):
   all wanted → `healthy`, none → `failed`, some → `degraded`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from collectors.marathon.wire import (App, Deployment, PodInstanceStatus, PodStatus, QueueItem, Rejection, Task,
                                      TaskFailure)
from collectors.toolkit import MIB
from fleet.model import Event, Instance, Workload

TASK_STATES: dict[str, str] = {
    "TASK_STAGING": "pending", "TASK_STARTING": "pending", "TASK_RUNNING": "running",
    "TASK_KILLING": "running", "TASK_FINISHED": "succeeded", "TASK_FAILED": "failed", "TASK_ERROR": "failed",
    "TASK_DROPPED": "failed", "TASK_GONE": "failed", "TASK_GONE_BY_OPERATOR": "failed", "TASK_KILLED": "stopped",
    "TASK_LOST": "unknown", "TASK_UNREACHABLE": "unknown", "TASK_UNKNOWN": "unknown",
}
POD_INSTANCE_STATES: dict[str, str] = {"PENDING": "pending", "STAGING": "pending", "STABLE": "running",
                                       "DEGRADED": "running", "TERMINAL": "stopped"}


@dataclass(frozen=True)
class QueueProblem:
    """Why queued instances do not launch: declined offers, or back-off after failures."""

    reason: str
    message: str


def task_state(task: Task) -> str:
    if task.state is None:  # Marathon 0.x: no state; a task is staged until it has started
        return "running" if task.startedAt is not None else "pending"
    return TASK_STATES.get(task.state, "unknown")


def task_health(task: Task) -> tuple[str, str | None]:
    """(health, cause of the first failing check) from healthCheckResults."""
    results = task.healthCheckResults
    if not results:
        return "unknown", None
    failing = next((r for r in results if not r.alive), None)
    if failing is None:
        return "healthy", None
    return "unhealthy", failing.lastFailureCause or f"{failing.consecutiveFailures} consecutive health check failures"


def task_instances(tasks: list[Task], app_id: str, hosts: dict[str, str]) -> list[Instance]:
    """The instances of one app's tasks; running tasks whose checks pass (most, in a big cluster)
    take a short path: this loop runs 200,000 times a round in a large cluster."""
    out = []
    for task in tasks:
        results = task.healthCheckResults
        if task.state == "TASK_RUNNING" and task.slaveId and (
                not results or (results[0].alive if len(results) == 1 else all(r.alive for r in results))):
            out.append(Instance(id=task.id, name=task.id, workload_id=task.appId or app_id, node_id=task.slaveId,
                                state="running", health="healthy" if results else "unknown",
                                started_at=task.startedAt))
        else:
            out.append(task_instance(task, app_id, hosts))
    return out


def task_instance(task: Task, app_id: str, hosts: dict[str, str]) -> Instance:
    state = task_state(task)
    health, cause = task_health(task)
    reason = task.state if state not in ("running", "pending") or task.state == "TASK_KILLING" else cause
    return Instance(id=task.id, name=task.id, workload_id=task.appId or app_id,
                    node_id=task.slaveId or hosts.get(task.host or ""),
                    state=state, health=health, reason=reason, started_at=task.startedAt)  # type: ignore[arg-type]


def app_images(app: App) -> list[str]:
    if app.container and app.container.docker and app.container.docker.image:
        return [app.container.docker.image]
    uris = [f.uri for f in app.fetch or [] if f.uri] or list(app.uris or [])
    return uris or ([app.cmd] if app.cmd else [])


def split_path(run_spec_id: str) -> tuple[str, str]:
    """`/tools/docker/registry` → (`/tools/docker`, `registry`)."""
    group, _, name = run_spec_id.rpartition("/")
    return group or "/", name or run_spec_id


def top_rejections(item: QueueItem) -> list[Rejection]:
    summary = item.processedOffersSummary
    steps = (summary.rejectSummaryLaunchAttempt or summary.rejectSummaryLastOffers or []) if summary else []
    return sorted((s for s in steps if s.declined > 0), key=lambda s: -s.declined)


def queue_problem(item: QueueItem) -> QueueProblem | None:
    if item.delay is not None and not item.delay.overdue and item.delay.timeLeftSeconds > 0:
        return QueueProblem("LaunchDelayed", f"{item.count} instance(s) waiting: next launch attempt in "
                                             f"{item.delay.timeLeftSeconds:g}s (back-off after task failures)")
    summary = item.processedOffersSummary
    if summary is None or summary.processedOffersCount == 0 or summary.unusedOffersCount < summary.processedOffersCount:
        return None
    steps = top_rejections(item)
    reason = steps[0].reason if steps else "OffersDeclined"
    detail = ", ".join(f"{s.reason} {s.declined}" for s in steps) or "no reason given"
    return QueueProblem(reason, f"{item.count} instance(s) waiting for offers: none of the last "
                                f"{summary.processedOffersCount} offers fit; declined for {detail}")


def app_status(app: App, running: int, healthy: int | None, problem: QueueProblem | None) -> str:
    up = healthy if healthy is not None else running
    if app.instances == 0:
        return "progressing" if app.deployments and running else "stopped"
    if problem is not None:
        return "failed" if up == 0 else "degraded"
    if app.deployments:
        return "progressing"
    if up >= app.instances:
        return "healthy"
    return "failed" if up == 0 else "degraded"


def running_count(app: App) -> int:
    if app.tasksRunning is not None:
        return app.tasksRunning
    return sum(task_state(t) == "running" for t in app.tasks or [])


def app_workload(app: App, problem: QueueProblem | None) -> Workload:
    running = running_count(app)
    healthy = (app.tasksHealthy or 0) if app.healthChecks else None
    if healthy is not None and app.tasksHealthy is None and app.tasks is not None:
        healthy = sum(task_health(t)[0] == "healthy" for t in app.tasks)
    namespace, name = split_path(app.id)
    return Workload(id=app.id, name=name, namespace=namespace, kind="App", desired=app.instances, running=running,
                    healthy=healthy, status=app_status(app, running, healthy, problem),  # type: ignore[arg-type]
                    images=app_images(app), cpu_request_cores=float(app.cpus), mem_request_bytes=int(app.mem * MIB))


def pod_instance_health(instance: PodInstanceStatus) -> str:
    checks = [e.healthy for c in instance.containers for e in c.endpoints if e.healthy is not None]
    if not checks:
        return "unknown"
    return "healthy" if all(checks) else "unhealthy"


def pod_instance(pod: PodStatus, instance: PodInstanceStatus) -> Instance:
    state = POD_INSTANCE_STATES.get(instance.status, "unknown")
    health = pod_instance_health(instance)
    reason = instance.message
    if reason is None and instance.status not in ("STABLE", "PENDING", "STAGING"):
        sick = [c.name for c in instance.containers if any(e.healthy is False for e in c.endpoints)]
        reason = instance.status + (f": {', '.join(sick)} unhealthy" if sick else "")
    return Instance(id=instance.id, name=instance.id, workload_id=pod.id, node_id=instance.agentId,
                    state=state, health=health, reason=reason,  # type: ignore[arg-type]
                    started_at=instance.statusSince if state == "running" else None)


def pod_workload(pod: PodStatus, deploying: bool) -> Workload:
    desired = pod.spec.scaling.instances if pod.spec.scaling else 1
    running = sum(POD_INSTANCE_STATES.get(i.status) == "running" for i in pod.instances)
    checked = any(e.healthy is not None for i in pod.instances for c in i.containers for e in c.endpoints)
    healthy = sum(i.status == "STABLE" for i in pod.instances) if checked else None
    up = healthy if healthy is not None else running
    if desired == 0 or pod.status == "TERMINAL":
        status = "stopped"
    elif deploying:
        status = "progressing"
    elif up >= desired and pod.status == "STABLE":
        status = "healthy"
    else:
        status = "failed" if up == 0 else "degraded"
    executor = pod.spec.executorResources
    namespace, name = split_path(pod.id)
    return Workload(id=pod.id, name=name, namespace=namespace, kind="Pod", desired=desired, running=running,
                    healthy=healthy, status=status,  # type: ignore[arg-type]
                    images=[c.image.id for c in pod.spec.containers if c.image and c.image.id],
                    cpu_request_cores=round(sum(c.resources.cpus for c in pod.spec.containers)
                                            + (executor.cpus if executor else 0.0), 6),
                    mem_request_bytes=int((sum(c.resources.mem for c in pod.spec.containers)
                                           + (executor.mem if executor else 0.0)) * MIB))


def failure_event(app_id: str, failure: TaskFailure, collected_at: datetime) -> Event:
    where = f" on {failure.host}" if failure.host else ""
    return Event(time=failure.timestamp or collected_at, severity="warning", object=f"App{app_id}",
                 reason=failure.state or "TaskFailure", message=f"task {failure.taskId}{where}: {failure.message}")


def queue_event(item: QueueItem, problem: QueueProblem, kind: str, up: int, collected_at: datetime) -> Event:
    return Event(time=item.since or collected_at, severity="error" if up == 0 else "warning",
                 object=f"{kind}{item.run_spec_id}", reason=problem.reason, message=problem.message)


def deployment_event(deployment: Deployment, collected_at: datetime) -> Event:
    actions = ", ".join(f"{a.action or a.type} {a.app or a.pod or ''}".strip() for a in deployment.currentActions)
    step = f"step {deployment.currentStep}/{deployment.totalSteps}" if deployment.totalSteps else "in progress"
    current = next((a for a in deployment.currentActions if a.app or a.pod), None)
    if current is not None:
        target = f"App{current.app}" if current.app else f"Pod{current.pod}"
    elif deployment.affectedApps or deployment.affectedPods:
        target = f"App{deployment.affectedApps[0]}" if deployment.affectedApps else f"Pod{deployment.affectedPods[0]}"
    else:
        target = f"Deployment/{deployment.id}"
    return Event(time=deployment.version or collected_at, severity="info", object=target, reason="Deployment",
                 message=f"deployment {deployment.id} {step}: {actions or 'no current action'}")
