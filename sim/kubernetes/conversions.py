"""Serving a stored object at an older API version, as kube-apiserver converts it.

An autoscaling/v2 HorizontalPodAutoscaler read through autoscaling/v1 keeps only the CPU
utilization target and current value as fields; the v2 conditions and current metrics travel
as JSON text in the `autoscaling.alpha.kubernetes.io/conditions` and `.../current-metrics`
annotations (what the real server writes; see the recorded v1 payload in the shared fixtures).
"""
from __future__ import annotations

import copy
import json
from typing import Any

Obj = dict[str, Any]


def _cpu_utilization(metrics: list[Obj], part: str) -> int | None:
    for metric in metrics:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            return (resource.get(part) or {}).get("averageUtilization")
    return None


def _v1_metric(metric: Obj) -> Obj:
    """A v2 current metric in the v2beta1 shape that the v1 annotation carries."""
    if metric.get("type") != "Resource":
        return metric
    resource, current = metric["resource"], metric["resource"].get("current", {})
    old: Obj = {"name": resource["name"]}
    if "averageUtilization" in current:
        old["currentAverageUtilization"] = current["averageUtilization"]
    if "averageValue" in current:
        old["currentAverageValue"] = current["averageValue"]
    return {"type": "Resource", "resource": old}


def hpa_v2_to_v1(obj: Obj) -> Obj:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    meta = copy.deepcopy(obj["metadata"])
    annotations = meta.setdefault("annotations", {})
    if status.get("conditions"):
        annotations["autoscaling.alpha.kubernetes.io/conditions"] = json.dumps(status["conditions"],
                                                                                separators=(",", ":"))
    if status.get("currentMetrics"):
        annotations["autoscaling.alpha.kubernetes.io/current-metrics"] = json.dumps(
            [_v1_metric(m) for m in status["currentMetrics"]], separators=(",", ":"))
    if not annotations:
        del meta["annotations"]
    v1_spec = {k: v for k, v in spec.items() if k not in ("metrics", "behavior")}
    v1_status = {k: v for k, v in status.items() if k not in ("currentMetrics", "conditions")}
    target = _cpu_utilization(spec.get("metrics") or [], "target")
    if target is not None:
        v1_spec["targetCPUUtilizationPercentage"] = target
    current = _cpu_utilization(status.get("currentMetrics") or [], "current")
    if current is not None:
        v1_status["currentCPUUtilizationPercentage"] = current
    return {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": meta,
            "spec": v1_spec, "status": v1_status}
