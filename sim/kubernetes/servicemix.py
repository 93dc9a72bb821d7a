"""The service half of the scenario builder: Services, their EndpointSlices/Endpoints, and HPAs.

One Service per Deployment up to Kubernetes' limit of 10,000 Services (mostly ClusterIP, some NodePort, LoadBalancer ones dual-stack with
an ingress address), a headless Service per StatefulSet, one for node-exporter (a DaemonSet:
many endpoints, several slices), `default/kubernetes` (no selector: the control plane's
addresses) and an ExternalName. With problems on, `checkout-v1` selects no pod at all (a
selector typo: no ready backend) and one HPA is pinned at its maximum. Backends come from the
pods the generator made, so they follow the pods' readiness; the truth is stated alongside.
"""
from __future__ import annotations

import random
from typing import Any

from sim.kubernetes import networking as n
from sim.kubernetes.objects import fake_uid
from sim.kubernetes.pods import VARIANTS
from sim.kubernetes.truth import AutoscalerTruth, ServiceTruth, WorkloadTruth

Obj = dict[str, Any]
LOAD_BALANCED = ("frontend", "gateway")
# Kubernetes' documented limit is 10,000 Services per cluster: past 9,000 Deployments, only every
# n-th one gets a Service (the 5,000-node bench has ~31,000 Deployments)
DEPLOYMENT_SERVICES = 9_000


def ipv6_of(ipv4: str) -> str:
    a, b, c, d = (int(part) for part in ipv4.split("."))
    return f"fd00:10:244::{c:x}:{d:x}" if (a, b) == (10, 244) else f"fd00::{c:x}:{d:x}"


def service_status(total: int, ready: int, expected: bool) -> str:
    if not expected:
        return "unknown"
    return "ok" if ready and ready >= total else "degraded" if ready else "down"


class ServiceMixin:
    # provided by the builder
    knobs: Any
    expected: Any
    objects: list
    workers: list[str]
    app_namespaces: list[str]
    pod_index: dict[tuple[str, str], list[tuple[Obj, str]]]
    controllers: list[tuple[str, Obj, WorkloadTruth, str]]

    def services(self) -> None:
        self.cluster_ips = 0
        self.kubernetes_service()
        deployments = sum(kind == "Deployment" for kind, *_ in self.controllers)
        stride, ordinal = -(-deployments // DEPLOYMENT_SERVICES), 0
        for index, (kind, obj, workload, problem) in enumerate(self.controllers):
            name, ns = workload.name, workload.namespace
            if kind == "Deployment":
                ordinal += 1
                if (ordinal - 1) % stride:
                    continue
                svc_kind = "LoadBalancer" if name in LOAD_BALANCED or index % 13 == 6 else \
                    "NodePort" if index % 9 == 4 else "ClusterIP"
                self.selected(name, ns, svc_kind, [n.port("http", 80, 8080, node_port=self._node_port(svc_kind, index))],
                              [workload.id])
            elif kind == "StatefulSet":
                self.selected(name, ns, "Headless", [n.port("tcp", 6379, 6379)], [workload.id])
            elif kind == "DaemonSet" and name == "node-exporter":
                self.selected(name, ns, "ClusterIP", [n.port("metrics", 9100, 9100)], [workload.id])
        namespace = self.app_namespaces[1 % len(self.app_namespaces)]
        self.external("payment-provider", namespace, "api.payment-provider.example.com")
        if self.problems():
            self.selected("checkout-v1", self.app_namespaces[0], "ClusterIP", [n.port("http", 80, 8080)], [])

    def _node_port(self, kind: str, index: int) -> int | None:
        return 30000 + index % 2768 if kind in ("NodePort", "LoadBalancer") else None

    def _cluster_ip(self) -> str:
        self.cluster_ips += 1
        return f"10.96.{self.cluster_ips // 250}.{self.cluster_ips % 250 + 1}"

    def kubernetes_service(self) -> None:
        control = [obj for resource, obj in self.objects if resource.plural == "nodes"
                   and obj["metadata"]["name"] not in self.workers]
        ips = [next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP") for node in control]
        ports = [n.port("https", 443, 6443)]
        svc = self.add("", "services", n.service("kubernetes", "default", kind="ClusterIP", selector=None, ports=ports,
                                                 cluster_ips=["10.96.0.1"]))
        svc["metadata"]["labels"] = {"component": "apiserver", "provider": "kubernetes"}
        endpoints = [{"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False}}
                     for ip in ips]
        for obj in n.endpoint_slices(svc, endpoints, "IPv4", ports):
            obj["metadata"]["name"] = "kubernetes"
            self.add("discovery.k8s.io", "endpointslices", obj)
        v1 = n.endpoints(svc, [], [], ports)
        v1["subsets"] = [{"addresses": [{"ip": ip} for ip in ips],
                          "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
        self.add("", "endpoints", v1)
        self._truth("kubernetes", "default", "ClusterIP", ["10.96.0.1"], ports, [], len(ips), len(ips), True)

    def selected(self, name: str, ns: str, kind: str, ports: list[Obj], workload_ids: list[str]) -> None:
        """A Service with a selector, and its endpoints from the pods that selector matches."""
        dual = kind == "LoadBalancer"
        ips = [] if kind == "Headless" else [self._cluster_ip()]
        if dual:
            ips.append(f"fd00:10:96::{self.cluster_ips:x}")
        ingress = None
        if kind == "LoadBalancer":
            ingress = [{"ip": f"203.0.113.{self.cluster_ips % 250 + 1}", "ipMode": "VIP"}] if self.cluster_ips % 2 \
                else [{"hostname": f"a{fake_uid(ns, name).replace('-', '')[:16]}.{self._region()}.elb.amazonaws.com"}]
        svc = self.add("", "services", n.service(name, ns, kind=kind, selector={"app": name}, ports=ports,
                                                 cluster_ips=ips, ingress=ingress))
        ready, not_ready, zones = [], [], self._zones()
        for pod, variant in self.pod_index.get((ns, name), []):
            ip = pod["status"].get("podIP")
            if ip:
                (ready if VARIANTS[variant].ready else not_ready).append((pod, ip))
        pairs = ready + not_ready
        families = [("IPv4", [n.slice_endpoint(pod, ip, (pod, ip) in ready, zones.get(pod["spec"]["nodeName"]))
                              for pod, ip in pairs])]
        if dual:
            for pod, ip in pairs:
                pod["status"]["podIPs"] = [{"ip": ip}, {"ip": ipv6_of(ip)}]
            families.append(("IPv6", [n.slice_endpoint(pod, ipv6_of(ip), (pod, ip) in ready,
                                                       zones.get(pod["spec"]["nodeName"])) for pod, ip in pairs]))
        for family, endpoints in families:
            for obj in n.endpoint_slices(svc, endpoints, family, ports):
                self.add("discovery.k8s.io", "endpointslices", obj)
        self.add("", "endpoints", n.endpoints(svc, ready, not_ready, ports))
        addresses = [f"{name}.{ns}.svc"] if kind == "Headless" else ips + [next(iter(i.values())) for i in ingress or []]
        self._truth(name, ns, kind, addresses, ports, workload_ids, len(pairs), len(ready), True)

    def external(self, name: str, ns: str, target: str) -> None:
        self.add("", "services", n.service(name, ns, kind="ExternalName", selector=None, ports=[], cluster_ips=[],
                                           external_name=target))
        self._truth(name, ns, "ExternalName", [target], [], [], 0, 0, False)

    def _truth(self, name: str, ns: str, kind: str, addresses: list[str], ports: list[Obj], workload_ids: list[str],
               total: int, ready: int, expected: bool) -> None:
        self.expected.services[f"Service/{ns}/{name}"] = ServiceTruth(
            ns, name, kind, addresses, [(p["port"], p["protocol"].lower(), str(p["targetPort"]), p.get("nodePort"))
                                        for p in ports],
            workload_ids, total, ready, service_status(total, ready, expected))

    def _zones(self) -> dict[str, str]:
        return {name: node.zone for name, node in self.expected.nodes.items()}

    def _region(self) -> str:
        return next(iter(self.expected.nodes.values())).region

    # -- HorizontalPodAutoscalers ------------------------------------------------------------------
    def autoscalers(self) -> None:
        layout = random.Random(self.knobs.seed * 104729 + 1)
        candidates = [(index, obj, workload) for index, (kind, obj, workload, problem) in enumerate(self.controllers)
                      if kind == "Deployment" and index % 4 == 1 and problem != "stopped" and workload.desired]
        healthy = [index for index, _, workload in candidates if workload.status == "healthy" and workload.desired >= 2]
        pinned = random.Random(self.knobs.seed * 7919 + self.knobs.phase + 17).choice(healthy) \
            if self.problems() and healthy else None
        for index, dep, workload in candidates:
            replicas = workload.desired
            limited = index == pinned
            utilization = layout.randint(92, 140) if limited else layout.randint(35, 68)
            low, high = (max(1, replicas // 2), replicas) if limited else (max(1, replicas - 1), replicas + 4)
            metrics, current = [n.cpu_metric(70)], [n.cpu_current(utilization, utilization * 2)]
            lines = [f"cpu {utilization}% / 70%"]
            if index % 8 == 1:
                rate = layout.randint(120, 180)
                metrics.append(n.pods_metric("http_requests_per_second", "200"))
                current.append(n.pods_current("http_requests_per_second", str(rate)))
                lines.append(f"http_requests_per_second {rate} / 200")
            self.add("autoscaling", "horizontalpodautoscalers", n.hpa(
                workload.name, workload.namespace, dep, min_replicas=low, max_replicas=high, current=replicas,
                desired=replicas, metrics=metrics, current_metrics=current, limited=limited, at=self.at(1800)))
            self.expected.autoscalers[workload.id] = AutoscalerTruth(
                low, high, replicas, replicas, lines, limited, n.LIMITED[1] if limited else None)
