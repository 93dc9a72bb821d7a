"""Pure functions from decoded Kubernetes objects to the common model: nodes, requests, events.

Pods are in `kubernetes_pods`, workloads (and which pod belongs to which) in `kubernetes_workloads`. The rules are
written out for users in docs/kubernetes.md; the emulator's scenarios state the same outcomes
independently, and the tests compare the two.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from collectors.kubernetes import wire as w
from collectors.units import cpu_cores, mem_bytes
from fleet.model import Event, Node

MAX_EVENTS = 200
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_STATUS = {"True": "ready", "False": "not_ready", "Unknown": "unknown"}
# waiting reasons that say a container is on its way, not that something is wrong
ROUTINE_WAITING = frozenset({"ContainerCreating", "PodInitializing"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NOTHING = w.Amounts()


@dataclass(frozen=True)
class Request:
    cpu_cores: float
    mem_bytes: int


def effective_request(spec: w.PodSpec) -> Request:
    """What the scheduler reserves for a pod, per resource: the larger of the init phase and the
    running phase, plus the runtime class overhead. Running phase: every container plus every
    native sidecar (an init container with restartPolicy Always). Init phase: each ordinary init
    container plus the sidecars started before it."""
    cpu, mem = _sum_requests(spec.containers or ())
    init_cpu = init_mem = sidecar_cpu = sidecar_mem = 0.0
    for init in spec.init_containers or ():
        c, m = _requests(init)
        if init.restart_policy == "Always":
            sidecar_cpu, sidecar_mem = sidecar_cpu + c, sidecar_mem + m
            c, m = sidecar_cpu, sidecar_mem
        else:
            c, m = c + sidecar_cpu, m + sidecar_mem
        init_cpu, init_mem = max(init_cpu, c), max(init_mem, m)
    cpu, mem = max(cpu + sidecar_cpu, init_cpu), max(mem + sidecar_mem, init_mem)
    if spec.overhead:
        cpu += cpu_cores(spec.overhead.cpu)
        mem += mem_bytes(spec.overhead.memory)
    return Request(round(cpu, 9), int(mem))


class RequestMemo:
    """Effective requests of pod templates, reused across rounds while the template object is the
    same one (a watch cache hands back the same decoded object until the controller changes)."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[w.PodSpec, Request]] = {}
        self._now: dict[int, tuple[w.PodSpec, Request]] = {}

    def of(self, spec: w.PodSpec) -> Request:
        hit = self._last.get(id(spec))
        if hit is None or hit[0] is not spec:
            hit = (spec, effective_request(spec))
        self._now[id(spec)] = hit
        return hit[1]

    def next_round(self) -> None:
        self._last, self._now = self._now, {}


def _requests(container: w.Container) -> tuple[float, int]:
    requests = container.resources.requests if container.resources else None
    if not requests:
        return 0.0, 0
    return cpu_cores(requests.cpu), mem_bytes(requests.memory)


def _sum_requests(containers: Iterable[w.Container]) -> tuple[float, int]:
    cpu, mem = 0.0, 0
    for container in containers:
        c, m = _requests(container)
        cpu, mem = cpu + c, mem + m
    return cpu, mem


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
    return Node(
        id=node.metadata.name, name=node.metadata.name, status=node_status(node),  # type: ignore[arg-type]
        schedulable=not (node.spec and node.spec.unschedulable), roles=node_roles(labels), address=node_address(node),
        zone=_first_label(labels, ZONE_LABELS), region=_first_label(labels, REGION_LABELS),
        cpu_capacity_cores=cpu_cores(capacity.cpu), mem_capacity_bytes=mem_bytes(capacity.memory),
        cpu_allocatable_cores=cpu_cores(allocatable.cpu), mem_allocatable_bytes=mem_bytes(allocatable.memory),
        cpu_allocated_cores=round(allocated[0], 6) if allocated else 0.0,
        mem_allocated_bytes=allocated[1] if allocated else 0,
        cpu_used_cores=round(cpu_cores(usage.cpu), 6) if usage and usage.cpu is not None else None,
        mem_used_bytes=mem_bytes(usage.memory) if usage and usage.memory is not None else None,
        labels=dict(labels),
        version=info.kubelet_version if info else None,
        os=(info.operating_system if info else None) or labels.get("kubernetes.io/os"),
        arch=(info.architecture if info else None) or labels.get("kubernetes.io/arch"),
    )


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
