"""The built-in conditions over one Snapshot (pure): what holds now, and what cannot be judged now.

A cluster that cannot be read this round (not ok/degraded, or showing stale data) is *frozen*: its
nodes, workloads and services are not judged from the old data, so their alerts neither fire nor
resolve until the cluster answers again. Only the cluster-wide conditions (PodiumClusterDown,
PodiumClusterStale) are judged for every cluster.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from fleet.alerts.catalog import ANALYSIS_CONDITIONS, CLUSTER_CONDITIONS
from fleet.analysis import ClusterAnalysis, LossImpact
from fleet.model import Cluster, Node, Service, Snapshot, Workload
from fleet.orchestrators import facts_of, label_of
from fleet.problems import running_words

READABLE = ("ok", "degraded")
NOT_READY = {"not_ready": "not ready", "down": "down", "unknown": "in an unknown state"}

AlertKey = tuple[str, str, tuple[tuple[str, str], ...]]  # alertname, cluster, the object's labels


@dataclass(frozen=True)
class Finding:
    """One condition holding for one object this round, with its words for a person."""

    name: str
    cluster: str
    orchestrator: str
    object_labels: tuple[tuple[str, str], ...]
    summary: str
    description: str

    @property
    def key(self) -> AlertKey:
        return self.name, self.cluster, self.object_labels


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    clusters: set[str] = field(default_factory=set)  # every cluster in the snapshot
    frozen: set[str] = field(default_factory=set)  # clusters whose objects cannot be judged this round


AnalysisOf = Callable[[Cluster], ClusterAnalysis | None]


def node_word(cluster: Cluster) -> str:
    facts = facts_of(cluster.orchestrator)
    return facts.node_word if facts is not None else "node"


def workload_words(workload: Workload) -> str:
    name = f"{workload.namespace}/{workload.name}" if workload.namespace else workload.name
    return f"{workload.kind} {name}"


def namespaced(kind: str, name: str, namespace: str) -> tuple[tuple[str, str], ...]:
    return ((kind, name), ("namespace", namespace)) if namespace else ((kind, name),)


def readable(cluster: Cluster) -> bool:
    return cluster.status in READABLE and not cluster.stale


def evaluate(snapshot: Snapshot, enabled: set[str], analysis_of: AnalysisOf) -> Evaluation:
    result = Evaluation()
    for cluster in snapshot.clusters:
        result.clusters.add(cluster.name)
        if not readable(cluster):
            result.frozen.add(cluster.name)
        result.findings.extend(f for f in cluster_findings(cluster, enabled, analysis_of) if f.name in enabled)
    return result


def cluster_findings(cluster: Cluster, enabled: set[str], analysis_of: AnalysisOf) -> Iterator[Finding]:
    where = f"{label_of(cluster.orchestrator)} cluster {cluster.name}"

    def found(name: str, labels: tuple[tuple[str, str], ...], summary: str, description: str) -> Finding:
        return Finding(name, cluster.name, cluster.orchestrator, labels, summary, description)

    if cluster.status not in READABLE:
        yield found("PodiumClusterDown", (), f"{where} is {cluster.status}",
                    cluster.error or f"the cluster answered {cluster.status}")
    if cluster.stale:
        when = f"{cluster.collected_at:%Y-%m-%d %H:%M:%S} UTC" if cluster.collected_at else "an earlier round"
        yield found("PodiumClusterStale", (), f"{where} shows data from {when}",
                    f"the latest collection failed ({cluster.error or cluster.status}); pages show what was "
                    f"collected at {when}")
    if not readable(cluster) or not (enabled - CLUSTER_CONDITIONS):
        return
    word = node_word(cluster)
    for node in cluster.nodes:
        if node.status in NOT_READY:
            yield found("PodiumNodeNotReady", (("node", node.name),),
                        f"{word} {node.name} of {where} is {NOT_READY[node.status]}", node_description(node, word))
    for workload in cluster.workloads:
        if workload.status in ("failed", "degraded"):
            yield found(f"PodiumWorkload{workload.status.capitalize()}",
                        namespaced("workload", workload.name, workload.namespace),
                        f"{workload_words(workload)} in {where} is {workload.status}", running_words(workload))
        scaler = workload.autoscaler
        if scaler is not None and scaler.limited:
            yield found("PodiumAutoscalerLimited", namespaced("workload", workload.name, workload.namespace),
                        f"{scaler.kind} of {workload_words(workload)} in {where} is held at its limit",
                        scaler.message or f"{scaler.current if scaler.current is not None else '?'} of at most "
                                          f"{scaler.max} replicas; " + (", ".join(scaler.metrics) or "no metrics"))
    for service in cluster.services:
        if service.status == "down":
            yield found("PodiumServiceDown", namespaced("service", service.name, service.namespace),
                        f"{service.kind} {service.name} in {where} has no ready backend", service_description(service))
    if enabled & ANALYSIS_CONDITIONS and cluster.nodes:
        analysis = analysis_of(cluster)
        if analysis is not None:
            yield from analysis_findings(analysis, where, word, found)


def node_description(node: Node, word: str) -> str:
    parts = [f"{word} status {node.status}", "accepting new work" if node.schedulable else "not accepting new work"]
    if node.address:
        parts.append(f"address {node.address}")
    if node.zone:
        parts.append(f"zone {node.zone}")
    return "; ".join(parts)


def service_description(service: Service) -> str:
    return f"0 of {service.backends_total} backend(s) ready" if service.backends_total else "no backends at all"


def impact_words(impact: LossImpact) -> str:
    text = f"losing {impact.lost} strands {len(impact.stranded)} instance(s); {impact.unplaced} fit nowhere"
    if impact.spof_workloads:
        text += f"; goes dark: {', '.join(impact.spof_workloads[:5])}" + (" …" if len(impact.spof_workloads) > 5 else "")
    return text


def analysis_findings(analysis: ClusterAnalysis, where: str, word: str,
                      found: Callable[..., Finding]) -> Iterator[Finding]:
    if analysis.n_plus_1 is False and analysis.worst_node is not None:
        yield found("PodiumNotNPlus1", (), f"{where} cannot lose any one {word} without leaving work pending",
                    "worst case: " + impact_words(analysis.worst_node))
    for impact in analysis.zone_loss.impacts:
        if not impact.absorbable:
            yield found("PodiumZoneLossUnsafe", (("zone", impact.lost),),
                        f"{where} cannot absorb the loss of zone {impact.lost}", impact_words(impact))
