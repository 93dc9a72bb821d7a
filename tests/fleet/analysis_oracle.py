"""The analysis as it was before issue 14: quadratic first-fit decreasing, kept as the test oracle.

A verbatim copy of fleet/analysis.py's algorithm at that time (only the output Structs and the limit
checks are imported), so the fast analysis can be asserted equal to it on random and medium fleets.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from fleet.analysis import (NO_ZONE, HOTTEST_NODES, EPSILON, Balance, ClusterAnalysis, Headroom, LossImpact,
                            NodeLoad, SnapshotAnalysis, SpofWorkload, StrandedInstance, ZoneLoss)
from fleet.limits import limit_warnings
from fleet.model import Cluster, Instance, Node, Snapshot, Workload


@dataclass(frozen=True)
class _Free:
    node: Node
    cpu_cores: float
    mem_bytes: float


@dataclass
class _Context:
    """What every loss scenario of one cluster shares, computed once (5,000-node clusters)."""

    workloads: dict[str, Workload]
    names: dict[str, str]  # node id -> name
    running: list[Instance]
    on_node: dict[str, list[Instance]]
    running_per_workload: dict[str, int]
    bins: list[_Free]  # free capacity of the ready, schedulable nodes, in snapshot order


# -- building blocks ---------------------------------------------------------------------------------


def workload_label(workload: Workload) -> str:
    return f"{workload.namespace}/{workload.name}" if workload.namespace else workload.name


def is_available(node: Node) -> bool:
    """Ready and accepting new work."""
    return node.status == "ready" and node.schedulable


def movable_running(cluster: Cluster) -> list[Instance]:
    """Running instances that the orchestrator would re-place if their node went away."""
    per_node = {w.id for w in cluster.workloads if w.per_node}  # losing the node loses its copy, by design
    return [i for i in cluster.instances if i.state == "running" and i.node_id and i.workload_id not in per_node]


def request_of(instance: Instance, workloads: dict[str, Workload]) -> tuple[float, int]:
    workload = workloads.get(instance.workload_id or "")
    return (workload.cpu_request_cores, workload.mem_request_bytes) if workload else (0.0, 0)


def free_capacity(nodes: list[Node]) -> list[_Free]:
    return [_Free(n, max(0.0, n.cpu_allocatable_cores - n.cpu_allocated_cores),
                  max(0.0, float(n.mem_allocatable_bytes - n.mem_allocated_bytes))) for n in nodes]


def context(cluster: Cluster) -> _Context:
    running = movable_running(cluster)
    on_node: dict[str, list[Instance]] = defaultdict(list)
    per_workload: dict[str, int] = defaultdict(int)
    for instance in running:
        on_node[instance.node_id or ""].append(instance)
        per_workload[instance.workload_id or ""] += 1
    return _Context(workloads={w.id: w for w in cluster.workloads}, names={n.id: n.name for n in cluster.nodes},
                    running=running, on_node=on_node,
                    running_per_workload=per_workload,
                    bins=free_capacity([n for n in cluster.nodes if is_available(n)]))


def first_fit_decreasing(requests: list[tuple[str, float, int]], bins: list[_Free],
                         excluded: frozenset[str] = frozenset()) -> dict[str, str | None]:
    """Place (key, cpu, mem) requests, largest CPU then memory first, each on the first bin it fits.

    Bins whose node id is in `excluded` are skipped; the bins themselves are not changed.
    """
    taken: dict[int, tuple[float, float]] = {}
    placed: dict[str, str | None] = {}
    most_cpu = max((b.cpu_cores for b in bins), default=0.0) + EPSILON
    most_mem = max((b.mem_bytes for b in bins), default=0.0) + EPSILON
    for key, cpu, mem in sorted(requests, key=lambda r: (r[1], r[2]), reverse=True):
        placed[key] = None
        if cpu > most_cpu or mem > most_mem:
            continue  # larger than any node's free room: no need to look (5,000-node clusters)
        for index, free in enumerate(bins):
            if free.node.id in excluded:
                continue
            used_cpu, used_mem = taken.get(index, (0.0, 0.0))
            if free.cpu_cores - used_cpu + EPSILON >= cpu and free.mem_bytes - used_mem + EPSILON >= mem:
                taken[index] = (used_cpu + cpu, used_mem + mem)
                placed[key] = free.node.name
                break
    return placed


# -- node and zone loss ------------------------------------------------------------------------------


def loss_impact(cluster: Cluster, lost: str, lost_ids: set[str], shared: _Context | None = None) -> LossImpact:
    """Lose the nodes in `lost_ids` at once: what is stranded, what fits elsewhere, who goes dark."""
    ctx = shared or context(cluster)
    stranded = [i for node_id in sorted(lost_ids) for i in ctx.on_node.get(node_id, [])]
    requests = [(i.id, *request_of(i, ctx.workloads)) for i in stranded]
    placement = first_fit_decreasing(requests, ctx.bins, frozenset(lost_ids))
    rows = [StrandedInstance(instance=i.name, workload=workload_label(ctx.workloads[i.workload_id])
                             if i.workload_id in ctx.workloads else None,
                             cpu_request_cores=cpu, mem_request_bytes=mem, placed_on=placement[i.id])
            for i, (_, cpu, mem) in zip(stranded, requests)]
    unplaced = sum(1 for r in rows if r.placed_on is None)
    spof, below_half = workloads_hurt(ctx, stranded)
    return LossImpact(
        lost=lost, nodes=sorted(ctx.names.get(i, i) for i in lost_ids), stranded=rows,
        stranded_cpu_cores=round(sum(r.cpu_request_cores for r in rows), 6),
        stranded_mem_bytes=sum(r.mem_request_bytes for r in rows),
        replaced=len(rows) - unplaced, unplaced=unplaced, absorbable=unplaced == 0,
        spof_workloads=spof, below_half_workloads=below_half)


def workloads_hurt(ctx: _Context, stranded: list[Instance]) -> tuple[list[str], list[str]]:
    lost: dict[str, int] = defaultdict(int)
    for instance in stranded:
        lost[instance.workload_id or ""] += 1
    spof, below_half = [], []
    for workload_id, count in lost.items():
        workload = ctx.workloads.get(workload_id)
        if workload is None:
            continue
        left = ctx.running_per_workload[workload_id] - count
        if left == 0:
            spof.append(workload_label(workload))
        elif workload.desired and left < workload.desired / 2:
            below_half.append(workload_label(workload))
    return sorted(spof), sorted(below_half)


def node_loss(cluster: Cluster, shared: _Context | None = None) -> list[LossImpact]:
    ctx = shared or context(cluster)
    return [loss_impact(cluster, node.name, {node.id}, ctx) for node in cluster.nodes]


def severity(impact: LossImpact) -> tuple:
    return (impact.unplaced, len(impact.spof_workloads), len(impact.below_half_workloads),
            impact.stranded_cpu_cores, impact.stranded_mem_bytes, len(impact.stranded))


def worst(impacts: list[LossImpact]) -> LossImpact | None:
    return max(impacts, key=severity, default=None)


def zones_of(cluster: Cluster) -> dict[str, set[str]]:
    zones: dict[str, set[str]] = defaultdict(set)
    for node in cluster.nodes:
        zones[node.zone or NO_ZONE].add(node.id)
    return dict(zones)


def zone_loss(cluster: Cluster, shared: _Context | None = None) -> ZoneLoss:
    zones = zones_of(cluster)
    named = sorted(z for z in zones if z != NO_ZONE)
    if len(named) < 2:
        where = f"One zone ({named[0]})" if named else "No zone information on any node"
        return ZoneLoss(zones=named, single_zone=True,
                        note=f"{where}: losing a zone means losing the whole cluster; "
                             "zone loss cannot be survived inside this cluster")
    return ZoneLoss(zones=named, single_zone=False,
                    impacts=[loss_impact(cluster, zone, zones[zone], shared) for zone in named])


def spof_workloads(cluster: Cluster, shared: _Context | None = None) -> list[SpofWorkload]:
    """Workloads whose running instances all sit on one node."""
    ctx = shared or context(cluster)
    nodes_of: dict[str, set[str]] = defaultdict(set)
    for instance in ctx.running:
        if instance.workload_id in ctx.workloads:
            nodes_of[instance.workload_id].add(instance.node_id or "")
    result = [SpofWorkload(workload=workload_label(ctx.workloads[w]), node=ctx.names.get(node, node),
                           instances=ctx.running_per_workload[w])
              for w, (node, *others) in ((w, sorted(n)) for w, n in nodes_of.items()) if not others]
    return sorted(result, key=lambda s: (s.node, s.workload))


# -- balance and headroom ----------------------------------------------------------------------------


def ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def coefficient_of_variation(values: list[float]) -> float:
    mean = statistics.fmean(values) if values else 0.0
    return round(statistics.pstdev(values) / mean, 4) if mean > 0 else 0.0


def balance(cluster: Cluster) -> Balance:
    loads = [NodeLoad(node=n.name, cpu_ratio=round(ratio(n.cpu_allocated_cores, n.cpu_allocatable_cores), 4),
                      mem_ratio=round(ratio(n.mem_allocated_bytes, n.mem_allocatable_bytes), 4))
             for n in cluster.nodes if is_available(n)]
    hottest = sorted(loads, key=lambda load: max(load.cpu_ratio, load.mem_ratio), reverse=True)
    return Balance(nodes=len(loads), cpu_cv=coefficient_of_variation([load.cpu_ratio for load in loads]),
                   mem_cv=coefficient_of_variation([load.mem_ratio for load in loads]),
                   hottest=hottest[:HOTTEST_NODES])


def fits(free: float, request: float) -> float:
    return free // request if request > 0 else float("inf")


def headroom(cluster: Cluster) -> Headroom:
    workloads = {w.id: w for w in cluster.workloads}
    requests = [request_of(i, workloads) for i in cluster.instances if i.state == "running"]
    cpu = statistics.median([r[0] for r in requests]) if requests else 0.0
    mem = int(statistics.median([r[1] for r in requests])) if requests else 0
    if cpu <= 0 and mem <= 0:
        return Headroom(median_cpu_request_cores=cpu, median_mem_request_bytes=mem, instances=None, limited_by=None)
    free = free_capacity([n for n in cluster.nodes if is_available(n)])
    by_cpu = sum(fits(f.cpu_cores + EPSILON, cpu) for f in free)
    by_mem = sum(fits(f.mem_bytes, mem) for f in free)
    per_node = sum(min(fits(f.cpu_cores + EPSILON, cpu), fits(f.mem_bytes, mem)) for f in free)
    return Headroom(median_cpu_request_cores=cpu, median_mem_request_bytes=mem, instances=int(per_node),
                    limited_by="cpu" if by_cpu <= by_mem else "memory")


# -- the whole cluster -------------------------------------------------------------------------------


def n_plus_1(cluster: Cluster) -> bool | None:
    """Only the verdict (for an overview card): survives losing any one node; None without nodes."""
    impacts = node_loss(cluster)
    return all(i.absorbable for i in impacts) if impacts else None


def analyze_cluster(cluster: Cluster) -> ClusterAnalysis:
    ctx = context(cluster)
    impacts = node_loss(cluster, ctx)
    return ClusterAnalysis(
        cluster=cluster.name, orchestrator=cluster.orchestrator, status=cluster.status,
        n_plus_1=all(i.absorbable for i in impacts) if impacts else None,
        worst_node=worst(impacts), spof_workloads=spof_workloads(cluster, ctx), node_loss=impacts,
        zone_loss=zone_loss(cluster, ctx), balance=balance(cluster), headroom=headroom(cluster),
        limit_warnings=limit_warnings(cluster))


def analyze(snapshot: Snapshot) -> SnapshotAnalysis:
    return SnapshotAnalysis(taken_at=snapshot.taken_at.isoformat().replace("+00:00", "Z"),
                            clusters=[analyze_cluster(c) for c in snapshot.clusters])

