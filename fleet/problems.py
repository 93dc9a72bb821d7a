"""What is wrong now, across the fleet: one ranked feed built from a Snapshot (pure).

Feeds the Health page and the "worst problems" on Overview. Most severe first, then newest.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fleet.model import Cluster, Snapshot, Workload, not_collected_yet

# severity rank: lower is worse; thresholds and wording live here, not in the pages
SEVERITY_RANK = {"critical": 0, "error": 1, "warning": 2, "info": 3}
CLUSTER_SEVERITY = {"unreachable": "critical", "unauthorized": "critical", "error": "critical", "degraded": "warning"}
WORKLOAD_SEVERITY = {"failed": "error", "degraded": "warning"}
NODE_SEVERITY = {"down": "error", "not_ready": "error", "unknown": "warning"}
CRASH_REASONS = ("CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "Error")
RESTARTS_WORTH_SHOWING = 5


@dataclass(frozen=True)
class Problem:
    severity: str          # critical | error | warning | info
    cluster: str
    orchestrator: str
    kind: str              # Cluster | Node | Workload | Service | Autoscaler | Instance | Event
    object: str
    summary: str
    time: datetime | None = None

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


def cluster_problems(cluster: Cluster) -> list[Problem]:
    return standing_problems(cluster) + object_problems(cluster)


def _adder(cluster: Cluster, found: list[Problem]) -> Callable[..., None]:
    def add(severity: str, kind: str, obj: str, summary: str, time: datetime | None = None) -> None:
        found.append(Problem(severity, cluster.name, cluster.orchestrator, kind, obj, summary, time))
    return add


def standing_problems(cluster: Cluster) -> list[Problem]:
    """The cluster's own state and its nodes' (a node's measured usage changes every round, its status rarely)."""
    found: list[Problem] = []
    add = _adder(cluster, found)
    if cluster.status in CLUSTER_SEVERITY and not not_collected_yet(cluster):
        stale = " (showing stale data)" if cluster.stale else ""
        add(CLUSTER_SEVERITY[cluster.status], "Cluster", cluster.name,
            f"{cluster.status}: {cluster.error or 'no detail'}{stale}", cluster.collected_at)
    for node in cluster.nodes:
        if node.status in NODE_SEVERITY:
            add(NODE_SEVERITY[node.status], "Node", node.name, f"node is {node.status.replace('_', ' ')}")
    return found


def running_words(workload: Workload) -> str:
    """"2 of 3 running, 1 healthy"; a workload that wants no count (a CronJob) says only what runs."""
    wanted = "" if workload.desired is None else f" of {workload.desired}"
    healthy = f", {workload.healthy} healthy" if workload.healthy is not None else ""
    return f"{workload.running}{wanted} running{healthy}"


def object_problems(cluster: Cluster) -> list[Problem]:
    """What the workloads, services, instances and events show; made of those four lists alone."""
    found: list[Problem] = []
    add = _adder(cluster, found)
    workload_names = {w.id: w.name for w in cluster.workloads}
    for workload in cluster.workloads:
        if workload.status in WORKLOAD_SEVERITY:
            add(WORKLOAD_SEVERITY[workload.status], "Workload", f"{workload.kind}/{workload.name}",
                f"{workload.status}: {running_words(workload)}")
    for service in cluster.services:
        if service.status == "down":
            add("error", "Service", f"{service.kind}/{service.name}",
                f"service has no ready backend: 0 of {service.backends_total} ready" if service.backends_total
                else "service has no ready backend: it has no backend at all")
    for workload in cluster.workloads:
        scaler = workload.autoscaler
        # limited at its minimum (too few replicas wanted) is no trouble; at its maximum, demand may be unmet
        size = None if scaler is None else scaler.desired if scaler.desired is not None else scaler.current
        if scaler is not None and scaler.limited and size is not None and size >= scaler.max:
            add("warning", "Autoscaler", f"{workload.kind}/{workload.name}",
                f"autoscaler limited at max: {scaler.current if scaler.current is not None else '?'} of max "
                f"{scaler.max}" + (f" ({scaler.message})" if scaler.message else ""))
    for instance in cluster.instances:
        owner = workload_names.get(instance.workload_id or "", "")
        prefix = f"{owner}: " if owner and not instance.name.startswith(owner) else ""
        if instance.state == "failed":
            add("error", "Instance", instance.name, f"{prefix}failed: {instance.reason or 'no reason given'}",
                instance.started_at)
        elif instance.reason and any(r in instance.reason for r in CRASH_REASONS):
            add("error", "Instance", instance.name, f"{prefix}{instance.reason} ({instance.restarts} restarts)")
        elif instance.health == "unhealthy":
            add("warning", "Instance", instance.name, f"{prefix}unhealthy: {instance.reason or 'health check failing'}")
        elif instance.restarts >= RESTARTS_WORTH_SHOWING:
            add("warning", "Instance", instance.name, f"{prefix}restarted {instance.restarts} times")
        elif instance.state == "pending" and instance.reason:
            add("warning", "Instance", instance.name, f"{prefix}pending: {instance.reason}")
    for event in cluster.events:
        if event.severity in ("warning", "error"):
            add(event.severity, "Event", event.object, f"{event.reason}: {event.message}", event.time)
    return found


def _newest_first_key(problem: Problem) -> tuple[int, float]:
    return problem.rank, -(problem.time.timestamp() if problem.time else float("inf"))


def fleet_problems(snapshot: Snapshot, *, limit: int | None = None,
                   per_cluster: Callable[[Cluster], list[Problem]] = cluster_problems) -> list[Problem]:
    """Every problem in the fleet, most severe first and newest first within a severity.
    Problems without a time (standing conditions) come before timed events of the same severity.
    `per_cluster` gives what cluster_problems gives (a caller may remember earlier rounds')."""
    found = [p for cluster in snapshot.clusters for p in per_cluster(cluster)]
    found.sort(key=_newest_first_key)
    return found[:limit] if limit else found
