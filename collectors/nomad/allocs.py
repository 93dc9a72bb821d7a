"""Allocations, digested: each decoded allocation is reduced at once to an `AllocRow`.

A region at the seed's practical size has 100,000 allocations, and their list is ~100 MB of
JSON. A row is the Instance the allocation becomes plus the few facts the rest of
normalization needs (its job, whether it is meant to run, what it holds on its node, which
allocations it replaced). Rows are what the collector keeps between rounds: a page's
allocations are digested as it is decoded, so only rows are ever held for all of them. Pure.
"""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec

from collectors.nomad.events import failing_task_reason
from collectors.nomad.wire import LeanAlloc, LegacyResources, TaskState
from fleet.model import Instance

ALLOC_STATE = {"pending": "pending", "running": "running", "complete": "succeeded", "failed": "failed",
               "lost": "failed", "unknown": "unknown"}
HEALTH = {None: "unknown", True: "healthy", False: "unhealthy"}
UNHEALTHY = "unhealthy: failed its deployment health checks"


class AllocRow(msgspec.Struct, frozen=True, gc=False):
    instance: Instance
    namespace: str
    job_id: str
    run: bool  # DesiredStatus is "run": not being stopped or evicted
    mhz: int  # what it holds on its node (AllocatedResources)
    mb: int
    replaces: tuple[str, ...] = ()  # the allocations it was rescheduled from


def digest(alloc: LeanAlloc, prefix: str) -> AllocRow:
    """The row for one allocation. Runs 100,000 times on a big region's first list."""
    mhz, mb = alloc_mhz_mb(alloc)
    tracker = alloc.RescheduleTracker
    return AllocRow(instance=alloc_to_instance(alloc, prefix), namespace=alloc.Namespace, job_id=alloc.JobID,
                    run=alloc.DesiredStatus == "run", mhz=mhz, mb=mb,
                    replaces=tuple(e.PrevAllocID for e in tracker.Events or ()) if tracker else ())


def alloc_mhz_mb(alloc: LeanAlloc) -> tuple[int, int]:
    tasks = alloc.AllocatedResources.Tasks if alloc.AllocatedResources else None
    if not tasks:
        legacy = alloc.Resources or LegacyResources()
        return legacy.CPU, legacy.MemoryMB
    mhz = memory = 0
    for task in tasks.values():
        mhz += task.Cpu.CpuShares if task.Cpu else 0
        memory += task.Memory.MemoryMB if task.Memory else 0
    return mhz, memory


def alloc_to_instance(alloc: LeanAlloc, prefix: str) -> Instance:
    states = alloc.TaskStates
    state = ALLOC_STATE.get(alloc.ClientStatus, "unknown")
    healthy = alloc.DeploymentStatus.Healthy if alloc.DeploymentStatus else None
    reason = None
    if state != "running" and state != "succeeded":
        reason = failing_task_reason(states or {}) or alloc.ClientDescription or None
    elif healthy is False:
        reason = failing_task_reason(states or {}) or UNHEALTHY
    return Instance(
        id=alloc.ID, name=alloc.Name, workload_id=f"{prefix}{alloc.Namespace}/{alloc.JobID}",
        node_id=alloc.NodeID or None, state=state,  # type: ignore[arg-type]
        health=HEALTH[healthy], restarts=sum(s.Restarts for s in states.values()) if states else 0, reason=reason,
        started_at=_started(states) if states and state == "running" else None,
    )


def _started(states: dict[str, TaskState]) -> datetime | None:
    times = [t for t in (parse_time(s.StartedAt) for s in states.values() if s.StartedAt) if t is not None]
    return min(times) if times else None


def parse_time(value: str) -> datetime | None:
    """RFC 3339 with nanoseconds and any offset; Go's zero time is None."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]:0<6}{rest[digits:]}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None
