"""Pure: Nomad service registrations and job specs in, Services out; scaling policies in, Autoscalers out.

A native service (provider `nomad`) has one registration per allocation (task or group level)
that registers it; Nomad offers no virtual address, so its addresses are the registrations'
`address:port` pairs. A registration carries no check status (Nomad keeps check results on the
client), so a backend is ready while its allocation runs and is not known unhealthy. A service
declared in a running job that has no registration at all is down: nothing can be reached under
its name. Services registered in Consul are listed from the job spec with status unknown, since
Consul is not read. See docs/nomad.md.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from collectors.nomad.wire import GroupScale, JobScale, JobSpec, ScalingPolicy, ServiceBlock, ServiceRegistration
from fleet.model import Autoscaler, Instance, Port, Service, Workload, service_status

KIND = "nomad-autoscaler"


def services(registrations: list[ServiceRegistration], jobs: Iterable[tuple[JobSpec | None, Workload]],
             instances: dict[str, Instance], prefix: str) -> list[Service]:
    """Registered services, then those the region's jobs declare and nothing registered."""
    found: dict[tuple[str, str], Service] = {}
    by_key: defaultdict[tuple[str, str], list[ServiceRegistration]] = defaultdict(list)
    for reg in registrations:
        by_key[(reg.Namespace or "default", reg.ServiceName)].append(reg)
    for (namespace, name), regs in by_key.items():
        ready = sum(_ready(instances.get(r.AllocID)) for r in regs)
        ports = {r.Port for r in regs}
        found[(namespace, name)] = Service(
            id=f"{prefix}{namespace}/{name}", name=name, namespace=namespace, kind="nomad",
            addresses=sorted({f"{r.Address}:{r.Port}" for r in regs if r.Address}),
            ports=[Port(port=ports.pop())] if len(ports) == 1 else [],
            workload_ids=sorted({f"{prefix}{namespace}/{r.JobID}" for r in regs if r.JobID}),
            backends_total=len(regs), backends_ready=ready, status=service_status(len(regs), ready))
    for spec, workload in jobs:
        if spec is None or spec.Stop or spec.Status == "dead" or workload.desired == 0:
            continue
        for block in declared(spec):
            add_declared(found, block, workload, prefix)
    return sorted(found.values(), key=lambda s: s.id)


def _ready(instance: Instance | None) -> bool:
    return instance is not None and instance.state == "running" and instance.health != "unhealthy"


def declared(spec: JobSpec) -> list[ServiceBlock]:
    """The service blocks of a job spec, group and task level, whose names are literal."""
    blocks = []
    for group in spec.TaskGroups or []:
        blocks += group.Services or []
        for task in group.Tasks or []:
            blocks += task.Services or []
    return [b for b in blocks if b.Name and "${" not in b.Name]


def add_declared(found: dict[tuple[str, str], Service], block: ServiceBlock, workload: Workload, prefix: str) -> None:
    key = (workload.namespace, block.Name)
    service = found.get(key)
    if service is not None:
        if workload.id not in service.workload_ids:
            service.workload_ids = sorted([*service.workload_ids, workload.id])
        return
    native = block.Provider == "nomad"
    found[key] = Service(
        id=f"{prefix}{workload.namespace}/{block.Name}", name=block.Name, namespace=workload.namespace,
        kind="nomad" if native else "consul", workload_ids=[workload.id],
        # native: declared by a job that should run, and not registered by any of its allocations
        status=service_status(0, 0, expected=native))


# --- autoscalers ---------------------------------------------------------------------------------

def autoscalers(policies: list[ScalingPolicy], scales: dict[tuple[str, str], JobScale],
                prefix: str) -> dict[str, Autoscaler]:
    """Workload id -> its autoscaler. A job with several scaled groups shows the one at its maximum
    (else the first), and the message says how many there are."""
    by_job: defaultdict[tuple[str, str], list[Autoscaler]] = defaultdict(list)
    for policy in policies:
        target = policy.Target
        if policy.Type != "horizontal" or target is None or not target.Job or policy.Max is None:
            continue
        job = (target.Namespace or "default", target.Job)
        scale = scales.get(job)
        group = (scale.TaskGroups or {}).get(target.Group) if scale else None
        by_job[job].append(autoscaler(policy, group, stopped=bool(scale and scale.JobStopped)))
    found = {}
    for (namespace, job), candidates in by_job.items():
        chosen = next((a for a in candidates if a.limited), candidates[0])
        if len(candidates) > 1:
            chosen.message = f"{chosen.message}; {len(candidates)} task groups have policies".lstrip("; ")
        found[f"{prefix}{namespace}/{job}"] = chosen
    return found


def autoscaler(policy: ScalingPolicy, group: GroupScale | None, stopped: bool) -> Autoscaler:
    assert policy.Max is not None and policy.Target is not None
    desired = group.Desired if group else None
    limited = policy.Enabled and not stopped and desired is not None and desired >= policy.Max
    name = policy.Target.Group or "?"
    if not policy.Enabled:
        message = f"group {name}: policy disabled"
    elif limited:
        message = f"group {name} at its maximum ({policy.Max}): the autoscaler may not add more"
    else:
        message = f"group {name}"
    return Autoscaler(kind=KIND, min=policy.Min, max=policy.Max, current=group.Running if group else None,
                      desired=desired, metrics=metrics(policy.Policy or {}), limited=limited, message=message)


def metrics(policy: dict[str, Any]) -> list[str]:
    """Each check as a person reads it. Nomad stores the autoscaler's HCL blocks as lists of
    single-key maps; the current value lives in the autoscaler (it runs the query), not in Nomad."""
    found = []
    for name, body in _blocks(policy.get("check")):
        source, query = body.get("source"), body.get("query")
        strategy = ", ".join(f"{kind} {_target(params)}".rstrip() for kind, params in _blocks(body.get("strategy")))
        what = f"{source}: {query}" if source and query else (query or source or "")
        found.append(" ".join(part for part in (f"{name}", f"({what})" if what else "", f"→ {strategy}" if strategy
                                                else "") if part))
    return found


def _blocks(value: Any) -> list[tuple[str, dict[str, Any]]]:
    """[{name: [{...}]}] (how Nomad renders `check "name" {...}`) as (name, body) pairs."""
    pairs = []
    for entry in value if isinstance(value, list) else []:
        for name, bodies in (entry.items() if isinstance(entry, dict) else ()):
            for body in bodies if isinstance(bodies, list) else [bodies]:
                pairs.append((str(name), body if isinstance(body, dict) else {}))
    return pairs


def _target(params: dict[str, Any]) -> str:
    value = params.get("target")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}" if value is not None else ""
