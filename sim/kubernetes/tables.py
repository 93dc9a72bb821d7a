"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`; the real server answers
with rows of ready-made cells (the columns kubectl prints) and each row's object metadata. Nodes,
pods, deployments, services, EndpointSlices and HPAs get their familiar columns; every other resource gets NAME and AGE.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from sim.kubernetes.resources import Resource

Obj = dict[str, Any]
Cells = Callable[[Obj], list[Any]]


def wants_table(accept: str | None) -> bool:
    return bool(accept) and "as=Table" in accept  # type: ignore[operator]


def age(obj: Obj, now: datetime | None = None) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = datetime.fromisoformat(created.replace("Z", "+00:00"))
    seconds = int(((now or datetime.now(timezone.utc)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size or (unit == "d" and seconds >= size):
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _node_status(node: Obj) -> str:
    ready = next((c["status"] for c in node.get("status", {}).get("conditions", []) if c.get("type") == "Ready"), None)
    text = {"True": "Ready", "False": "NotReady"}.get(ready or "", "Unknown")
    return text + (",SchedulingDisabled" if node.get("spec", {}).get("unschedulable") else "")


def _node_roles(node: Obj) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in node["metadata"].get("labels", {}) if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _pod_status(pod: Obj) -> str:
    status = pod.get("status", {})
    if status.get("reason"):
        return status["reason"]
    for container in status.get("initContainerStatuses", []):
        waiting = container.get("state", {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "PodInitializing"):
            return f"Init:{waiting['reason']}"
    for container in status.get("containerStatuses", []):
        state = container.get("state", {})
        reason = (state.get("waiting") or state.get("terminated") or {}).get("reason")
        if reason:
            return reason
    return status.get("phase", "Unknown")


def _pod_ready(pod: Obj) -> str:
    statuses = pod.get("status", {}).get("containerStatuses", [])
    return f"{sum(1 for c in statuses if c.get('ready'))}/{len(pod.get('spec', {}).get('containers', []))}"


def _restarts(pod: Obj) -> int:
    return sum(c.get("restartCount", 0) for c in pod.get("status", {}).get("containerStatuses", []))


def _deployment(dep: Obj) -> list[Any]:
    status, wanted = dep.get("status", {}), dep.get("spec", {}).get("replicas", 1)
    return [dep["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{wanted}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), age(dep)]


def _service(svc: Obj) -> list[Any]:
    spec = svc.get("spec", {})
    ingress = (svc.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    external = [i.get("ip") or i.get("hostname") for i in ingress] + spec.get("externalIPs", [])
    if spec.get("type") == "ExternalName":
        external = [spec.get("externalName", "")]
    elif not external:
        external = ["<pending>"] if spec.get("type") == "LoadBalancer" else ["<none>"]
    ports = [f"{p['port']}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
             for p in spec.get("ports", [])]
    return [svc["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"),
            ",".join(external), ",".join(ports) or "<none>", age(svc)]


def _hpa(hpa: Obj) -> list[Any]:
    spec, status = hpa.get("spec", {}), hpa.get("status", {})
    ref = spec.get("scaleTargetRef", {})
    current = {m["resource"]["name"]: m["resource"].get("current", {}) for m in status.get("currentMetrics") or []
               if m.get("type") == "Resource"}
    targets = [f"cpu: {current.get('cpu', {}).get('averageUtilization', '<unknown>')}%/"
               f"{m['resource']['target'].get('averageUtilization')}%"
               for m in spec.get("metrics") or [] if m.get("type") == "Resource" and m["resource"]["name"] == "cpu"]
    return [hpa["metadata"]["name"], f"{ref.get('kind')}/{ref.get('name')}", ",".join(targets) or "<none>",
            spec.get("minReplicas", 1), spec.get("maxReplicas"), status.get("currentReplicas", 0), age(hpa)]


def _slice(slice_: Obj) -> list[Any]:
    addresses = [a for e in slice_.get("endpoints") or [] for a in e.get("addresses", [])]
    ports = ",".join(str(p.get("port")) for p in slice_.get("ports") or []) or "<unset>"
    shown = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [slice_["metadata"]["name"], slice_.get("addressType"), ports, shown or "<unset>", age(slice_)]


def _column(name: str, kind: str = "string", fmt: str = "") -> Obj:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": 0}


COLUMNS: dict[str, tuple[list[Obj], Cells]] = {
    "Node": ([_column("Name", fmt="name"), _column("Status"), _column("Roles"), _column("Age"), _column("Version")],
             lambda n: [n["metadata"]["name"], _node_status(n), _node_roles(n), age(n),
                        n.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "")]),
    "Pod": ([_column("Name", fmt="name"), _column("Ready"), _column("Status"), _column("Restarts", "integer"),
             _column("Age")],
            lambda p: [p["metadata"]["name"], _pod_ready(p), _pod_status(p), _restarts(p), age(p)]),
    "Deployment": ([_column("Name", fmt="name"), _column("Ready"), _column("Up-to-date", "integer"),
                    _column("Available", "integer"), _column("Age")], _deployment),
    "Service": ([_column("Name", fmt="name"), _column("Type"), _column("Cluster-IP"), _column("External-IP"),
                 _column("Port(s)"), _column("Age")], _service),
    "HorizontalPodAutoscaler": ([_column("Name", fmt="name"), _column("Reference"), _column("Targets"),
                                 _column("MinPods", "integer"), _column("MaxPods", "integer"),
                                 _column("Replicas", "integer"), _column("Age")], _hpa),
    "EndpointSlice": ([_column("Name", fmt="name"), _column("AddressType"), _column("Ports"), _column("Endpoints"),
                       _column("Age")], _slice),
}
DEFAULT: tuple[list[Obj], Cells] = ([_column("Name", fmt="name"), _column("Age")],
                                    lambda o: [o["metadata"]["name"], age(o)])


def table(resource: Resource, objects: list[Obj], list_meta: Obj) -> Obj:
    columns, cells = COLUMNS.get(resource.kind, DEFAULT)
    rows = [{"cells": cells(obj), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                             "metadata": obj.get("metadata", {})}} for obj in objects]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": columns,
            "rows": rows}
