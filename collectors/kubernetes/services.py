"""Pure: Services with their backends (EndpointSlices, or v1 Endpoints) and the workloads behind them.

A backend is one endpoint target (a pod, by its targetRef; an address where there is none), so a
dual-stack pod listed in an IPv4 and an IPv6 slice is one backend. A terminating endpoint is not
counted: it is on its way out and Kubernetes already sends it no new connections while ready
ones exist. Ready is the endpoint's `ready` condition (unset: `serving`, then ready, as the API
advises). The workloads behind a Service are the ones whose pod template its selector matches
(same namespace), plus the workloads of the pods its endpoints point at (bare pods, for one).
The rules are written out for users in docs/kubernetes.md.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from collectors.kubernetes import wire as w
from collectors.kubernetes import wire_services as ws
from collectors.kubernetes.workloads import Attribution, Controllers, workload_id
from fleet.model import Port, Service, service_status

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


@dataclass
class Backends:
    """One Service's endpoint targets → ready: pods by `namespace/name`, anything else by its address."""

    pods: dict[str, bool] = field(default_factory=dict)
    others: dict[str, bool] = field(default_factory=dict)

    def add(self, ref: ws.TargetRef | None, namespace: str, address: str, ready: bool) -> None:
        if ref is not None and ref.name and ref.kind in ("Pod", ""):
            found, key = self.pods, f"{ref.namespace or namespace}/{ref.name}"
        else:
            found, key = self.others, f"{ref.kind}/{ref.namespace or namespace}/{ref.name}" if ref and ref.name \
                else address
        found[key] = found.get(key, False) or ready

    def counts(self) -> tuple[int, int]:
        """(total, ready)."""
        return len(self.pods) + len(self.others), sum(self.pods.values()) + sum(self.others.values())


def _endpoint_ready(conditions: ws.EndpointConditions) -> bool:
    if conditions.ready is not None:
        return conditions.ready
    return conditions.serving if conditions.serving is not None else True


def backends_from_slices(slices: list[ws.EndpointSlice]) -> dict[str, Backends]:
    """`namespace/service` → its backends, from every slice labelled with the service's name."""
    result: dict[str, Backends] = defaultdict(Backends)
    for slice_ in slices:
        meta = slice_.metadata
        service = (meta.labels or {}).get(SERVICE_NAME_LABEL)
        if not service:
            continue  # a slice nobody attached to a Service (custom controllers)
        backends, namespace = result[f"{meta.namespace}/{service}"], meta.namespace
        pods = backends.pods
        for endpoint in slice_.endpoints or ():  # written out flat: tens of thousands per round
            conditions, ref = endpoint.conditions, endpoint.target_ref
            if conditions.terminating:
                continue
            ready = _endpoint_ready(conditions)
            if ref is not None and ref.name and ref.kind == "Pod":
                key = f"{ref.namespace or namespace}/{ref.name}"
                pods[key] = ready or pods.get(key, False)
            else:
                backends.add(ref, namespace, (endpoint.addresses or [""])[0], ready)
    return result


def backends_from_endpoints(endpoints: list[ws.Endpoints]) -> dict[str, Backends]:
    """The same from v1 Endpoints (servers without EndpointSlices, or credentials that may not read them)."""
    result: dict[str, Backends] = defaultdict(Backends)
    for item in endpoints:
        backends = result[f"{item.metadata.namespace}/{item.metadata.name}"]
        for subset in item.subsets or ():
            for ready, addresses in ((True, subset.addresses), (False, subset.not_ready_addresses)):
                for address in addresses or ():
                    backends.add(address.target_ref, item.metadata.namespace, address.ip, ready)
    return result


def service_kind(spec: ws.ServiceSpec) -> str:
    if spec.type == "ClusterIP" and spec.cluster_ip == "None":
        return "Headless"
    return spec.type or "ClusterIP"


def service_addresses(service: ws.Service, kind: str) -> list[str]:
    """What a client dials: cluster IPs, external IPs, load-balancer ingress, or a DNS name."""
    spec, meta = service.spec, service.metadata
    if kind == "ExternalName":
        return [spec.external_name] if spec.external_name else []
    if kind == "Headless":
        return [f"{meta.name}.{meta.namespace}.svc"]  # the cluster domain is not known from the API
    addresses = list(spec.cluster_ips or ([spec.cluster_ip] if spec.cluster_ip else []))
    addresses += spec.external_ips or []
    balancer = service.status.load_balancer
    for ingress in (balancer.ingress if balancer else None) or ():
        if ingress.ip or ingress.hostname:
            addresses.append(ingress.ip or ingress.hostname)  # type: ignore[arg-type]
    return list(dict.fromkeys(addresses))


def service_ports(spec: ws.ServiceSpec) -> list[Port]:
    return [Port(port=p.port, protocol=PROTOCOLS.get(p.protocol, "tcp"),  # type: ignore[arg-type]
                 target=str(p.target_port if p.target_port is not None else p.port), published=p.node_port)
            for p in spec.ports or ()]


def pod_templates(controllers: Controllers, attribution: Attribution) -> list[tuple[str, str, dict[str, str]]]:
    """(workload id, namespace, pod-template labels) of every workload that has a template."""
    def entry(kind: str, meta: w.Meta, template: w.Template) -> tuple[str, str, dict[str, str]]:
        labels = template.metadata.labels if template.metadata else None
        return workload_id(kind, meta.namespace, meta.name), meta.namespace, labels or {}

    found = [entry("Deployment", d.metadata, d.spec.template) for d in controllers.deployments]
    found += [entry("StatefulSet", s.metadata, s.spec.template) for s in controllers.statefulsets]
    found += [entry("DaemonSet", d.metadata, d.spec.template) for d in controllers.daemonsets]
    found += [entry("CronJob", c.metadata, c.spec.job_template.spec.template) for c in controllers.cronjobs]
    for kind, items in (("Job", controllers.jobs), ("ReplicaSet", controllers.replicasets)):
        for item in items:
            own = workload_id(kind, item.metadata.namespace, item.metadata.name)
            if attribution.parent.get(own) == own:  # standalone: a workload of its own
                found.append(entry(kind, item.metadata, item.spec.template))
    return found


class TemplateIndex:
    """Workloads by namespace and pod-template label, for matching Service selectors."""

    def __init__(self, templates: list[tuple[str, str, dict[str, str]]]):
        self.labels: dict[str, dict[str, str]] = {}
        self.by_pair: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for owner, namespace, labels in templates:
            self.labels[owner] = labels
            for key, value in labels.items():
                self.by_pair[(namespace, key, value)].append(owner)

    def matching(self, namespace: str, selector: dict[str, str]) -> list[str]:
        key, value = next(iter(selector.items()))
        candidates = self.by_pair.get((namespace, key, value), ())
        if len(selector) == 1:
            return list(candidates)
        return [wid for wid in candidates if all(self.labels[wid].get(k) == v for k, v in selector.items())]


def normalize_services(services: list[ws.Service], backends: dict[str, Backends], templates: TemplateIndex,
                       owner_of: dict[str, str | None]) -> list[Service]:
    """Services with their backends; `owner_of` maps `namespace/pod` to the pod's workload id."""
    result = []
    empty = Backends()
    for service in services:
        meta, spec = service.metadata, service.spec
        kind = service_kind(spec)
        found = backends.get(f"{meta.namespace}/{meta.name}", empty) if kind != "ExternalName" else empty
        workload_ids = set(templates.matching(meta.namespace, spec.selector)) if spec.selector else set()
        workload_ids.update(map(owner_of.get, found.pods))
        workload_ids.discard(None)
        total, ready = found.counts()
        expected = kind != "ExternalName" and (bool(spec.selector) or total > 0)
        result.append(Service(
            id=f"Service/{meta.namespace}/{meta.name}", name=meta.name, namespace=meta.namespace, kind=kind,
            addresses=service_addresses(service, kind), ports=service_ports(spec),
            workload_ids=sorted(workload_ids),  # type: ignore[type-var]
            backends_total=total, backends_ready=ready, status=service_status(total, ready, expected)))
    result.sort(key=lambda s: s.id)
    return result
