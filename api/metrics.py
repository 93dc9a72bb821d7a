"""/metrics: Prometheus metrics over the latest snapshot, with the official prometheus_client.

A custom collector (the client_python way: anything with `collect()`) turns the latest snapshot into
gauge families at scrape time, so every value equals the snapshot's; the one histogram, collection
time per cluster, is fed by the poller. Names and labels are a contract (http-api.md).
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Iterator, Mapping, get_args

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fleet.analysis import SnapshotAnalysis
from fleet.model import (INSTANCE_STATES, SERVICE_STATUSES, WORKLOAD_STATUSES, Cluster, ClusterStatus, NodeStatus,
                         Snapshot)

CLUSTER_STATUSES: tuple[str, ...] = get_args(ClusterStatus)
NODE_STATUSES: tuple[str, ...] = get_args(NodeStatus)
UP_STATUSES = ("ok", "degraded")
KINDS = ("capacity", "allocatable", "allocated", "used")
DURATION_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _by(counted: Mapping[str, int], every: tuple[str, ...]) -> dict[str, int]:
    """Counts for every known value (zeros included), plus any value a newer snapshot brings."""
    return {value: counted.get(value, 0) for value in (*every, *sorted(set(counted) - set(every)))}


def _count(values: Iterable[str]) -> Counter[str]:
    return Counter(values)


class SnapshotCollector(Collector):
    """Gauge families for each cluster of the latest snapshot."""

    def __init__(self, latest: Callable[[], Snapshot | None],
                 analysis: Callable[[Snapshot], SnapshotAnalysis | None] = lambda snapshot: None):
        self._latest = latest
        self._analysis = analysis

    def collect(self) -> Iterator[Metric]:
        snapshot = self._latest()
        clusters = snapshot.clusters if snapshot is not None else []
        analysis = self._analysis(snapshot) if snapshot is not None else None
        families = _families()
        for cluster in clusters:
            _add_cluster(families, cluster)
        n_plus_1 = families["n_plus_1"]
        for result in analysis.clusters if analysis else []:
            if result.n_plus_1 is not None:  # no nodes: nothing to say, rather than a false "not N+1"
                n_plus_1.add_metric([result.cluster], 1.0 if result.n_plus_1 else 0.0)
        yield from families.values()


def _families() -> dict[str, GaugeMetricFamily]:
    def gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"podium_{name}", documentation, labels=labels)

    return {
        "up": gauge("cluster_up", "1 when the cluster's status is ok or degraded, else 0", ["cluster", "orchestrator"]),
        "status": gauge("cluster_status", "1 for the cluster's current status, 0 for the others",
                        ["cluster", "orchestrator", "status"]),
        "stale": gauge("cluster_stale", "1 when the cluster shows data of an earlier collection", ["cluster"]),
        "last_success": gauge("last_success_timestamp_seconds", "unix time of the last good collection", ["cluster"]),
        "nodes": gauge("nodes", "nodes by status", ["cluster", "status"]),
        "unschedulable": gauge("nodes_unschedulable", "nodes that take no new instances", ["cluster"]),
        "workloads": gauge("workloads", "workloads by status", ["cluster", "status"]),
        "instances": gauge("instances", "instances by state", ["cluster", "state"]),
        "services": gauge("services", "services by status", ["cluster", "status"]),
        "cpu": gauge("cpu_cores", "CPU cores by kind; used only where every ready node reports it", ["cluster", "kind"]),
        "memory": gauge("memory_bytes", "memory bytes by kind; used only where every ready node reports it",
                        ["cluster", "kind"]),
        "n_plus_1": gauge("n_plus_1", "1 when losing any one node leaves nothing pending, else 0", ["cluster"]),
    }


def _add_cluster(families: dict[str, GaugeMetricFamily], cluster: Cluster) -> None:
    name, summary = cluster.name, cluster.summary
    families["up"].add_metric([name, cluster.orchestrator], 1.0 if cluster.status in UP_STATUSES else 0.0)
    for status in CLUSTER_STATUSES:
        families["status"].add_metric([name, cluster.orchestrator, status], 1.0 if cluster.status == status else 0.0)
    families["stale"].add_metric([name], 1.0 if cluster.stale else 0.0)
    if cluster.collected_at is not None:
        families["last_success"].add_metric([name], cluster.collected_at.timestamp())
    for status, count in _by(_count(n.status for n in cluster.nodes), NODE_STATUSES).items():
        families["nodes"].add_metric([name, status], count)
    families["unschedulable"].add_metric([name], sum(1 for n in cluster.nodes if not n.schedulable))
    for status, count in _by(summary.workloads_by_status, WORKLOAD_STATUSES).items():
        families["workloads"].add_metric([name, status], count)
    for state, count in _by(summary.instances_by_state, INSTANCE_STATES).items():
        families["instances"].add_metric([name, state], count)
    for status, count in _by(_count(s.status for s in cluster.services), SERVICE_STATUSES).items():
        families["services"].add_metric([name, status], count)
    cpu = {"capacity": summary.cpu_capacity_cores, "allocatable": summary.cpu_allocatable_cores,
           "allocated": summary.cpu_allocated_cores, "used": summary.cpu_used_cores}
    memory = {"capacity": summary.mem_capacity_bytes, "allocatable": summary.mem_allocatable_bytes,
              "allocated": summary.mem_allocated_bytes, "used": summary.mem_used_bytes}
    for kind in KINDS:
        if cpu[kind] is not None:
            families["cpu"].add_metric([name, kind], float(cpu[kind]))  # type: ignore[arg-type]
        if memory[kind] is not None:
            families["memory"].add_metric([name, kind], float(memory[kind]))  # type: ignore[arg-type]


class FleetMetrics:
    """One registry per dashboard process: the snapshot collector and the collection-time histogram."""

    def __init__(self, latest: Callable[[], Snapshot | None],
                 analysis: Callable[[Snapshot], SnapshotAnalysis | None] = lambda snapshot: None):
        self.registry = CollectorRegistry(auto_describe=False)
        self.duration = Histogram("podium_collection_duration_seconds", "time of each collection of a cluster",
                                  ["cluster"], buckets=DURATION_BUCKETS_S, registry=self.registry)
        self.registry.register(SnapshotCollector(latest, analysis))

    def observe(self, cluster: Cluster, seconds: float) -> None:
        """The poller's per-cluster hook."""
        self.duration.labels(cluster.name).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
