"""Pods in the states ops people meet, each with what a correct collector must say about it.

A *variant* names one state (crash loop, image pull back-off, OOM-killed, unschedulable, ...).
`build_pod` writes the wire object the kubelet and scheduler would have produced for it, and
`VARIANTS` states, independently of that JSON, the instance state, health, reason and whether
the pod counts as ready for its controller.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.kubernetes import objects as o

Obj = dict[str, Any]


@dataclass(frozen=True)
class Variant:
    state: str
    health: str
    reason: str | None
    ready: bool
    restarts: tuple[int, int] = (0, 0)  # inclusive range of restart counts


VARIANTS: dict[str, Variant] = {
    "ok": Variant("running", "healthy", None, True),
    "notready": Variant("running", "unhealthy", None, False),  # on a node that stopped reporting
    "crashloop": Variant("running", "unhealthy", "CrashLoopBackOff", False, (5, 60)),
    "oom": Variant("running", "healthy", "OOMKilled", True, (1, 6)),
    "imagepull": Variant("pending", "unhealthy", "ImagePullBackOff", False),
    "creating": Variant("pending", "unknown", "ContainerCreating", False),
    "unschedulable": Variant("pending", "unhealthy", "Unschedulable", False),
    "init_crash": Variant("pending", "unhealthy", "CrashLoopBackOff", False, (3, 20)),
    "succeeded": Variant("succeeded", "unknown", None, False),
    "failed": Variant("failed", "unhealthy", "Error", False),
    "evicted": Variant("failed", "unhealthy", "Evicted", False),
}

PHASES = {"running": "Running", "pending": "Pending", "succeeded": "Succeeded", "failed": "Failed"}


def _main_states(template: Obj, variant: str, restarts: int) -> list[Obj]:
    containers = template["spec"]["containers"]
    statuses = []
    for index, spec in enumerate(containers):
        first = index == 0
        if variant in ("ok", "notready") or (not first and variant in ("crashloop", "oom")):
            statuses.append(o.container_status(spec, o.running(), ready=variant != "notready"))
        elif variant == "crashloop":
            statuses.append(o.container_status(
                spec, o.waiting("CrashLoopBackOff", f"back-off 5m0s restarting failed container={spec['name']}"),
                ready=False, restarts=restarts, last=o.terminated("Error", 1)))
        elif variant == "oom":
            statuses.append(o.container_status(spec, o.running(), ready=True, restarts=restarts,
                                               last=o.terminated("OOMKilled", 137)))
        elif variant == "imagepull":
            statuses.append(o.container_status(
                spec, o.waiting("ImagePullBackOff", f'Back-off pulling image "{spec["image"]}"'), ready=False))
        elif variant == "creating":
            statuses.append(o.container_status(spec, o.waiting("ContainerCreating"), ready=False))
        elif variant == "init_crash":
            statuses.append(o.container_status(spec, o.waiting("PodInitializing"), ready=False))
        elif variant == "succeeded":
            statuses.append(o.container_status(spec, o.terminated("Completed", 0), ready=False))
        elif variant in ("failed", "evicted"):
            reason = "Error" if variant == "failed" else "ContainerStatusUnknown"
            statuses.append(o.container_status(spec, o.terminated(reason, 1 if variant == "failed" else 137),
                                               ready=False))
    return statuses


def _init_states(template: Obj, variant: str, restarts: int) -> list[Obj] | None:
    init = template["spec"].get("initContainers")
    if not init:
        return None
    if variant == "init_crash":
        return [o.container_status(init[0], o.waiting("CrashLoopBackOff", "back-off 2m40s restarting failed "
                                                      f"container={init[0]['name']}"),
                                   ready=False, restarts=restarts, last=o.terminated("Error", 1))]
    if variant in ("unschedulable", "imagepull", "creating"):
        return [o.container_status(spec, o.waiting("PodInitializing"), ready=False) for spec in init]
    return [o.container_status(spec, o.terminated("Completed", 0), ready=False) for spec in init]


def build_pod(name: str, ns: str, template: Obj, *, variant: str, node: str | None, owner: Obj | None,
              ip: str | None, restarts: int) -> Obj:
    truth = VARIANTS[variant]
    scheduled = ("False", "Unschedulable") if variant == "unschedulable" else ("True", "")
    reason = "Evicted" if variant == "evicted" else None
    pod = o.pod(name, ns, template, node=node, owner=owner, phase=PHASES[truth.state],
                statuses=_main_states(template, variant, restarts),
                init_statuses=_init_states(template, variant, restarts), ready=truth.ready,
                ip=ip if truth.state == "running" else None, scheduled=scheduled, reason=reason)
    if variant == "evicted":
        pod["status"]["message"] = "The node was low on resource: memory. Threshold quantity: 100Mi."
    return pod


def effective_request(requests: list[tuple[int, int]], init: list[tuple[int, int]],
                      overhead: tuple[int, int]) -> tuple[int, int]:
    """(millicores, MiB) the scheduler reserves: max(init, sum of containers) + overhead, per resource."""
    cpu = max(sum(c for c, _ in requests), max((c for c, _ in init), default=0)) + overhead[0]
    mem = max(sum(m for _, m in requests), max((m for _, m in init), default=0)) + overhead[1]
    return cpu, mem
