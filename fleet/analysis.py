"""Failure impact, balance, headroom and published limits: pure functions over a Snapshot.

Every number comes from the common model (nodes' allocatable and allocated resources, workloads'
per-instance requests, instances' placement), so the same analysis works for every orchestrator.
Re-placement is predicted with first-fit decreasing over the remaining ready, schedulable nodes
(fleet/placement.py answers it for every node and zone in near-linear time; the plain quadratic loop
is kept as the test oracle); what that cannot know (constraints, affinities, ports, volumes) is
listed in docs/analysis.md. No I/O here.
"""
from __future__ import annotations

import hashlib
import heapq
import math
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain, repeat
from fractions import Fraction
from operator import itemgetter
from typing import NamedTuple

import msgspec

from fleet.gcpause import paused_gc
from fleet.limits import LimitWarning, limit_warnings
from fleet.model import Cluster, Instance, Node, Snapshot, Workload
from fleet.placement import EPSILON, NOT_FOUND, FirstFit
from fleet.sameness import same_items

NO_ZONE = "(no zone)"
NO_REQUEST = (0.0, 0)
HOTTEST_NODES = 3
# from this many stranded instances (a zone's), requests are grouped per workload, then per size
MANY_STRANDED = 256
PROGRESS_NODES = 2000  # node losses between progress reports (~0.03 s of work)


class StrandedInstance(msgspec.Struct, kw_only=True, gc=False):  # 200,000 per cluster, no cycles: untracked
    instance: str
    workload: str | None
    cpu_request_cores: float
    mem_request_bytes: int
    placed_on: str | None  # predicted new node; None: nowhere fits, it stays pending


class LossImpact(msgspec.Struct, kw_only=True, gc=False):
    """What losing one node (or one zone) would do."""

    lost: str
    nodes: list[str]
    stranded: list[StrandedInstance]
    stranded_cpu_cores: float
    stranded_mem_bytes: int
    replaced: int
    unplaced: int
    absorbable: bool  # every stranded instance fits elsewhere
    spof_workloads: list[str]  # would lose every running instance
    below_half_workloads: list[str]  # would keep some, but fewer than half of desired


class ZoneLoss(msgspec.Struct, kw_only=True):
    zones: list[str]
    single_zone: bool
    note: str | None = None
    impacts: list[LossImpact] = []


class NodeLoad(msgspec.Struct, kw_only=True):
    node: str
    cpu_ratio: float
    mem_ratio: float


class Balance(msgspec.Struct, kw_only=True):
    nodes: int
    cpu_cv: float  # coefficient of variation of allocated/allocatable CPU across schedulable nodes
    mem_cv: float
    hottest: list[NodeLoad]


class Headroom(msgspec.Struct, kw_only=True):
    median_cpu_request_cores: float
    median_mem_request_bytes: int
    instances: int | None  # more instances of the median request that fit; None: requests are all zero
    limited_by: str | None  # "cpu" | "memory" | None


class SpofWorkload(msgspec.Struct, kw_only=True):
    workload: str
    node: str
    instances: int


class ClusterAnalysis(msgspec.Struct, kw_only=True):
    cluster: str
    orchestrator: str
    status: str
    n_plus_1: bool | None  # None: no nodes known, so nothing can be said
    worst_node: LossImpact | None
    spof_workloads: list[SpofWorkload]
    node_loss: list[LossImpact]
    zone_loss: ZoneLoss
    balance: Balance
    headroom: Headroom
    limit_warnings: list[LimitWarning]


class SnapshotAnalysis(msgspec.Struct, kw_only=True):
    taken_at: str
    clusters: list[ClusterAnalysis]

    @property
    def all_n_plus_1(self) -> bool:
        return all(c.n_plus_1 is True for c in self.clusters)


class _Free(NamedTuple):
    node: Node
    cpu_cores: float
    mem_bytes: float


# one running instance that losing its node strands: (instance name, workload label or None, cpu request,
# memory request, workload id or "", instance id); plain tuples, as there are 200,000 of them
_Entry = tuple[str, str | None, float, int, str, str]
CPU_OF, MEM_OF, WORKLOAD_OF, REQUEST_OF = itemgetter(2), itemgetter(3), itemgetter(4), itemgetter(2, 3)


@dataclass
class _Context:
    """What every loss scenario of one cluster shares, computed once (50,000-node clusters)."""

    workloads: dict[str, Workload]
    labels: dict[str | None, str]  # workload id -> label
    names: dict[str, str]  # node id -> name
    running: list[Instance]
    on_node: dict[str, list[_Entry]]  # node id -> its movable instances, in snapshot order
    nodes_of: dict[str | None, list[str]]  # workload id -> the node of each of its movable instances
    running_per_workload: dict[str, int]
    requests: dict[str, tuple[float, int]]  # workload id -> its instances' request (absent: NO_REQUEST)
    hurt: dict[str, tuple[int, int | None, str]]  # known workload id -> running instances, desired, label
    hurt_from: dict[str, int]  # known workload id -> fewest of its instances whose loss hurts it
    may_hurt: set[str]  # node ids holding at least hurt_from instances of some workload
    unique_instance_ids: bool
    free_cpu: list[float]  # per bin
    free_mem: list[float]
    bin_names: list[str | None]  # node name per bin (ready, schedulable nodes, in snapshot order), then None
    bins_of: dict[str, list[int]]  # node id -> its indexes in bins
    first_fit: FirstFit  # over bins


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


def requests_by_workload(cluster: Cluster) -> dict[str, tuple[float, int]]:
    """What request_of answers, as one table (200,000 instances)."""
    return {w.id: (w.cpu_request_cores, w.mem_request_bytes) for w in cluster.workloads}


def free_capacity(nodes: list[Node]) -> list[_Free]:
    return [_Free(n, max(0.0, n.cpu_allocatable_cores - n.cpu_allocated_cores),
                  max(0.0, float(n.mem_allocatable_bytes - n.mem_allocated_bytes))) for n in nodes]


def context(cluster: Cluster) -> _Context:
    running = movable_running(cluster)
    labels: dict[str | None, str] = {w.id: workload_label(w) for w in cluster.workloads}
    # the label goes by the instance's workload id and the request by that id or "", as request_of does
    known = {w.id: (labels[w.id], w.cpu_request_cores, w.mem_request_bytes) for w in cluster.workloads}
    unknown = (None, *NO_REQUEST)
    on_node: dict[str, list[_Entry]] = defaultdict(list)
    nodes_of: dict[str | None, list[str]] = defaultdict(list)  # workload id as given -> node per instance
    for instance in running:
        workload_id = instance.workload_id or ""
        label, cpu, mem = known.get(workload_id, unknown)
        on_node[instance.node_id].append((instance.name, label if instance.workload_id is not None else None,  # type: ignore[index]
                                          cpu, mem, workload_id, instance.id))
        nodes_of[instance.workload_id].append(instance.node_id)  # type: ignore[arg-type]
    per_workload: dict[str, int] = {}  # None and "" count as one, as request_of looks them up
    for workload_id, node_ids in nodes_of.items():
        per_workload[workload_id or ""] = per_workload.get(workload_id or "", 0) + len(node_ids)
    available = [n for n in cluster.nodes if is_available(n)]
    free_cpu, free_mem = free_lists(available)
    workloads = {w.id: w for w in cluster.workloads}
    hurt = {w: (count, workloads[w].desired, labels[w]) for w, count in per_workload.items() if w in workloads}
    hurt_from = {w: fewest_lost_that_hurt(running, desired) for w, (running, desired, _) in hurt.items()}
    return _Context(workloads=workloads, labels=labels,
                    names={n.id: n.name for n in cluster.nodes}, running=running, on_node=on_node,
                    nodes_of=nodes_of, running_per_workload=per_workload, requests=requests_by_workload(cluster),
                    hurt=hurt, hurt_from=hurt_from,
                    may_hurt=nodes_that_may_hurt(nodes_of, hurt_from),
                    unique_instance_ids=len({i.id for i in running}) == len(running), free_cpu=free_cpu,
                    free_mem=free_mem, bin_names=[n.name for n in available] + [None],
                    bins_of=bin_indexes([n.id for n in available]), first_fit=FirstFit(free_cpu, free_mem))


def nodes_that_may_hurt(nodes_of: dict[str | None, list[str]], hurt_from: dict[str, int]) -> set[str]:
    """Nodes whose loss could leave a workload with none, or fewer than half of desired: those with
    hurt_from[w] or more instances of some workload w. Losing any other node hurts no workload."""
    may_hurt: set[str] = set()
    for workload_id, fewest in hurt_from.items():
        node_ids = nodes_of.get(workload_id, []) + (nodes_of.get(None, []) if workload_id == "" else [])
        if fewest == 1:
            may_hurt.update(node_ids)
        elif len(set(node_ids)) < len(node_ids):  # some node holds two or more of them
            may_hurt.update(node_id for node_id, count in Counter(node_ids).items() if count >= fewest)
    return may_hurt


def free_lists(nodes: list[Node]) -> tuple[list[float], list[float]]:
    """free_capacity's numbers as two lists (50,000 nodes)."""
    return ([max(0.0, n.cpu_allocatable_cores - n.cpu_allocated_cores) for n in nodes],
            [max(0.0, float(n.mem_allocatable_bytes - n.mem_allocated_bytes)) for n in nodes])


def bin_indexes(node_ids: list[str]) -> dict[str, list[int]]:
    indexes: dict[str, list[int]] = defaultdict(list)
    for index, node_id in enumerate(node_ids):
        indexes[node_id].append(index)
    return indexes


def first_fit_decreasing(requests: list[tuple[str, float, int]], bins: list[_Free],
                         excluded: frozenset[str] = frozenset(), first_fit: FirstFit | None = None,
                         bins_of: dict[str, list[int]] | None = None) -> dict[str, str | None]:
    """Place (key, cpu, mem) requests, largest CPU then memory first, each on the first bin it fits.

    Bins whose node id is in `excluded` are skipped; the bins themselves are not changed. A key
    given twice gets the placement of its last copy placed.
    """
    if not requests:
        return {}
    first_fit = first_fit or FirstFit([b.cpu_cores for b in bins], [b.mem_bytes for b in bins])
    bins_of = bin_indexes([b.node.id for b in bins]) if bins_of is None else bins_of
    order = sorted(requests, key=itemgetter(1, 2), reverse=True)
    indexes = first_fit.place([(cpu, mem) for _, cpu, mem in order],
                              [index for node_id in excluded for index in bins_of.get(node_id, ())])
    names = [None if index == NOT_FOUND else bins[index].node.name for index in indexes]
    return dict(zip([key for key, _, _ in order], names))


# -- node and zone loss ------------------------------------------------------------------------------


def loss_impact(cluster: Cluster, lost: str, lost_ids: set[str], shared: _Context | None = None) -> LossImpact:
    """Lose the nodes in `lost_ids` at once: what is stranded, what fits elsewhere, who goes dark."""
    ctx = shared or context(cluster)
    ordered = sorted(lost_ids)
    none = repeat(())
    return impact(ctx, lost, sorted(map(ctx.names.get, lost_ids, lost_ids)),
                  list(chain.from_iterable(map(ctx.on_node.get, ordered, none))),
                  list(chain.from_iterable(map(ctx.bins_of.get, lost_ids, none))))


def impact(ctx: _Context, lost: str, nodes: list[str], stranded: list[_Entry], excluded: list[int],
           may_hurt: bool = True) -> LossImpact:
    """loss_impact once the stranded instances and the lost bins are known (50,000 times per cluster).
    `may_hurt` False: the caller knows no workload loses enough of its instances here to be hurt."""
    if len(stranded) >= MANY_STRANDED:
        by_workload = indexes_by_workload(stranded)
        names = placements_in_runs(ctx, stranded, excluded, by_workload)
        spof, below_half = hurt_by(ctx, {workload_id: len(indexes) for workload_id, indexes in by_workload.items()})
    else:
        names = placements(ctx, stranded, excluded)
        spof, below_half = workloads_hurt(ctx, stranded) if may_hurt else ([], [])
    rows = [StrandedInstance(instance=name, workload=label, cpu_request_cores=cpu, mem_request_bytes=mem,
                             placed_on=placed_on)
            for (name, label, cpu, mem, _, _), placed_on in zip(stranded, names)]
    unplaced = names.count(None)
    return LossImpact(
        lost=lost, nodes=nodes, stranded=rows, stranded_cpu_cores=round(sum(map(CPU_OF, stranded)), 6),
        stranded_mem_bytes=sum(map(MEM_OF, stranded)),
        replaced=len(rows) - unplaced, unplaced=unplaced, absorbable=unplaced == 0,
        spof_workloads=spof, below_half_workloads=below_half)


def placements(ctx: _Context, stranded: list[_Entry], excluded: list[int]) -> list[str | None]:
    """first_fit_decreasing's answer for each stranded instance, in stranded order."""
    if not stranded:
        return []
    requests = list(map(REQUEST_OF, stranded))
    if requests.count(requests[0]) == len(requests):  # one request size: already in first-fit order
        bin_names = ctx.bin_names  # NOT_FOUND (-1) is its trailing None
        names = [bin_names[index] for index in ctx.first_fit.place(requests, excluded)]
        return names if ctx.unique_instance_ids else by_last_copy(stranded, names, range(len(stranded)))
    order = sorted(range(len(requests)), key=requests.__getitem__, reverse=True)
    return names_in_stranded_order(ctx, stranded, order, ctx.first_fit.place([requests[k] for k in order], excluded))


def indexes_by_workload(stranded: list[_Entry]) -> dict[str, list[int]]:
    """Each workload's stranded instances (their indexes), workloads in first-seen order."""
    by_workload: dict[str, list[int]] = defaultdict(list)
    for index, workload_id in enumerate(map(WORKLOAD_OF, stranded)):
        by_workload[workload_id].append(index)
    return by_workload


def placements_in_runs(ctx: _Context, stranded: list[_Entry], excluded: list[int],
                       by_workload: dict[str, list[int]]) -> list[str | None]:
    """`placements` for a zone's tens of thousands of instances in a few request sizes: the sizes
    from the workloads, each size's instances in stranded order (the stable sort), placed as runs."""
    by_request: dict[tuple[float, int], list[list[int]]] = defaultdict(list)
    for workload_id, indexes in by_workload.items():
        by_request[ctx.requests.get(workload_id, NO_REQUEST)].append(indexes)
    runs: list[tuple[tuple[float, int], int]] = []
    order: list[int] = []
    for request in sorted(by_request, reverse=True):
        lists = by_request[request]
        indexes = lists[0] if len(lists) == 1 else sorted(chain.from_iterable(lists))
        runs.append((request, len(indexes)))
        order.extend(indexes)
    return names_in_stranded_order(ctx, stranded, order, ctx.first_fit.place_runs(runs, excluded))


def names_in_stranded_order(ctx: _Context, stranded: list[_Entry], order: list[int],
                            indexes: list[int]) -> list[str | None]:
    """The bins' node names placed in `order` (stranded positions), put back in stranded order."""
    bin_names = ctx.bin_names  # NOT_FOUND (-1) is its trailing None
    names: list[str | None] = [None] * len(stranded)
    for k, index in zip(order, indexes):
        names[k] = bin_names[index]
    return names if ctx.unique_instance_ids else by_last_copy(stranded, names, order)


def by_last_copy(stranded: list[_Entry], names: list[str | None], order: Iterable[int]) -> list[str | None]:
    """Answers are keyed by instance id: a repeated id gets the placement of its last copy placed."""
    by_id = {stranded[k][5]: names[k] for k in order}
    return [by_id[s[5]] for s in stranded]


def fewest_lost_that_hurt(running: int, desired: int | None) -> int:
    """Losing this many of `running` instances, or more, leaves none (a single point of failure) or
    fewer than half of `desired`; workloads_hurt's two tests, solved for the count lost."""
    if not desired:
        return running
    return max(1, min(running, math.floor(running - desired / 2) + 1))


def workloads_hurt(ctx: _Context, stranded: list[_Entry]) -> tuple[list[str], list[str]]:
    many = len(stranded) > 16
    if not many and min(map(ctx.hurt_from.get, map(WORKLOAD_OF, stranded), repeat(len(stranded) + 1)),
                        default=1) > len(stranded):
        return [], []  # one node's few instances: no workload has enough of them here to be hurt
    if many:  # count in C (Counter keeps first-seen order, as the loop)
        lost: dict[str, int] = Counter(map(WORKLOAD_OF, stranded))
    else:
        lost = {}
        for entry in stranded:
            lost[entry[4]] = lost.get(entry[4], 0) + 1
    return hurt_by(ctx, lost)


def hurt_by(ctx: _Context, lost: dict[str, int]) -> tuple[list[str], list[str]]:
    """The labels of the workloads left with none (spof) and with fewer than half of desired,
    given how many instances of each workload id are lost."""
    spof, below_half = [], []
    hurt = ctx.hurt
    for workload_id, count in lost.items():
        known = hurt.get(workload_id)
        if known is None:
            continue
        running, desired, label = known
        left = running - count
        if left == 0:
            spof.append(label)
        elif desired and left < desired / 2:
            below_half.append(label)
    spof.sort()
    below_half.sort()
    return spof, below_half


def node_loss(cluster: Cluster, shared: _Context | None = None,
              nodes_done: Callable[[int], None] | None = None) -> list[LossImpact]:
    """`nodes_done` hears how many nodes are done after each PROGRESS_NODES of them."""
    ctx = shared or context(cluster)
    on_node, names, bins_of, may_hurt = ctx.on_node, ctx.names, ctx.bins_of, ctx.may_hurt
    impacts: list[LossImpact] = []
    for start in range(0, len(cluster.nodes), PROGRESS_NODES):
        impacts += [impact(ctx, node.name, [names.get(node.id, node.id)], on_node.get(node.id, []),
                           bins_of.get(node.id, []), node.id in may_hurt)
                    for node in cluster.nodes[start:start + PROGRESS_NODES]]
        if nodes_done is not None:
            nodes_done(len(impacts))
    return impacts


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
    result = [SpofWorkload(workload=ctx.labels[w], node=ctx.names.get(node_ids[0], node_ids[0]),
                           instances=ctx.running_per_workload[w])
              for w, node_ids in ctx.nodes_of.items() if w in ctx.workloads and node_ids.count(node_ids[0]) == len(node_ids)]
    return sorted(result, key=lambda s: (s.node, s.workload))


# -- balance and headroom ----------------------------------------------------------------------------


def coefficient_of_variation(values: list[float]) -> float:
    mean = statistics.fmean(values) if values else 0.0
    return round(population_stdev(values) / mean, 4) if mean > 0 else 0.0


def population_stdev(values: list[float]) -> float:
    """statistics.pstdev of floats, the same exact sums over each distinct value once (52,000 nodes'
    ratios rounded to 4 digits hold a few thousand distinct values at most)."""
    sqrt_of_fraction = getattr(statistics, "_float_sqrt_of_frac", None)
    counts = Counter(values)
    if sqrt_of_fraction is None or not all(map(math.isfinite, counts)):
        return statistics.pstdev(values)
    sx: dict[int, int] = defaultdict(int)  # per denominator, as statistics._ss keeps its partial sums
    sxx: dict[int, int] = defaultdict(int)
    for value, count in counts.items():
        n, d = float(value).as_integer_ratio()
        sx[d] += count * n
        sxx[d] += count * n * n
    total = len(values)
    sum_x = sum(Fraction(n, d) for d, n in sx.items())
    sum_xx = sum(Fraction(n, d * d) for d, n in sxx.items())
    mean_square = (total * sum_xx - sum_x * sum_x) / total / total
    return sqrt_of_fraction(mean_square.numerator, mean_square.denominator)


def rounded(values: list[float]) -> list[float]:
    """round(value, 4) of each value; each distinct value is rounded once (round() is slow, and
    50,000 nodes' ratios hold a few hundred distinct values)."""
    table = {value: round(value, 4) for value in set(values)}
    return list(map(table.__getitem__, values))


def balance(cluster: Cluster) -> Balance:
    available = [n for n in cluster.nodes if is_available(n)]
    # allocated over allocatable; 0 where nothing is allocatable
    cpu = rounded([n.cpu_allocated_cores / n.cpu_allocatable_cores if n.cpu_allocatable_cores > 0 else 0.0
                   for n in available])
    mem = rounded([n.mem_allocated_bytes / n.mem_allocatable_bytes if n.mem_allocatable_bytes > 0 else 0.0
                   for n in available])
    # nlargest is sorted(..., reverse=True)[:n], ties in node order included
    hottest = heapq.nlargest(HOTTEST_NODES, range(len(available)), key=list(map(max, cpu, mem)).__getitem__)
    return Balance(nodes=len(available), cpu_cv=coefficient_of_variation(cpu), mem_cv=coefficient_of_variation(mem),
                   hottest=[NodeLoad(node=available[k].name, cpu_ratio=cpu[k], mem_ratio=mem[k]) for k in hottest])


def median_of_counts(counts: dict) -> float:
    """statistics.median of a list holding each key `count` times (the keys: plain numbers)."""
    ordered = sorted(counts.items())
    total = sum(counts.values())

    def at(position: int) -> float:  # the value at this position of that list, sorted
        for value, count in ordered:
            if position < count:
                return value
            position -= count
        raise IndexError(position)

    middle = total // 2
    return at(middle) if total % 2 else (at(middle - 1) + at(middle)) / 2


def headroom(cluster: Cluster, shared: _Context | None = None) -> Headroom:
    table = requests_by_workload(cluster)
    # 200,000 running instances in a few request sizes: count them per workload, then per size
    running = Counter(i.workload_id or "" for i in cluster.instances if i.state == "running")
    cpu_counts: dict[float, int] = defaultdict(int)
    mem_counts: dict[int, int] = defaultdict(int)
    for workload_id, count in running.items():
        request_cpu, request_mem = table.get(workload_id, NO_REQUEST)
        cpu_counts[request_cpu] += count
        mem_counts[request_mem] += count
    cpu = median_of_counts(cpu_counts) if running else 0.0
    mem = int(median_of_counts(mem_counts)) if running else 0
    if cpu <= 0 and mem <= 0:
        return Headroom(median_cpu_request_cores=cpu, median_mem_request_bytes=mem, instances=None, limited_by=None)
    free_cpu, free_mem = (shared.free_cpu, shared.free_mem) if shared else \
        free_lists([n for n in cluster.nodes if is_available(n)])
    # how many more of the median request fit on each node (any number when it requests none of it)
    cpu_fits = [(free + EPSILON) // cpu for free in free_cpu] if cpu > 0 else [float("inf")] * len(free_cpu)
    mem_fits = [free // mem for free in free_mem] if mem > 0 else [float("inf")] * len(free_mem)
    by_cpu, by_mem, per_node = sum(cpu_fits), sum(mem_fits), sum(map(min, cpu_fits, mem_fits))
    return Headroom(median_cpu_request_cores=cpu, median_mem_request_bytes=mem, instances=int(per_node),
                    limited_by="cpu" if by_cpu <= by_mem else "memory")


# -- the whole cluster -------------------------------------------------------------------------------


def n_plus_1(cluster: Cluster) -> bool | None:
    """Only the verdict (for an overview card): survives losing any one node; None without nodes."""
    with paused_gc():  # its ~500,000 result objects hold no cycles
        impacts = node_loss(cluster)
    return all(i.absorbable for i in impacts) if impacts else None


def analyze_cluster(cluster: Cluster, nodes_done: Callable[[int], None] | None = None) -> ClusterAnalysis:
    """`nodes_done` hears how many of the cluster's nodes are analyzed, every PROGRESS_NODES of them
    (a 50,000-node cluster takes seconds: a progress bar moves, a caller may pause between chunks)."""
    with paused_gc():  # its ~500,000 result objects hold no cycles
        ctx = context(cluster)
        impacts = node_loss(cluster, ctx, nodes_done)
        return ClusterAnalysis(
            cluster=cluster.name, orchestrator=cluster.orchestrator, status=cluster.status,
            n_plus_1=all(i.absorbable for i in impacts) if impacts else None,
            worst_node=worst(impacts), spof_workloads=spof_workloads(cluster, ctx), node_loss=impacts,
            zone_loss=zone_loss(cluster, ctx), balance=balance(cluster), headroom=headroom(cluster, ctx),
            limit_warnings=limit_warnings(cluster))


def analyze(snapshot: Snapshot, progress: Callable[[float], None] | None = None,
            memo: AnalysisMemo | None = None) -> SnapshotAnalysis:
    """`progress` hears the share of nodes analyzed so far, after each cluster and every PROGRESS_NODES
    nodes within one. With a `memo`, a
    cluster whose analyzed content did not change since the memo last saw it is not analyzed again."""
    total, done, clusters = sum(len(c.nodes) for c in snapshot.clusters) or 1, 0, []
    heard: list[float] = []

    def report(share: float) -> None:
        if progress is not None and (not heard or heard[-1] != share):
            heard.append(share)
            progress(share)

    for cluster in snapshot.clusters:
        nodes_done = None if progress is None else lambda nodes, before=done: report((before + nodes) / total)
        clusters.append(memo.analyze_cluster(cluster, nodes_done) if memo is not None
                        else analyze_cluster(cluster, nodes_done))
        done += len(cluster.nodes)
        report(done / total)
    if memo is not None:
        memo.keep_only({cluster.name for cluster in snapshot.clusters})
    return SnapshotAnalysis(taken_at=snapshot.taken_at.isoformat().replace("+00:00", "Z"), clusters=clusters)


# Node fields the analysis never reads: measured usage changes every round on a quiet cluster
_USAGE_FIELDS = frozenset({"cpu_used_cores", "mem_used_bytes"})
_node_fields_read = itemgetter(*(i for i, name in enumerate(Node.__struct_fields__) if name not in _USAGE_FIELDS))
_fingerprint_encoder = msgspec.msgpack.Encoder()


def fingerprint(cluster: Cluster) -> bytes:
    """A digest of everything analyze_cluster reads of a cluster (all but the nodes' measured usage,
    the cluster's events, services and timestamps): equal digests, equal analyses."""
    nodes = [_node_fields_read(msgspec.structs.astuple(node)) for node in cluster.nodes]
    encoded = _fingerprint_encoder.encode((cluster.name, cluster.orchestrator, cluster.status, nodes,
                                          cluster.workloads, cluster.instances))
    return hashlib.blake2b(encoded, digest_size=20).digest()


def handed_over_again(last: Cluster, cluster: Cluster) -> bool:
    """Whether a cluster's round holds the objects an earlier round held (fleet/sameness.py), or
    nodes that differ only in their measured usage."""
    return (last.name == cluster.name and last.orchestrator == cluster.orchestrator and last.status == cluster.status
            and same_items(last.workloads, cluster.workloads) and same_items(last.instances, cluster.instances)
            and (same_items(last.nodes, cluster.nodes) or
                 [_node_fields_read(msgspec.structs.astuple(n)) for n in last.nodes] ==
                 [_node_fields_read(msgspec.structs.astuple(n)) for n in cluster.nodes]))


class AnalysisMemo:
    """The last analysis of each cluster (by name) with its fingerprint, shared by the threads that
    analyze successive snapshots: a quiet cluster costs a fingerprint per round (~0.2 s at 200,000
    instances), not a whole analysis (seconds).

    One cluster is analyzed by one thread at a time: when a round arrives while the last round's
    analysis of a cluster still runs (a large fleet's first minute), the new round's thread waits
    for it and then, if the cluster did not change, takes its answer instead of working it out again
    beside it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[bytes, ClusterAnalysis, Cluster]] = {}
        self._busy: dict[str, threading.Lock] = {}  # per cluster name
        self.analyzed = 0  # clusters analyzed afresh (tests, benches)

    def analyze_cluster(self, cluster: Cluster, nodes_done: Callable[[int], None] | None = None) -> ClusterAnalysis:
        with self._lock:
            busy = self._busy.setdefault(cluster.name, threading.Lock())
        with busy:
            return self._analyze_cluster(cluster, nodes_done)

    def _analyze_cluster(self, cluster: Cluster, nodes_done: Callable[[int], None] | None) -> ClusterAnalysis:
        with self._lock:
            last = self._last.get(cluster.name)
        if last is not None and handed_over_again(last[2], cluster):
            key = last[0]  # the same objects: the same digest, without encoding them all again
        else:
            key = fingerprint(cluster)
        if last is not None and last[0] == key:
            result = last[1]
        else:
            result = analyze_cluster(cluster, nodes_done)
            with self._lock:
                self.analyzed += 1
        with self._lock:
            self._last[cluster.name] = (key, result, cluster)
        return result

    def keep_only(self, names: set[str]) -> None:
        """Forget clusters no longer in the fleet (removed or renamed): their analyses are large."""
        with self._lock:
            for gone in set(self._last) - names:
                del self._last[gone]
            for gone in set(self._busy) - names:
                del self._busy[gone]


def to_builtins(analysis: SnapshotAnalysis) -> dict:
    return msgspec.to_builtins(analysis)
