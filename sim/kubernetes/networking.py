"""Builders for Services, their Endpoints and EndpointSlices, and HorizontalPodAutoscalers (wire shapes).

Endpoints are derived from pods as the endpoint controllers do: every pod the selector matches
that has an IP is an endpoint, ready when the pod is Ready; slices hold at most
`MAX_PER_SLICE` endpoints and one address family each; v1 Endpoints stop at `MAX_ENDPOINTS`
addresses and say so in the `endpoints.kubernetes.io/over-capacity` annotation.
"""
from __future__ import annotations

from typing import Any

from sim.kubernetes.objects import EPOCH, condition, fake_uid, meta, owner_ref

Obj = dict[str, Any]
MAX_PER_SLICE = 100
MAX_ENDPOINTS = 1000
MANAGED_BY = "endpointslice-controller.k8s.io"


def port(name: str, number: int, target: int | str, protocol: str = "TCP", node_port: int | None = None) -> Obj:
    data: Obj = {"name": name, "port": number, "protocol": protocol, "targetPort": target}
    if node_port is not None:
        data["nodePort"] = node_port
    return data


def service(name: str, ns: str, *, kind: str, selector: dict[str, str] | None, ports: list[Obj],
            cluster_ips: list[str], ingress: list[Obj] | None = None, external_name: str | None = None) -> Obj:
    """kind: ClusterIP / NodePort / LoadBalancer / Headless / ExternalName."""
    spec: Obj = {"type": "ClusterIP" if kind == "Headless" else kind, "sessionAffinity": "None"}
    if kind == "ExternalName":
        spec["externalName"] = external_name
    else:
        families = ["IPv6" if ":" in ip else "IPv4" for ip in cluster_ips] or ["IPv4"]
        spec.update(clusterIP="None" if kind == "Headless" else cluster_ips[0],
                    clusterIPs=["None"] if kind == "Headless" else cluster_ips, ipFamilies=families,
                    ipFamilyPolicy="RequireDualStack" if len(families) > 1 else "SingleStack",
                    internalTrafficPolicy="Cluster", ports=ports)
        if selector:
            spec["selector"] = dict(selector)
    if kind in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer":
        spec["allocateLoadBalancerNodePorts"] = True
    status: Obj = {"loadBalancer": {"ingress": ingress} if ingress else {}}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns, labels={"app": name}), "spec": spec,
            "status": status}


def _target(pod: Obj) -> Obj:
    data = pod["metadata"]
    return {"kind": "Pod", "namespace": data["namespace"], "name": data["name"], "uid": data["uid"]}


def slice_endpoint(pod: Obj, address: str, ready: bool, zone: str | None) -> Obj:
    endpoint: Obj = {"addresses": [address], "conditions": {"ready": ready, "serving": ready, "terminating": False},
                     "nodeName": pod["spec"]["nodeName"], "targetRef": _target(pod)}
    if zone:
        endpoint["zone"] = zone
    return endpoint


def endpoint_slices(svc: Obj, endpoints: list[Obj], family: str, ports: list[Obj]) -> list[Obj]:
    """The slices of one address family: chunks of MAX_PER_SLICE (one empty slice when there are none)."""
    name, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
    chunks = [endpoints[i:i + MAX_PER_SLICE] for i in range(0, len(endpoints), MAX_PER_SLICE)] or [[]]
    result = []
    for index, chunk in enumerate(chunks):
        slice_name = f"{name}-{fake_uid(ns, name, family, str(index)).replace('-', '')[:5]}"
        data = meta(slice_name, ns, owner=owner_ref(svc), generation=1,
                    labels={"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY})
        data["generateName"] = f"{name}-"
        result.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": data,
                       "addressType": family, "endpoints": chunk,
                       "ports": [{"name": p["name"], "port": p["targetPort"], "protocol": p["protocol"]}
                                 for p in ports]})
    return result


def endpoints(svc: Obj, ready: list[tuple[Obj, str]], not_ready: list[tuple[Obj, str]], ports: list[Obj]) -> Obj:
    """v1 Endpoints: (pod, address) pairs, cut at MAX_ENDPOINTS like the controller does."""
    data = meta(svc["metadata"]["name"], svc["metadata"]["namespace"], labels=svc["metadata"].get("labels"))
    over = len(ready) + len(not_ready) > MAX_ENDPOINTS
    if over:
        data["annotations"] = {"endpoints.kubernetes.io/over-capacity": "truncated"}
        ready = ready[:MAX_ENDPOINTS]
        not_ready = not_ready[:MAX_ENDPOINTS - len(ready)]
    subset: Obj = {}
    for key, pairs in (("addresses", ready), ("notReadyAddresses", not_ready)):
        if pairs:
            subset[key] = [{"ip": ip, "nodeName": pod["spec"]["nodeName"], "targetRef": _target(pod)}
                           for pod, ip in pairs]
    obj: Obj = {"apiVersion": "v1", "kind": "Endpoints", "metadata": data}
    if subset:
        subset["ports"] = [{"name": p["name"], "port": p["targetPort"], "protocol": p["protocol"]} for p in ports]
        obj["subsets"] = [subset]
    return obj


def cpu_metric(target: int) -> Obj:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                       "averageUtilization": target}}}


def cpu_current(utilization: int, value_m: int) -> Obj:
    return {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": utilization,
                                                                        "averageValue": f"{value_m}m"}}}


def pods_metric(name: str, target: str) -> Obj:
    return {"type": "Pods", "pods": {"metric": {"name": name}, "target": {"type": "AverageValue",
                                                                          "averageValue": target}}}


def pods_current(name: str, value: str) -> Obj:
    return {"type": "Pods", "pods": {"metric": {"name": name}, "current": {"averageValue": value}}}


LIMITED = ("TooManyReplicas", "the desired replica count is more than the maximum replica count")
IN_RANGE = ("DesiredWithinRange", "the desired count is within the acceptable range")


def hpa(name: str, ns: str, target: Obj, *, min_replicas: int, max_replicas: int, current: int, desired: int,
        metrics: list[Obj], current_metrics: list[Obj], limited: bool, at: str = EPOCH) -> Obj:
    reason, message = LIMITED if limited else IN_RANGE
    conditions = [condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", at),
                  condition("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully "
                            "calculate a replica count from cpu resource utilization (percentage of request)", at),
                  condition("ScalingLimited", "True" if limited else "False", reason, message, at)]
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(name, ns),
            "spec": {"scaleTargetRef": {"apiVersion": target["apiVersion"], "kind": target["kind"],
                                        "name": target["metadata"]["name"]},
                     "minReplicas": min_replicas, "maxReplicas": max_replicas, "metrics": metrics},
            "status": {"observedGeneration": 1, "currentReplicas": current, "desiredReplicas": desired, "currentMetrics": current_metrics,
                       "conditions": conditions, "lastScaleTime": at}}
