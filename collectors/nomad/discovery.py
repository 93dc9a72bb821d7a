"""Reading Nomad's native service registrations and horizontal scaling policies, for one region.

`/v1/services` (every namespace at once) names the registered services; `/v1/service/:name` per
name and namespace gives their registrations. `/v1/scaling/policies` lists the policies as stubs;
each horizontal one is read whole (`/v1/scaling/policy/:id`: Min, Max, the checks), and its job's
`/v1/job/:id/scale` says what the group asks for and runs. Both lists take part in the
collector's blocking-query probes, so an unchanged region costs two probes a round; a job's scale
status is read again when its JobModifyIndex or the region's allocations moved. Registrations and
policies are read while the region's other lists are; a large region's registrations (hundreds of
services) are read by the worker process, as job specs are (collectors/nomad/specs.py), and the
reads done here skip requests' per-call work (`DirectGet`). These reads are optional: a Nomad too
old to have them (404) has none, and any other refusal leaves the region's core data standing and
is said in the cluster's message.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from collectors.nomad.specs import decode_registrations, read_registrations, registration_path
from collectors.nomad.wire import JobScale, ScalingPolicy, ServiceList, ServiceRegistration
from fleet.source import MalformedPayload, Unauthorized, UpstreamError

if TYPE_CHECKING:
    from collectors.http import DirectGet
    from collectors.nomad.fetch import NomadCollector

log = logging.getLogger(__name__)
READERS = 4


@dataclass
class Discovery:
    """What one region says about services and scaling; `problems` names what could not be read."""

    registrations: list[ServiceRegistration] = field(default_factory=list)
    policies: list[ScalingPolicy] = field(default_factory=list)
    scales: dict[tuple[str, str], JobScale] = field(default_factory=dict)  # (namespace, job ID)
    scale_versions: dict[tuple[str, str], int] = field(default_factory=dict)  # the JobModifyIndex each was read at
    problems: list[str] = field(default_factory=list)


def read_registered(collector: "NomadCollector", region: str | None, scoped: dict[str, str],
                    timeout_s: float) -> Discovery:
    """The region's registrations and horizontal policies: they need nothing else of the round, so
    they are read while the other lists are."""
    found = Discovery()
    try:
        found.registrations = collector.table(region, "/v1/services", scoped, timeout_s,
                                              lambda: _registrations(collector, scoped, timeout_s))
    except (Unauthorized, UpstreamError, MalformedPayload) as exc:
        _skip(found, "service registrations", exc)
    try:
        found.policies = collector.table(region, "/v1/scaling/policies", scoped, timeout_s,
                                         lambda: _policies(collector, scoped, timeout_s))
    except (Unauthorized, UpstreamError, MalformedPayload) as exc:
        _skip(found, "scaling policies", exc)
    return found


def with_scales(collector: "NomadCollector", found: Discovery, scoped: dict[str, str], timeout_s: float,
                versions: dict[tuple[str, str], int], allocs_moved: bool, last: Discovery | None) -> Discovery:
    """`found` with its policies' jobs' scale status. `versions`: each job's JobModifyIndex;
    `allocs_moved`: the allocation list was read again this round."""
    jobs = sorted({(p.Target.Namespace or "default", p.Target.Job) for p in found.policies if p.Target})
    kept = {} if allocs_moved or last is None else {
        job: scale for job, scale in last.scales.items() if last.scale_versions.get(job) == versions.get(job)}
    stale = [job for job in jobs if job not in kept]
    found.scales = {**{job: kept[job] for job in jobs if job in kept}, **_scales(collector, scoped, stale, timeout_s)}
    found.scale_versions = {job: versions.get(job, 0) for job in found.scales}
    return found


def _skip(found: Discovery, what: str, exc: Exception) -> None:
    message = getattr(exc, "message", str(exc))
    if "HTTP 404" in message:  # a Nomad before native services (1.3) or scaling policies (0.11)
        log.debug("no %s: %s", what, message)
        return
    log.info("%s not read: %s", what, message)
    found.problems.append(f"{what} not read: {message}")


def _registrations(collector: "NomadCollector", scoped: dict[str, str],
                   timeout_s: float) -> tuple[list[ServiceRegistration], int]:
    lists, headers = collector.read("/v1/services", scoped, list[ServiceList], timeout_s)
    names = [(entry.Namespace, s.ServiceName) for entry in lists for s in entry.Services or ()]

    def read(name: tuple[str, str], direct: DirectGet | None) -> list[ServiceRegistration]:
        params = {**scoped, "namespace": name[0]}
        try:
            return collector.read(registration_path(name[1]), params, list[ServiceRegistration], timeout_s, direct)[0]
        except UpstreamError as exc:  # deregistered between the list and the read
            log.debug("service %s/%s not read: %s", *name, exc.message)
            return []

    # a large region's hundreds of reads (28,000 registrations at the seed's size) go to the worker process
    per_name, _ = collector.read_in_bulk(read_registrations, decode_registrations, scoped, names, read, READERS,
                                         timeout_s)
    found = [r for regs in per_name for r in regs]
    return found, _index(headers)


def _policies(collector: "NomadCollector", scoped: dict[str, str],
              timeout_s: float) -> tuple[list[ScalingPolicy], int]:
    stubs, headers = collector.read("/v1/scaling/policies", scoped, list[ScalingPolicy], timeout_s)
    horizontal = [s for s in stubs if s.Type == "horizontal"]
    direct = collector.client.direct() if horizontal else None

    def read(stub: ScalingPolicy) -> ScalingPolicy | None:
        namespace = stub.Target.Namespace if stub.Target and stub.Target.Namespace else "default"
        try:
            return collector.read(f"/v1/scaling/policy/{quote(stub.ID, safe='')}", {**scoped, "namespace": namespace},
                                  ScalingPolicy, timeout_s, direct)[0]
        except UpstreamError as exc:
            log.debug("scaling policy %s not read: %s", stub.ID, exc.message)
            return None

    with ThreadPoolExecutor(READERS, thread_name_prefix="nomad-policy") as pool:
        found = [p for p in pool.map(read, horizontal) if p is not None]
    return found, _index(headers)


def _scales(collector: "NomadCollector", scoped: dict[str, str], jobs: list[tuple[str, str]],
            timeout_s: float) -> dict[tuple[str, str], JobScale]:
    if not jobs:
        return {}
    direct = collector.client.direct()

    def read(job: tuple[str, str]) -> JobScale | None:
        try:
            return collector.read(f"/v1/job/{quote(job[1], safe='')}/scale", {**scoped, "namespace": job[0]},
                                  JobScale, timeout_s, direct)[0]
        except UpstreamError as exc:  # the job went away
            log.debug("scale of job %s/%s not read: %s", *job, exc.message)
            return None

    with ThreadPoolExecutor(READERS, thread_name_prefix="nomad-scale") as pool:
        return {job: scale for job, scale in zip(jobs, pool.map(read, jobs)) if scale is not None}


def _index(headers: Any) -> int:
    try:
        return int(headers.get("X-Nomad-Index") or 0)
    except ValueError:
        return 0
