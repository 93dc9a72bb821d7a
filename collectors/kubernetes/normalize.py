"""Pure: one round's decoded Kubernetes objects (`KubeState`) to the common model (`normalize_state`).

Nodes and events are read here; pods (and what they reserve) in `pods`, workloads (and which pod
belongs to which) in `workloads`. The rules are written out for users in docs/kubernetes.md; the
emulator's scenarios state the same outcomes independently, and the tests compare the two.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import attrgetter

import msgspec

from collectors.kubernetes import wire as w
from collectors.kubernetes import wire_services as ws
from collectors.kubernetes.autoscalers import autoscalers_by_workload
from collectors.kubernetes.pods import FINISHED, Allocation, PodRow, RequestMemo, normalize_pod
from collectors.kubernetes.services import (TemplateIndex, backends_from_endpoints, backends_from_slices,
                                            normalize_services, pod_templates)
from collectors.kubernetes.workloads import Attribution, Controllers, Tally, normalize_workloads, workload_id
from collectors.toolkit import MAX_EVENTS
from collectors.units import cpu_cores, mem_bytes
from fleet.model import Event, Instance, Node, Service, Workload
from fleet.source import ClusterData

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_STATUS = {"True": "ready", "False": "not_ready", "Unknown": "unknown"}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NOTHING = w.Amounts()


@dataclass
class KubeState(Controllers):
    """One round's decoded objects (the controllers, and the rest): the input of `normalize_state`."""

    version: str | None = None
    nodes: list[w.Node] = field(default_factory=list)
    pods: list[PodRow] = field(default_factory=list)  # digested as they are decoded
    events: list[w.Event] = field(default_factory=list)
    node_metrics: list[w.NodeMetrics] | None = None  # None: metrics.k8s.io is not there
    services: list[ws.Service] = field(default_factory=list)
    endpoint_slices: list[ws.EndpointSlice] | None = None  # None: not read (v1 endpoints instead)
    endpoints: list[ws.Endpoints] | None = None
    autoscalers: list[ws.HorizontalPodAutoscaler] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # optional parts that failed (→ degraded)
    # which state of each watched cache these objects are (collectors/kubernetes/watch.py): equal
    # generations, equal objects; None when they were not read from caches
    generations: tuple[int | None, ...] | None = None


InstanceMemo = dict[str, tuple[PodRow, str, Instance]]
ROLLED_UP = ("ReplicaSet", "Job")  # owners that roll up to a Deployment / CronJob
_instance_id = attrgetter("id")


def normalize_state(raw: KubeState, memo: InstanceMemo | None = None,
                    requests: RequestMemo | None = None) -> ClusterData:
    """Pure: the decoded objects of one round to the common model.

    `memo` (kept by the collector between rounds) lets a pod whose row and workload are the same
    objects as last round reuse its Instance: with watches, most of 150,000 pods are unchanged.
    `requests` does the same for the requests of pod templates."""
    attribution = Attribution(raw)
    instances, allocation, tally, fresh = pass_over_pods(raw.pods, attribution, memo or {})
    if memo is not None:
        memo.clear()
        memo.update(fresh)
    instances.sort(key=_instance_id)  # pods are listed in key order: nearly a no-op
    usage = {m.metadata.name: m.usage for m in raw.node_metrics or []}
    nodes = sorted((normalize_node(node, allocation.of(node.metadata.name), usage.get(node.metadata.name))
                    for node in raw.nodes), key=lambda n: n.name)
    workloads = sorted(normalize_workloads(raw, tally, attribution, requests), key=lambda wl: wl.id)
    attach_autoscalers(workloads, raw.autoscalers)
    return ClusterData(version=raw.version, nodes=nodes, workloads=workloads, instances=instances,
                       events=normalize_events(raw.events), services=services_of(raw, attribution, instances),
                       degraded_reason="; ".join(raw.problems) or None)


def services_of(raw: KubeState, attribution: Attribution, instances: list[Instance]) -> list[Service]:
    if not raw.services:
        return []
    backends = backends_from_slices(raw.endpoint_slices) if raw.endpoint_slices is not None \
        else backends_from_endpoints(raw.endpoints or [])
    owner_of = {instance.id: instance.workload_id for instance in instances}
    return normalize_services(raw.services, backends, TemplateIndex(pod_templates(raw, attribution)), owner_of)


def attach_autoscalers(workloads: list[Workload], hpas: list[ws.HorizontalPodAutoscaler]) -> None:
    """Each HPA on the workload it scales (a Deployment, StatefulSet or standalone ReplicaSet)."""
    if not hpas:
        return
    by_target = autoscalers_by_workload(hpas)
    for workload in workloads:
        found = by_target.get(workload.id)
        if found is not None:
            workload.autoscaler = found


def pass_over_pods(rows: list[PodRow], attribution: Attribution,
                   last: InstanceMemo) -> tuple[list[Instance], Allocation, Tally, InstanceMemo]:
    """One pass over every pod: its workload (through its owner), the requests it holds on its
    node, the running/healthy counts of its workload, its Instance. The hottest loop of a big
    cluster, so written out flat rather than as one small call per concern."""
    parent, known = attribution.parent, attribution.known
    allocation, tally = Allocation(), Tally()
    totals, counts, bare = allocation.totals, tally.counts, tally.bare
    instances: list[Instance] = []
    fresh: InstanceMemo = {}
    for row in rows:
        owned = row.owner_id
        if owned is None:
            owner = None
        elif row.owner_kind in ROLLED_UP:
            owner = parent.get(owned)
        else:
            owner = owned if owned in known else None
        node, phase = row.node, row.phase
        if node and phase not in FINISHED:  # placed and not finished: its requests stay reserved
            total = totals.get(node)
            if total is None:
                totals[node] = [row.cpu_cores, row.mem_bytes]
            else:
                total[0] += row.cpu_cores
                total[1] += row.mem_bytes
        if owner is None:
            bare.append(row)
            owner = workload_id("Pod", row.namespace, row.name)
        elif phase == "Running":
            entry = counts[owner]
            entry.running += 1
            entry.healthy += row.ready
        hit = last.get(row.key)
        instance = hit[2] if hit is not None and hit[0] is row and hit[1] == owner else normalize_pod(row, owner)
        fresh[row.key] = (row, owner, instance)
        instances.append(instance)
    return instances, allocation, tally, fresh


# -- nodes ------------------------------------------------------------------------------------------
def node_status(node: w.Node) -> str:
    for condition in node.status.conditions or ():
        if condition.type == "Ready":
            return NODE_STATUS.get(condition.status, "unknown")
    return "unknown"


def node_roles(labels: dict[str, str]) -> list[str]:
    roles = {key[len(ROLE_PREFIX):] for key in labels if key.startswith(ROLE_PREFIX) and len(key) > len(ROLE_PREFIX)}
    if labels.get("kubernetes.io/role"):
        roles.add(labels["kubernetes.io/role"])
    return sorted(roles)


def node_address(node: w.Node) -> str | None:
    by_type = {a.type: a.address for a in node.status.addresses or () if a.address}
    for kind in ("InternalIP", "ExternalIP", "Hostname"):
        if kind in by_type:
            return by_type[kind]
    return None


def _first_label(labels: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((labels[k] for k in keys if labels.get(k)), None)


def normalize_node(node: w.Node, allocated: tuple[float, int] | None, usage: w.Amounts | None) -> Node:
    labels, status = node.metadata.labels or {}, node.status
    capacity = status.capacity or NOTHING
    allocatable = status.allocatable or capacity
    info = status.node_info
    cpu_used, mem_used = measured_usage(usage)
    return Node(
        id=node.metadata.name, name=node.metadata.name, status=node_status(node),  # type: ignore[arg-type]
        schedulable=not (node.spec and node.spec.unschedulable), roles=node_roles(labels), address=node_address(node),
        zone=_first_label(labels, ZONE_LABELS), region=_first_label(labels, REGION_LABELS),
        cpu_capacity_cores=cpu_cores(capacity.cpu), mem_capacity_bytes=mem_bytes(capacity.memory),
        cpu_allocatable_cores=cpu_cores(allocatable.cpu), mem_allocatable_bytes=mem_bytes(allocatable.memory),
        cpu_allocated_cores=round(allocated[0], 6) if allocated else 0.0,
        mem_allocated_bytes=allocated[1] if allocated else 0,
        cpu_used_cores=cpu_used, mem_used_bytes=mem_used,
        labels=dict(labels),
        version=info.kubelet_version if info else None,
        os=(info.operating_system if info else None) or labels.get("kubernetes.io/os"),
        arch=(info.architecture if info else None) or labels.get("kubernetes.io/arch"),
    )


def measured_usage(usage: w.Amounts | None) -> tuple[float | None, int | None]:
    """(CPU cores, memory bytes) a node's metrics measured; None for what they do not say."""
    cpu = round(cpu_cores(usage.cpu), 6) if usage and usage.cpu is not None else None
    return cpu, mem_bytes(usage.memory) if usage and usage.memory is not None else None


def with_usage(nodes: list[Node], metrics: list[w.NodeMetrics] | None) -> list[Node]:
    """Nodes already normalized, with their measured usage as these metrics say (what
    `normalize_node` makes of them); a node whose usage is unchanged is the same object."""
    usage = {m.metadata.name: m.usage for m in metrics or []}
    result = []
    for node in nodes:
        cpu, mem = measured_usage(usage.get(node.name))
        if cpu != node.cpu_used_cores or mem != node.mem_used_bytes:
            node = msgspec.structs.replace(node, cpu_used_cores=cpu, mem_used_bytes=mem)
        result.append(node)
    return result


# -- events ----------------------------------------------------------------------------------------
def event_time(event: w.Event) -> datetime:
    return event.last_timestamp or event.event_time or event.first_timestamp or \
        event.metadata.creation_timestamp or _EPOCH


def normalize_events(events: list[w.Event], limit: int = MAX_EVENTS) -> list[Event]:
    """The most recent Warning events, newest first, at most `limit`."""
    warnings = [e for e in events if e.type == "Warning"]
    warnings.sort(key=event_time, reverse=True)
    result = []
    for event in warnings[:limit]:
        ref = event.involved_object
        where = f"{ref.kind}/{ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind}/{ref.name}"
        result.append(Event(time=event_time(event), severity="warning", object=where,
                            reason=event.reason or "", message=(event.message or "").strip()))
    return result
