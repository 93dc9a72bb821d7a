"""What a correct collector must report for a scenario, from the scenario author's own rules.

Written from what each state means to an operator (`NODE_STATUS`, `ALLOC_STATE`, `_job_status`);
it shares no code with the collector, so the two can disagree.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sim.nomad.model import MIB, Alloc, Job, Region


@dataclass
class Expected:
    """What a correct collector reports for this scenario, written from the scenario's intent."""

    regions: list[str]
    nodes_by_status: dict[str, int]
    unschedulable_nodes: set[str]
    node_zones: dict[str, str]
    workload_status: dict[str, str]  # "<region>/<namespace>/<job>" -> status
    workload_desired: dict[str, int]
    workload_running: dict[str, int]
    instances_by_state: dict[str, int]
    reasons: dict[str, str]  # alloc id -> text the instance's reason must contain
    events: list[tuple[str, str]]  # (object, text the message must contain)
    cpu_capacity_cores: float
    cpu_allocatable_cores: float
    cpu_allocated_cores: float
    mem_capacity_bytes: int
    mem_allocatable_bytes: int
    mem_allocated_bytes: int
    nodes_with_usage: set[str] = field(default_factory=set)
    # "<region>/<namespace>/<service>" -> (status, backends total, backends ready)
    services: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    # workload id -> (min, max, current, limited)
    autoscalers: dict[str, tuple[int, int, int, bool]] = field(default_factory=dict)

    @property
    def workloads_by_status(self) -> dict[str, int]:
        return dict(Counter(self.workload_status.values()))


# the scenario author's reading of Nomad states (see module doc)
NODE_STATUS = {"ready": "ready", "down": "down", "initializing": "not_ready", "disconnected": "not_ready"}
ALLOC_STATE = {"running": "running", "pending": "pending", "complete": "succeeded", "failed": "failed",
               "lost": "failed", "unknown": "unknown"}


def _job_status(job: Job, allocs: list[Alloc], region: Region) -> tuple[str, int, int]:
    """(status, desired, running) an operator expects for `job`, given its current allocations."""
    running = sum(1 for a in allocs if a.client_status == "running")
    if job.stop:
        return "stopped", 0, running
    queued = sum(q for e in region.evaluations if e.job is job and e.status == "blocked" for q in e.queued.values())
    wanted = len(allocs) + queued if job.type in ("system", "sysbatch") else sum(g.count for g in job.groups)
    if job.type in ("batch", "sysbatch") and job.status == "dead":
        done = all(a.client_status == "complete" for a in allocs)
        return ("completed" if done else "failed"), wanted, running
    latest = max((d for d in region.deployments if d.job is job), key=lambda d: d.create_index, default=None)
    if latest is not None and latest.job_version == job.version and latest.status == "running":
        return "progressing", wanted, running
    if latest is not None and latest.job_version == job.version and latest.status == "failed":
        return "failed", wanted, running
    if running == 0 and wanted > 0:
        return "failed", wanted, running
    unhealthy = any(a.healthy is False for a in allocs if a.client_status == "running")
    if running < wanted or unhealthy:
        return "degraded", wanted, running
    return "healthy", wanted, running


def expected_for(regions: dict[str, Region], reasons: dict[str, str],
                 events: list[tuple[str, str]]) -> Expected:
    nodes = [n for r in regions.values() for n in r.nodes]
    allocs = [a for r in regions.values() for a in r.allocs]
    current = [a for a in allocs if a.desired_status == "run" and not a.next_id]
    status, desired, running = {}, {}, {}
    by_job: dict[int, list[Alloc]] = {}
    for alloc in current:
        by_job.setdefault(id(alloc.job), []).append(alloc)
    for region in regions.values():
        for job in region.jobs:
            key = f"{region.name}/{job.namespace}/{job.id}"
            status[key], desired[key], running[key] = _job_status(job, by_job.get(id(job), []), region)
    services, autoscalers = _services(regions, current), _autoscalers(regions, current)
    holding = [a for a in current if a.client_status in ("pending", "running")]
    by_node = {n.id: n for n in nodes}
    cpu_allocated = sum(sum(t.cpu_mhz for t in a.group.tasks) / by_node[a.node.id].mhz_per_core
                        for a in holding)
    return Expected(
        regions=list(regions),
        nodes_by_status=dict(Counter(NODE_STATUS[n.status] for n in nodes)),
        unschedulable_nodes={n.id for n in nodes if not n.eligible or n.draining},
        node_zones={n.id: n.datacenter for n in nodes},
        workload_status=status, workload_desired=desired, workload_running=running,
        instances_by_state=dict(Counter(ALLOC_STATE[a.client_status] for a in current)),
        reasons=dict(reasons), events=list(events),
        cpu_capacity_cores=round(sum(n.cores for n in nodes), 6),
        cpu_allocatable_cores=round(sum(n.cores - n.reserved_mhz / n.mhz_per_core for n in nodes), 6),
        cpu_allocated_cores=round(cpu_allocated, 6),
        mem_capacity_bytes=sum(n.memory_mb for n in nodes) * MIB,
        mem_allocatable_bytes=sum(n.memory_mb - n.reserved_memory_mb for n in nodes) * MIB,
        mem_allocated_bytes=sum(t.memory_mb for a in holding for t in a.group.tasks) * MIB,
        nodes_with_usage={n.id for n in nodes if n.stats and n.status == "ready"},
        services=services, autoscalers=autoscalers,
    )


def _services(regions: dict[str, Region], current: list[Alloc]) -> dict[str, tuple[str, int, int]]:
    """A native service is backed by its running allocations (each registers it) and ready where
    the allocation is not known unhealthy; with none while its job should run it is down. Services
    registered in Consul are listed with what Nomad cannot tell: unknown."""
    found: dict[str, tuple[str, int, int]] = {}
    for name, region in regions.items():
        for job in region.jobs:
            if job.stop or job.status == "dead":
                continue
            for group in job.groups:
                running = [a for a in current
                           if a.job is job and a.group.name == group.name and a.client_status == "running"]
                for service in group.services:
                    key = f"{name}/{job.namespace}/{service.name}"
                    if service.provider != "nomad":
                        found[key] = ("unknown", 0, 0)
                        continue
                    ready = sum(a.healthy is not False for a in running)
                    status = "down" if not ready else "ok" if ready == len(running) else "degraded"
                    found[key] = (status, len(running), ready)
    return found


def _autoscalers(regions: dict[str, Region], current: list[Alloc]) -> dict[str, tuple[int, int, int, bool]]:
    """A horizontal policy's bounds and the group's running count; limited once the group's count
    reached the policy's maximum (the autoscaler may not add more)."""
    found = {}
    for name, region in regions.items():
        for job in region.jobs:
            for group in job.groups:
                if group.scaling is None:
                    continue
                running = sum(a.job is job and a.group.name == group.name and a.client_status == "running"
                              for a in current)
                found[f"{name}/{job.namespace}/{job.id}"] = (group.scaling.min, group.scaling.max, running,
                                                             group.count >= group.scaling.max)
    return found
