"""Pure: Nomad wire structs (per region) in, the common model out. See docs/nomad.md.

CPU: Nomad counts MHz. A node's cores are its `CpuShares` divided by its own per-core frequency
(`CpuShares / TotalCpuCores`, else the `cpu.frequency` attribute, else `cpu.totalcompute /
cpu.numcores`), so an allocation's MHz on a 2.0 GHz node is twice the cores it is on a 4.0 GHz
one. A job's per-instance request is converted with the region's mean per-core frequency.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import fmean

from collectors.nomad.allocs import AllocRow, digest
from collectors.nomad.discovery import Discovery
from collectors.nomad.events import alloc_events, deployment_events, evaluation_events, node_events, region_events
from collectors.nomad.services import autoscalers, services
from collectors.nomad.wire import (AllocStub, Deployment, Evaluation, HostStats, JobSpec, JobStub, LegacyResources,
                                   NodeStub)
from collectors.toolkit import MAX_EVENTS, MIB
from fleet.model import Instance, Node, Workload
from fleet.source import ClusterData

NODE_STATUS = {"ready": "ready", "down": "down", "initializing": "not_ready", "disconnected": "not_ready"}
HOLDING = frozenset({"running", "pending"})
# jobs that place one allocation on every eligible client node
PER_NODE_TYPES = frozenset({"system", "sysbatch"})
ACTIVE_DEPLOYMENT = ("running", "pending", "paused", "blocked", "unblocking", "initializing")
# the task config key that names what runs, per driver
ARTIFACT_KEYS = {"docker": "image", "podman": "image", "containerd-driver": "image", "exec": "command",
                 "raw_exec": "command", "java": "jar_path", "qemu": "image_path"}


@dataclass
class RegionRaw:
    name: str | None
    nodes: list[NodeStub]
    jobs: list[JobStub]
    allocs: list[AllocRow]  # every allocation, digested (see collectors.nomad.allocs)
    deployments: list[Deployment] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    specs: dict[tuple[str, str], JobSpec] = field(default_factory=dict)
    # allocations that are not running or complete, read again with their task states: their rows
    # are made again from these, and the failed and lost ones are events
    troubled: list[AllocStub] = field(default_factory=list)
    stats: dict[str, HostStats] = field(default_factory=dict)
    # the region's servers answered without a leader (stale reads from a follower)
    leaderless: bool = False
    last_contact_ms: int | None = None
    discovery: Discovery | None = None  # service registrations and scaling policies


@dataclass
class NomadRaw:
    version: str | None
    regions: list[RegionRaw]
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    failed_regions: dict[str, str] = field(default_factory=dict)


def normalize(raw: NomadRaw) -> ClusterData:
    data = ClusterData(version=raw.version)
    for region in raw.regions:
        normalize_region(region, raw.fetched_at, data)
    data.events.sort(key=lambda e: e.time, reverse=True)
    del data.events[MAX_EVENTS:]
    problems = [f"region {name} unavailable: {why}" for name, why in raw.failed_regions.items()]
    problems += [f"region {r.name}: {p}" if r.name else p for r in raw.regions for p in
                 (r.discovery.problems if r.discovery else [])]
    if problems:
        data.degraded_reason = "; ".join(problems)
    return data


def normalize_region(raw: RegionRaw, now: datetime, data: ClusterData) -> None:
    prefix = f"{raw.name}/" if raw.name else ""
    troubled = {a.ID: digest(a, prefix) for a in raw.troubled}
    mhz = {n.ID: mhz_per_core(n) for n in raw.nodes}
    nodes = [node_to_model(n, raw.name, mhz[n.ID], raw.stats.get(n.ID)) for n in raw.nodes]
    replaced = {prev for row in raw.allocs if row.replaces for prev in row.replaces}
    # one pass over every allocation: instances, per job, and what each node holds (kept flat: 100,000 a round)
    by_job: defaultdict[str | None, list[Instance]] = defaultdict(list)  # workload id -> its current instances
    held_mhz: defaultdict[str | None, int] = defaultdict(int)  # node ID -> MHz and MB its pending and running allocations hold
    held_mb: defaultdict[str | None, int] = defaultdict(int)
    instances = []
    for row in raw.allocs:
        if troubled:
            row = troubled.get(row.instance.id, row)
        instance = row.instance
        if not row.run or (replaced and instance.id in replaced):
            continue
        by_job[instance.workload_id].append(instance)
        instances.append(instance)
        if instance.state in HOLDING:  # what the scheduler holds on the node
            held_mhz[instance.node_id] += row.mhz
            held_mb[instance.node_id] += row.mb
    for node in nodes:
        node.cpu_allocated_cores = _cores(held_mhz.get(node.id, 0), mhz.get(node.id))
        node.mem_allocated_bytes = held_mb.get(node.id, 0) * MIB
    latest = latest_deployments(raw.deployments)
    blocked = [e for e in raw.evaluations if e.Status == "blocked"]
    blocked_jobs = {(e.Namespace, e.JobID) for e in blocked}
    known = [v for v in mhz.values() if v]
    region_mhz = fmean(known) if known else None
    discovery = raw.discovery or Discovery()
    scaled = autoscalers(discovery.policies, discovery.scales, prefix)
    declared = []
    for job in raw.jobs:
        key = (job.namespace, job.ID)
        workload = job_to_workload(job, raw.specs.get(key), by_job.get(f"{prefix}{key[0]}/{key[1]}", []),
                                   latest.get(key), key in blocked_jobs, prefix, region_mhz)
        workload.autoscaler = scaled.get(workload.id)
        data.workloads.append(workload)
        declared.append((raw.specs.get(key), workload))
    by_alloc = {i.id: i for i in instances} if discovery.registrations else {}
    data.services.extend(services(discovery.registrations, declared, by_alloc, prefix))
    data.nodes.extend(nodes)
    data.instances.extend(instances)
    data.events.extend(region_events(raw.name, raw.leaderless, raw.last_contact_ms, now))
    data.events.extend(node_events(raw.nodes, raw.name, now))
    data.events.extend(alloc_events(raw.troubled, now))
    data.events.extend(evaluation_events(blocked, now))
    data.events.extend(deployment_events(latest.values(), now))


# --- nodes ----------------------------------------------------------------------------------------

def mhz_per_core(node: NodeStub) -> float | None:
    """The node's own per-core frequency in MHz, or None when the payload does not say."""
    attributes = node.Attributes or {}
    total = total_mhz(node)
    cpu = node.NodeResources.Cpu if node.NodeResources and node.NodeResources.Cpu else None
    if cpu and cpu.TotalCpuCores and total:
        return total / cpu.TotalCpuCores
    if _number(attributes.get("cpu.frequency")):
        return _number(attributes["cpu.frequency"])
    cores = _number(attributes.get("cpu.numcores"))
    return total / cores if total and cores else None


def total_mhz(node: NodeStub) -> int:
    if node.NodeResources and node.NodeResources.Cpu and node.NodeResources.Cpu.CpuShares:
        return node.NodeResources.Cpu.CpuShares
    if node.Resources and node.Resources.CPU:
        return node.Resources.CPU
    return int(_number((node.Attributes or {}).get("cpu.totalcompute")) or 0)


def _reserved(node: NodeStub) -> tuple[int, int]:
    reserved = node.ReservedResources
    if reserved is not None:
        return (reserved.Cpu.CpuShares if reserved.Cpu else 0), (reserved.Memory.MemoryMB if reserved.Memory else 0)
    legacy = node.Reserved or LegacyResources()
    return legacy.CPU, legacy.MemoryMB


def _memory_mb(node: NodeStub) -> int:
    if node.NodeResources and node.NodeResources.Memory:
        return node.NodeResources.Memory.MemoryMB
    return node.Resources.MemoryMB if node.Resources else 0


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def _cores(mhz: float, per_core: float | None) -> float:
    return round(mhz / per_core, 6) if per_core else 0.0


def node_to_model(node: NodeStub, region: str | None, per_core: float | None, stats: HostStats | None) -> Node:
    attributes = node.Attributes or {}
    total, memory = total_mhz(node), _memory_mb(node)
    reserved_cpu, reserved_memory = _reserved(node)
    drivers = sorted(name for name, d in (node.Drivers or {}).items() if d.Detected and d.Healthy)
    labels = {"nomad.region": region, "nomad.datacenter": node.Datacenter, "nomad.node_class": node.NodeClass,
              "nomad.node_pool": node.NodePool, "nomad.drivers": ",".join(drivers),
              "nomad.kernel": " ".join(filter(None, (attributes.get("kernel.name"), attributes.get("kernel.version"))))}
    used = stats is not None and per_core is not None  # CPU needs the node's frequency, memory does not
    return Node(
        id=node.ID, name=node.Name or node.ID, status=NODE_STATUS.get(node.Status, "unknown"),  # type: ignore[arg-type]
        schedulable=node.SchedulingEligibility == "eligible" and not node.Drain, roles=["client"],
        address=node.Address or attributes.get("unique.network.ip-address") or node.HTTPAddr.rsplit(":", 1)[0] or None,
        zone=node.Datacenter or None, region=region,
        cpu_capacity_cores=_cores(total, per_core), mem_capacity_bytes=memory * MIB,
        cpu_allocatable_cores=_cores(total - reserved_cpu, per_core),
        mem_allocatable_bytes=(memory - reserved_memory) * MIB,
        cpu_used_cores=_cores(stats.CPUTicksConsumed, per_core) if used else None,  # type: ignore[union-attr]
        mem_used_bytes=stats.Memory.Used if stats is not None and stats.Memory else None,
        labels={k: v for k, v in labels.items() if v},
        version=node.Version or attributes.get("nomad.version") or None,
        os=attributes.get("os.name") or attributes.get("kernel.name"), arch=attributes.get("cpu.arch"),
    )


# --- jobs -----------------------------------------------------------------------------------------

def latest_deployments(deployments: list[Deployment]) -> dict[tuple[str, str], Deployment]:
    latest: dict[tuple[str, str], Deployment] = {}
    for d in deployments:
        key = (d.Namespace, d.JobID)
        if key not in latest or d.CreateIndex > latest[key].CreateIndex:
            latest[key] = d
    return latest


def desired_count(job: JobStub, spec: JobSpec | None, instances: list[Instance]) -> int | None:
    if job.Stop:
        return 0
    if job.Type in PER_NODE_TYPES:
        summary = job.JobSummary.Summary if job.JobSummary and job.JobSummary.Summary else {}
        return len(instances) + sum(g.Queued for g in summary.values())
    if spec is None or spec.TaskGroups is None or is_parent(job, spec):
        return None
    return sum(g.Count for g in spec.TaskGroups)


def is_parent(job: JobStub, spec: JobSpec | None) -> bool:
    """A periodic or (undispatched) parameterized job only launches child jobs; it runs nothing itself."""
    periodic = bool(spec and spec.Periodic and spec.Periodic.get("Enabled", True))
    # a dispatched child carries its parent's ParameterizedJob block, but runs its own task groups
    parameterized = bool(spec and spec.ParameterizedJob and not spec.Dispatched)
    return job.Periodic or job.ParameterizedJob or periodic or parameterized


def job_to_workload(job: JobStub, spec: JobSpec | None, instances: list[Instance], deployment: Deployment | None,
                    blocked: bool, prefix: str, region_mhz: float | None) -> Workload:
    running = running_healthy = 0
    checked = deployment is not None
    for instance in instances:
        if instance.state == "running":
            running += 1
            running_healthy += instance.health == "healthy"
        if instance.health != "unknown":
            checked = True
    healthy = running_healthy if checked else None
    desired = desired_count(job, spec, instances)
    cpu_mhz, cores, memory_mb = per_instance_request(spec)
    current = deployment if deployment and (spec is None or deployment.JobVersion == spec.Version) else None
    return Workload(
        id=f"{prefix}{job.namespace}/{job.ID}", name=job.Name or job.ID, namespace=job.namespace, kind=job.Type,
        per_node=job.Type in PER_NODE_TYPES, desired=desired, running=running, healthy=healthy,
        status=job_status(job, desired, running, instances, current, blocked),  # type: ignore[arg-type]
        images=images(spec), cpu_request_cores=round(cores + (cpu_mhz / region_mhz if region_mhz else 0.0), 6),
        mem_request_bytes=int(memory_mb * MIB),
    )


def job_status(job: JobStub, desired: int | None, running: int, instances: list[Instance],
               deployment: Deployment | None, blocked: bool) -> str:
    if job.Stop or desired == 0:
        return "stopped"
    if job.Type in ("batch", "sysbatch") and job.Status == "dead":
        if instances:
            return "completed" if all(i.state == "succeeded" for i in instances) else "failed"
        counts = job.JobSummary.Summary.values() if job.JobSummary and job.JobSummary.Summary else []
        return "failed" if sum(c.Failed for c in counts) > sum(c.Complete for c in counts) else "completed"
    if deployment is not None and deployment.Status in ACTIVE_DEPLOYMENT:
        return "progressing"
    if deployment is not None and deployment.Status == "failed":
        return "failed"
    if desired is None:
        return "healthy" if job.Status == "running" else "unknown"
    if running == 0:
        starting = any(i.state == "pending" and not i.reason for i in instances)
        return "progressing" if starting and not blocked else "failed"
    unhealthy = running < desired or any(i.health == "unhealthy" and i.state == "running" for i in instances)
    return "degraded" if unhealthy else "healthy"


def per_instance_request(spec: JobSpec | None) -> tuple[float, float, float]:
    """(MHz, reserved cores, MB) one allocation asks for, weighted by task-group counts."""
    groups = [g for g in (spec.TaskGroups or []) if g.Tasks] if spec else []
    if not groups:
        return 0.0, 0.0, 0.0
    weights = [max(g.Count, 0) for g in groups]
    if not sum(weights):
        weights = [1] * len(groups)
    totals = [0.0, 0.0, 0.0]
    for group, weight in zip(groups, weights):
        for task in group.Tasks or []:
            r = task.Resources or LegacyResources()
            totals[0] += weight * (0 if r.Cores else r.CPU)
            totals[1] += weight * r.Cores
            totals[2] += weight * r.MemoryMB
    return totals[0] / sum(weights), totals[1] / sum(weights), totals[2] / sum(weights)


def images(spec: JobSpec | None) -> list[str]:
    found: list[str] = []
    for group in (spec.TaskGroups or []) if spec else []:
        for task in group.Tasks or []:
            config = task.Config or {}
            value = config.get(ARTIFACT_KEYS.get(task.Driver, "image")) or config.get("class")
            if isinstance(value, str) and value and value not in found:
                found.append(value)
    return found
