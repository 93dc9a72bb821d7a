"""Pure: HorizontalPodAutoscalers (autoscaling/v2, or v1) to `Autoscaler`s on their target workloads.

Each metric reads as kubectl prints it, current vs target: `cpu 92% / 70%`, `cpu 195m / 500m`,
`requests_per_second 310 / 200`; an unmeasured current is `<unknown>`. `limited` is the
`ScalingLimited` condition; `message` is what the HPA says when it cannot scale (`AbleToScale` or
`ScalingActive` False) or is limited. autoscaling/v1 objects carry the v2 conditions and current
metrics as JSON text in annotations (the API server writes them when it converts): the
conditions are read from there, the metric from the v1 CPU target and current utilization. See docs/kubernetes.md.
"""
from __future__ import annotations

import logging

import msgspec

from collectors.kubernetes import wire_services as ws
from fleet.model import Autoscaler

log = logging.getLogger(__name__)
KIND = "HorizontalPodAutoscaler"
CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
UNKNOWN = "<unknown>"
BLOCKING = ("AbleToScale", "ScalingActive")  # False: the HPA cannot scale at all
_conditions = msgspec.json.Decoder(list[ws.HpaCondition])


def _amount(value: ws.MetricValue | ws.MetricTarget | None) -> str:
    if value is None:
        return UNKNOWN
    if value.average_utilization is not None:
        return f"{value.average_utilization}%"
    amount = value.average_value if value.average_value is not None else value.value
    return UNKNOWN if amount is None else str(amount)


def _source(metric: ws.Metric) -> tuple[str, ws.ResourceMetric | ws.NamedMetric | None]:
    """A metric's readable name and the part that holds its target or current value."""
    if metric.resource is not None:
        return metric.resource.name, metric.resource
    if metric.container_resource is not None:
        part = metric.container_resource
        return f"{part.name} ({part.container})" if part.container else part.name, part
    for named in (metric.pods, metric.object, metric.external):
        if named is not None:
            return named.metric.name, named
    return metric.type.lower(), None


def metric_lines(spec: list[ws.Metric], current: list[ws.Metric]) -> list[str]:
    now = {}
    for metric in current:
        name, part = _source(metric)
        now[(metric.type, name)] = part.current if part is not None else None
    lines = []
    for metric in spec:
        name, part = _source(metric)
        lines.append(f"{name} {_amount(now.get((metric.type, name)))} / {_amount(part.target if part else None)}")
    return lines


def _v1_status(hpa: ws.HorizontalPodAutoscaler) -> tuple[list[ws.HpaCondition], list[str]]:
    """Conditions and metric lines of an autoscaling/v1 object (annotations first, CPU fields else)."""
    annotations = hpa.metadata.annotations or {}
    conditions: list[ws.HpaCondition] = []
    try:
        if CONDITIONS_ANNOTATION in annotations:
            conditions = _conditions.decode(annotations[CONDITIONS_ANNOTATION])
    except msgspec.DecodeError as exc:
        log.info("HPA %s/%s: unreadable %s annotation: %s", hpa.metadata.namespace, hpa.metadata.name,
                 CONDITIONS_ANNOTATION, exc)
    target = hpa.spec.target_cpu_utilization_percentage
    if target is None:
        return conditions, []
    current = hpa.status.current_cpu_utilization_percentage
    if current is None:  # a v2-shaped status under a v1 spec (seen in hand-edited objects)
        current = next((m.resource.current.average_utilization for m in hpa.status.current_metrics or ()
                        if m.resource and m.resource.name == "cpu" and m.resource.current), None)
    return conditions, [f"cpu {UNKNOWN if current is None else f'{current}%'} / {target}%"]


def normalize_autoscaler(hpa: ws.HorizontalPodAutoscaler) -> Autoscaler:
    spec, status = hpa.spec, hpa.status
    if spec.metrics is None and spec.target_cpu_utilization_percentage is not None:
        conditions, metrics = _v1_status(hpa)
        conditions = conditions or status.conditions or []
    else:
        conditions = status.conditions or []
        metrics = metric_lines(spec.metrics or [], status.current_metrics or [])
    by_type = {c.type: c for c in conditions}
    limited = by_type.get("ScalingLimited")
    is_limited = limited is not None and limited.status == "True"
    blocking = next((by_type[t] for t in BLOCKING if t in by_type and by_type[t].status == "False"), None)
    said = blocking or (limited if is_limited else None)
    return Autoscaler(kind=KIND, min=1 if spec.min_replicas is None else spec.min_replicas, max=spec.max_replicas,
                      current=status.current_replicas, desired=status.desired_replicas, metrics=metrics,
                      limited=is_limited, message=(said.message or said.reason) if said else None)


def autoscalers_by_workload(hpas: list[ws.HorizontalPodAutoscaler]) -> dict[str, Autoscaler]:
    """Workload id (`Kind/namespace/name` of the scale target) → its autoscaler."""
    result = {}
    for hpa in sorted(hpas, key=lambda h: (h.metadata.namespace, h.metadata.name)):
        target = hpa.spec.scale_target_ref
        key = f"{target.kind}/{hpa.metadata.namespace}/{target.name}"
        result.setdefault(key, normalize_autoscaler(hpa))  # two HPAs on one target: Kubernetes refuses both
    return result
