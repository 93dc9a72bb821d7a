"""Native service discovery and scaling: `/v1/services`, `/v1/service/:name`, `/v1/scaling/policies`,
`/v1/scaling/policy/:id` and `/v1/job/:id/scale`, in Nomad 1.7's shapes.

A group `service` block with provider `nomad` is registered once per running allocation (the
client removes the registration when the allocation stops), with the allocation's dynamic port;
provider `consul` registers in Consul, so Nomad's own list never shows it. Registrations carry no
health: Nomad keeps check results on the client (`/v1/allocation/:id/checks`). The blocking index
of registrations is the allocation table's and that of policies the job table's: in this emulator
they move together.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from typing import Any, Callable

from sim.nomad.model import Alloc, Group, Job, Region


def registrations(region: Region) -> list[dict[str, Any]]:
    """Every native registration of the region, as `/v1/service/:name` items."""
    found = []
    for alloc in region.allocs:
        if alloc.client_status != "running" or alloc.desired_status != "run":
            continue
        for service in alloc.group.services:
            if service.provider != "nomad":
                continue
            found.append({
                "Address": alloc.node.address, "AllocID": alloc.id, "CreateIndex": alloc.create_index,
                "Datacenter": alloc.node.datacenter,
                "ID": f"_nomad-task-{alloc.id}-group-{alloc.group.name}-{service.name}-{service.port_label}",
                "JobID": alloc.job.id, "ModifyIndex": alloc.modify_index, "Namespace": alloc.namespace,
                "NodeID": alloc.node.id, "Port": port_of(alloc, service.port_label), "ServiceName": service.name,
                "Tags": list(service.tags)})
    return found


def port_of(alloc: Alloc, label: str) -> int:
    """The allocation's dynamic port for a label, in the client's default range 20000-32000."""
    return 20000 + zlib.crc32(f"{alloc.id}/{label}".encode()) % 12000


def service_lists(by_name: dict[str, list[dict[str, Any]]], namespace: str) -> list[dict[str, Any]]:
    """`/v1/services`: per namespace, each service name once with the union of its tags."""
    tags: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for reg in (r for regs in by_name.values() for r in regs):
        if namespace not in ("*", reg["Namespace"]):
            continue
        known = tags[reg["Namespace"]].setdefault(reg["ServiceName"], [])
        known.extend(t for t in reg["Tags"] if t not in known)
    return [{"Namespace": ns, "Services": [{"ServiceName": name, "Tags": found}
                                           for name, found in sorted(names.items())]}
            for ns, names in sorted(tags.items())]


def group_services(group: Group) -> list[dict[str, Any]] | None:
    """A task group's `Services` as `/v1/job/:id` renders them."""
    if not group.services:
        return None
    return [{"Name": s.name, "TaskName": "", "PortLabel": s.port_label, "AddressMode": "auto", "Address": "",
             "EnableTagOverride": False, "Tags": list(s.tags), "CanaryTags": None, "Checks": None,
             "Connect": None, "Meta": None, "CanaryMeta": None, "TaggedAddresses": None,
             "OnUpdate": "require_healthy", "Provider": s.provider} for s in group.services]


def policy(job: Job, group: Group, full: bool) -> dict[str, Any]:
    """A horizontal scaling policy: the stub of `/v1/scaling/policies`, or the whole policy."""
    scaling = group.scaling
    assert scaling is not None
    found: dict[str, Any] = {"ID": scaling.id, "Enabled": scaling.enabled, "Type": "horizontal",
                             "Target": {"Namespace": job.namespace, "Job": job.id, "Group": group.name},
                             "CreateIndex": job.create_index, "ModifyIndex": job.job_modify_index}
    if full:
        # HCL blocks come out as lists of single-key maps (see nomad-autoscaler's full-scaling golden)
        checks = [{name: [{"source": source, "query": query,
                           "strategy": [{"target-value": [{"target": 70.0}]}]}]}
                  for name, source, query in scaling.checks]
        found.update({"Min": scaling.min, "Max": scaling.max, "Namespace": "",
                      "Policy": {"cooldown": "2m", "evaluation_interval": "10s", **({"check": checks} if checks else {})}})
    return found


def group_scaling(job: Job, group: Group) -> dict[str, Any] | None:
    return policy(job, group, full=True) if group.scaling else None


def policies(region: Region, namespace: str, job_id: str | None, kind: str | None) -> list[dict[str, Any]]:
    """`?job=` and `?type=` filter; empty values filter nothing (python-nomad always sends both)."""
    return [policy(job, group, full=False) for job in region.jobs for group in job.groups
            if group.scaling and namespace in ("*", job.namespace) and job_id in (None, "", job.id)
            and kind in (None, "", "horizontal")]


def find_policy(region: Region, policy_id: str) -> dict[str, Any] | None:
    for job in region.jobs:
        for group in job.groups:
            if group.scaling and group.scaling.id == policy_id:
                return policy(job, group, full=True)
    return None


def job_scale(job: Job, allocs: list[Alloc]) -> dict[str, Any]:
    """`/v1/job/:id/scale`: per group what the job asks for and what is placed, running, healthy."""
    counts: dict[str, dict[str, int]] = {g.name: {"Placed": 0, "Running": 0, "Healthy": 0, "Unhealthy": 0}
                                         for g in job.groups}
    for alloc in allocs:
        if alloc.desired_status != "run":
            continue
        group = counts[alloc.group.name]
        group["Placed"] += 1
        group["Running"] += alloc.client_status == "running"
        group["Healthy"] += alloc.healthy is True
        group["Unhealthy"] += alloc.healthy is False
    return {"JobCreateIndex": job.create_index, "JobID": job.id, "Namespace": job.namespace,
            "JobModifyIndex": job.job_modify_index, "JobStopped": job.stop,
            "TaskGroups": {g.name: {"Desired": 0 if job.stop else g.count, "Events": None, **counts[g.name]}
                           for g in job.groups}}


class Registrations:
    """A region's registrations by service name, built once per state of its allocation table (a
    10,000-allocation region is one scan, not one per request)."""

    def __init__(self, store: Any):
        self.store = store
        self._cached: tuple[tuple[int, int], dict[str, list[dict[str, Any]]]] | None = None

    def by_name(self, region: Region) -> dict[str, list[dict[str, Any]]]:
        key = (id(region), self.store.index(region.name, "allocs"))
        cached = self._cached
        if cached is None or cached[0] != key:
            found: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for reg in registrations(region):
                found[reg["ServiceName"]].append(reg)
            cached = self._cached = (key, dict(found))
        return cached[1]


def routes(views: Any) -> list[tuple[str, str | None, Callable[..., Any]]]:
    """Routes over `sim.nomad.views.Views` (its lookups and errors)."""
    from sim.nomad.views import ApiError

    known = Registrations(views.store)

    def one_service(call: Any, name: str) -> Any:
        def body() -> Any:
            if name not in known.by_name(call.region):
                return []  # not kept: asking for made-up names does not grow the store
            return views.store.body(call.region.name, "allocs", ("service", name, call.namespace), lambda region: [
                r for r in known.by_name(region).get(name, []) if call.namespace in ("*", r["Namespace"])])
        return ("allocs", body)

    def service_list(call: Any) -> Any:
        return ("allocs", lambda: service_lists(known.by_name(call.region), call.namespace))

    def one_policy(call: Any, policy_id: str) -> Any:
        found = find_policy(call.region, policy_id)
        if found is None:
            raise ApiError(404, "scaling policy not found")
        return ("jobs", found)

    def scale(call: Any, job_id: str) -> Any:
        job = views.job_of(call, job_id)
        return ("jobs", job_scale(job, views.lookup(call.region).by_job.get(id(job), [])))

    ns = "namespace:read"
    return [
        (r"/v1/services", ns, service_list),
        (r"/v1/service/([^/]+)", ns, one_service),
        (r"/v1/scaling/policies", ns, lambda c: (
            "jobs", lambda: policies(c.region, c.namespace, c.request.param("job"), c.request.param("type")))),
        (r"/v1/scaling/policy/([^/]+)", ns, one_policy),
        (r"/v1/job/([^/]+)/scale", ns, scale),
    ]
