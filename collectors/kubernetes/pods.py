"""Pods, digested: each decoded pod is reduced at once to the few facts Podium reports.

A cluster at the documented limit has 150,000 pods. Keeping each one as decoded objects (a dozen
nested structs and their strings) costs several KB a pod; a `PodRow` costs a fraction of that. The
rows are what the watch caches hold and what `normalize` reads, so a round only builds Instances.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from collectors.kubernetes import wire as w
from collectors.units import cpu_cores, mem_bytes
from fleet.model import Instance

POD_STATE = {"Running": "running", "Pending": "pending", "Succeeded": "succeeded", "Failed": "failed"}
FINISHED = ("Succeeded", "Failed")
# waiting reasons that say a container is on its way, not that something is wrong
ROUTINE_WAITING = frozenset({"ContainerCreating", "PodInitializing"})


class PodRow(msgspec.Struct, frozen=True, gc=False, array_like=True):  # array_like: compact from the worker
    key: str  # namespace/name
    namespace: str
    name: str
    owner_kind: str | None  # the controller ownerReference's kind
    owner_id: str | None  # and its workload-style id, Kind/namespace/name
    node: str | None
    phase: str | None
    ready: bool
    reason: str | None
    restarts: int
    cpu_cores: float  # effective request
    mem_bytes: int
    started_at: datetime | None
    images: tuple[str, ...]
    state: str = "unknown"  # the Instance's, worked out with the row (in the worker, for a big list)
    health: str = "unknown"


def controller_of(owners: list[w.OwnerRef] | None) -> w.OwnerRef | None:
    """The ownerReference marked controller (else the first)."""
    if not owners:
        return None
    for owner in owners:
        if owner.controller:
            return owner
    return owners[0]


def keyed_digest(pod: w.Pod) -> tuple[str, "PodRow"]:
    row = digest(pod)
    return row.key, row


def digest(pod: w.Pod) -> PodRow:
    """The row for one pod. Runs 150,000 times on a big cluster's first list: kept flat on purpose."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    owners = meta.owner_references
    owner = controller_of(owners) if owners else None
    cpu, mem = _running_requests(spec) if not spec.init_containers and not spec.overhead else _full_request(spec)
    ready = False
    for condition in status.conditions or ():
        if condition.type == "Ready":
            ready = condition.status == "True"
    restarts = 0
    for container in status.container_statuses or ():
        restarts += container.restart_count
    for container in status.init_container_statuses or ():
        restarts += container.restart_count
    node, phase = spec.node_name, status.phase
    reason = pod_reason(pod)
    state = POD_STATE.get(phase or "", "unknown")
    return PodRow(
        key=f"{meta.namespace}/{meta.name}", namespace=meta.namespace, name=meta.name,
        owner_kind=owner.kind if owner else None,
        owner_id=f"{owner.kind}/{meta.namespace}/{owner.name}" if owner else None,
        node=node or None, phase=phase, ready=ready,
        reason=reason, restarts=restarts, cpu_cores=cpu, mem_bytes=mem, started_at=status.start_time,
        images=tuple(c.image for c in spec.containers or () if c.image),
        state=state, health=pod_health(state, ready, reason),
    )


def _running_requests(spec: w.PodSpec) -> tuple[float, int]:
    """The common case: no init containers, no overhead: the sum of the containers' requests."""
    cpu, mem = 0.0, 0
    for container in spec.containers or ():
        resources = container.resources
        requests = resources.requests if resources else None
        if requests:
            cpu += cpu_cores(requests.cpu)
            mem += mem_bytes(requests.memory)
    return cpu, mem


def _full_request(spec: w.PodSpec) -> tuple[float, int]:
    request = effective_request(spec)
    return request.cpu_cores, request.mem_bytes


# -- requests ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    cpu_cores: float
    mem_bytes: int


def effective_request(spec: w.PodSpec) -> Request:
    """What the scheduler reserves for a pod, per resource: the larger of the init phase and the
    running phase, plus the runtime class overhead. Running phase: every container plus every
    native sidecar (an init container with restartPolicy Always). Init phase: each ordinary init
    container plus the sidecars started before it."""
    cpu, mem = _running_requests(spec)
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


def pod_reason(pod: w.Pod) -> str | None:
    """Why a pod is not fine, in Kubernetes' words, most telling first."""
    status = pod.status
    if status.reason:
        return status.reason  # Evicted, NodeLost, Shutdown, UnexpectedAdmissionError
    for init in status.init_container_statuses or ():
        state = init.state
        if state and state.waiting and state.waiting.reason and state.waiting.reason not in ROUTINE_WAITING:
            return state.waiting.reason
        if state and state.terminated and state.terminated.exit_code != 0:
            return state.terminated.reason or "Error"
    for container in status.container_statuses or ():
        state = container.state
        if state and state.waiting and state.waiting.reason and state.waiting.reason != "PodInitializing":
            return state.waiting.reason
        if state and state.terminated and state.terminated.reason not in (None, "Completed"):
            return state.terminated.reason
    for container in status.container_statuses or ():
        last = container.last_state
        if last and last.terminated and last.terminated.reason == "OOMKilled":
            return "OOMKilled"
    for condition in status.conditions or () if status.phase == "Pending" else ():
        if condition.type == "PodScheduled" and condition.status == "False":
            return condition.reason or "Unschedulable"
    return None


def pod_health(state: str, ready: bool, reason: str | None) -> str:
    if state == "running":
        return "healthy" if ready else "unhealthy"
    if state == "failed" or (state == "pending" and reason and reason not in ROUTINE_WAITING):
        return "unhealthy"
    return "unknown"


def pod_state(row: PodRow) -> str:
    return POD_STATE.get(row.phase or "", "unknown")


def normalize_pod(row: PodRow, workload_id: str | None) -> Instance:
    return Instance(id=row.key, name=row.name, workload_id=workload_id, node_id=row.node,
                    state=row.state, health=row.health, restarts=row.restarts,  # type: ignore[arg-type]
                    reason=row.reason, started_at=row.started_at)


class Allocation:
    """Requests of the pods that hold resources, summed per node (filled by the pass over pods)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}

    def of(self, node: str) -> tuple[float, int] | None:
        total = self.totals.get(node)
        return (total[0], int(total[1])) if total else None
