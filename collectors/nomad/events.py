"""Nomad problems as events: down nodes, failed and lost allocations, failed deployments, and
evaluations blocked because no node can take the work ("no nodes had enough memory")."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from collectors.nomad.wire import AllocMetric, AllocStub, Deployment, Evaluation, NodeStub, TaskState
from fleet.model import Event

# task events that say why a task stopped, newest wins
CAUSES = ("Terminated", "Driver Failure", "Setup Failure", "Failed Validation", "Failed Artifact Download",
          "Task hook failed", "Killing")


def failing_task_reason(states: dict[str, TaskState]) -> str | None:
    """`task: message` of the newest event that says why a task stopped (the cause, say an exit
    code, rather than the "Not Restarting" that follows it)."""
    found = None
    for task, state in states.items():
        for event in state.Events or ():
            rank = (event.Type in CAUSES, event.FailsTask, event.Time)
            if (rank[0] or rank[1]) and (found is None or rank >= found[0]):
                found = (rank, task, event)
    if found is None:
        return None
    _, task, event = found
    message = (event.DisplayMessage or event.DriverError or event.SetupError or event.DownloadError
               or event.ValidationError or event.KillError or event.Message
               or (f"Exit Code: {event.ExitCode}" if event.ExitCode else event.Type))
    return f"{task}: {message}"


def from_nanos(value: int) -> datetime | None:
    return datetime.fromtimestamp(value / 1e9, timezone.utc) if value > 0 else None


def alloc_events(allocs: list[AllocStub], now: datetime) -> list[Event]:
    events = []
    for alloc in allocs:
        if alloc.ClientStatus not in ("failed", "lost"):
            continue
        failed = alloc.ClientStatus == "failed"
        message = failing_task_reason(alloc.TaskStates or {}) if failed else None
        events.append(Event(time=from_nanos(alloc.ModifyTime) or now, severity="error" if failed else "warning",
                            object=f"Allocation/{alloc.Namespace}/{alloc.Name}",
                            reason="AllocationFailed" if failed else "AllocationLost",
                            message=message or alloc.ClientDescription or alloc.ClientStatus))
    return events


def region_events(region: str | None, leaderless: bool, last_contact_ms: int | None, now: datetime) -> list[Event]:
    if not leaderless:
        return []
    since = f"; a follower last heard from a leader {last_contact_ms} ms ago" if last_contact_ms is not None else ""
    return [Event(time=now, severity="error", object=f"Region/{region or '(agent)'}", reason="NoClusterLeader",
                  message=f"the region's servers have no leader: data is read from a follower and may be "
                          f"stale, and nothing can be scheduled{since}")]


def node_events(nodes: list[NodeStub], region: str | None, now: datetime) -> list[Event]:
    events = []
    for node in nodes:
        if node.Status not in ("down", "disconnected"):
            continue
        where = f"datacenter {node.Datacenter}" + (f", region {region}" if region else "")
        events.append(Event(time=now, severity="error" if node.Status == "down" else "warning",
                            object=f"Node/{node.Name or node.ID}",
                            reason="NodeDown" if node.Status == "down" else "NodeDisconnected",
                            message=node.StatusDescription or f"client node is {node.Status} ({where})"))
    return events


def placement_message(group: str, metric: AllocMetric) -> str:
    """Why the scheduler could not place a task group, in Nomad's own terms."""
    dimensions = sorted(metric.DimensionExhausted or {})
    count = f"{metric.CoalescedFailures + 1} allocation(s) of group {group!r} cannot be placed"
    if dimensions:
        return (f"{count}: no nodes had enough {' or '.join(dimensions)} "
                f"(exhausted on {metric.NodesExhausted} of {metric.NodesEvaluated} nodes evaluated)")
    if metric.ConstraintFiltered:
        constraints = ", ".join(f"{c} filtered {n} nodes" for c, n in sorted(metric.ConstraintFiltered.items()))
        return f"{count}: constraint {constraints}"
    if metric.NodesEvaluated == 0:
        return f"{count}: no nodes were eligible for evaluation"
    return f"{count}: {metric.NodesFiltered} of {metric.NodesEvaluated} nodes filtered"


def evaluation_events(blocked: list[Evaluation], now: datetime) -> list[Event]:
    events = []
    for evaluation in blocked:
        failures = evaluation.FailedTGAllocs or {}
        message = "; ".join(placement_message(g, m) for g, m in sorted(failures.items()))
        events.append(Event(time=from_nanos(evaluation.ModifyTime or evaluation.CreateTime) or now,
                            severity="warning", object=f"Job/{evaluation.Namespace}/{evaluation.JobID}",
                            reason="PlacementFailed",
                            message=message or evaluation.StatusDescription or "evaluation blocked"))
    return events


def deployment_events(latest: Iterable[Deployment], now: datetime) -> list[Event]:
    return [Event(time=now, severity="error", object=f"Deployment/{d.Namespace}/{d.JobID}",
                  reason="DeploymentFailed", message=d.StatusDescription or "deployment failed")
            for d in latest if d.Status == "failed"]
