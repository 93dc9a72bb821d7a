"""Workloads from Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and bare Pods.

Pods are attributed to a workload through their controller's ownerReferences:
Pod→ReplicaSet→Deployment, Pod→Job→CronJob, Pod→StatefulSet, Pod→DaemonSet. A pod whose owner
is not one of those (none, a Node for static pods, an unknown controller) is its own `Pod`
workload. Status comes from the controller's spec and status, as docs/kubernetes.md lists.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import msgspec

from collectors.kubernetes import wire as w
from collectors.kubernetes.pods import PodRow, RequestMemo, controller_of, pod_health, pod_state
from fleet.model import Workload


@dataclass
class Controllers:
    """The controller objects of one cluster, indexed for ownership lookups."""

    deployments: list[w.Deployment] = field(default_factory=list)
    replicasets: list[w.ReplicaSet] = field(default_factory=list)
    statefulsets: list[w.StatefulSet] = field(default_factory=list)
    daemonsets: list[w.DaemonSet] = field(default_factory=list)
    jobs: list[w.Job] = field(default_factory=list)
    cronjobs: list[w.CronJob] = field(default_factory=list)


# controllers that run one pod on every eligible node
PER_NODE_KINDS = frozenset({"DaemonSet"})


def workload_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


class Attribution:
    """What a pod's owner can roll up to: the workloads Podium lists (`known`), and for each
    ReplicaSet and Job the workload it belongs to (`parent`: its Deployment or CronJob, or itself)."""

    def __init__(self, controllers: Controllers):
        self.known: set[str] = set()
        for kind, items in (("Deployment", controllers.deployments), ("StatefulSet", controllers.statefulsets),
                            ("DaemonSet", controllers.daemonsets), ("CronJob", controllers.cronjobs)):
            self.known.update(workload_id(kind, o.metadata.namespace, o.metadata.name) for o in items)
        self.parent: dict[str, str] = {}  # ReplicaSet/Job id -> the workload id it rolls up to
        for kind, parent_kind, items in (("ReplicaSet", "Deployment", controllers.replicasets),
                                         ("Job", "CronJob", controllers.jobs)):
            for obj in items:
                own_id = workload_id(kind, obj.metadata.namespace, obj.metadata.name)
                owner = controller_of(obj.metadata.owner_references)
                parent = workload_id(parent_kind, obj.metadata.namespace, owner.name) if owner else None
                self.parent[own_id] = parent if owner and owner.kind == parent_kind and parent in self.known \
                    else own_id


_template_decoder = msgspec.json.Decoder(w.Template)


def slim_replicaset(head: w.ReplicaSetHead) -> w.ReplicaSet:
    """The ReplicaSet as normalize reads it; its template is decoded only when no Deployment owns
    it (a standalone ReplicaSet is a workload of its own and shows its images and requests)."""
    owner = controller_of(head.metadata.owner_references)
    raw = head.spec.template
    standalone = owner is None or owner.kind != "Deployment"
    template = _template_decoder.decode(raw) if standalone and bytes(raw) != b"null" else w.Template()
    return w.ReplicaSet(metadata=head.metadata, spec=w.ReplicaSetSpec(replicas=head.spec.replicas, template=template),
                        status=head.status)


def keyed_slim_replicaset(head: w.ReplicaSetHead) -> tuple[str, w.ReplicaSet]:
    return f"{head.metadata.namespace}/{head.metadata.name}", slim_replicaset(head)


@dataclass
class PodCounts:
    running: int = 0
    healthy: int = 0


def _images(spec: w.PodSpec) -> list[str]:
    return [c.image for c in spec.containers or () if c.image]


def _condition(conditions: list[w.Condition] | None, kind: str) -> w.Condition | None:
    return next((c for c in conditions or () if c.type == kind), None)


def deployment_status(dep: w.Deployment) -> str:
    spec, status = dep.spec, dep.status
    desired = 1 if spec.replicas is None else spec.replicas
    progressing = _condition(status.conditions, "Progressing")
    if desired == 0:
        return "stopped"
    if progressing and progressing.status == "False" and progressing.reason == "ProgressDeadlineExceeded":
        return "failed" if status.available_replicas == 0 else "degraded"
    rolling = (status.observed_generation < dep.metadata.generation or status.updated_replicas < desired
               or status.replicas > status.updated_replicas)
    if rolling and not spec.paused:
        return "progressing"
    return _by_availability(status.available_replicas, desired)


def _by_availability(available: int, desired: int) -> str:
    if available == 0:
        return "failed"
    return "degraded" if available < desired else "healthy"


def statefulset_status(sts: w.StatefulSet) -> str:
    desired = 1 if sts.spec.replicas is None else sts.spec.replicas
    status = sts.status
    if desired == 0:
        return "stopped"
    if status.update_revision and status.current_revision and status.update_revision != status.current_revision \
            and status.updated_replicas < desired:
        return "progressing"
    return _by_availability(status.ready_replicas, desired)


def daemonset_status(ds: w.DaemonSet) -> str:
    status = ds.status
    desired = status.desired_number_scheduled
    if desired == 0:
        return "stopped"
    if status.updated_number_scheduled < desired:
        return "progressing"
    return _by_availability(status.number_ready, desired)


def job_status(job: w.Job) -> str:
    for kind, result in (("Complete", "completed"), ("Failed", "failed")):
        condition = _condition(job.status.conditions, kind)
        if condition and condition.status == "True":
            return result
    return "stopped" if job.spec.suspend else "healthy"


def cronjob_status(cron: w.CronJob, latest_job_failed: bool | None) -> str:
    if cron.spec.suspend:
        return "stopped"
    return "failed" if latest_job_failed else "healthy"


def bare_pod_status(row: PodRow) -> str:
    state = pod_state(row)
    if state == "succeeded":
        return "completed"
    if state == "failed":
        return "failed"
    if state == "running":
        return "healthy" if row.ready else "degraded"
    if state == "pending":
        return "failed" if pod_health(state, False, row.reason) == "unhealthy" else "progressing"
    return "unknown"


def _workload(kind: str, meta: w.Meta, spec: w.PodSpec, desired: int | None, status: str,
              counts: PodCounts | None, requests: RequestMemo) -> Workload:
    request = requests.of(spec)
    counts = counts or PodCounts()
    return Workload(id=workload_id(kind, meta.namespace, meta.name), name=meta.name, namespace=meta.namespace,
                    kind=kind, desired=desired, running=counts.running, healthy=counts.healthy,
                    status=status, images=_images(spec),  # type: ignore[arg-type]
                    cpu_request_cores=round(request.cpu_cores, 6), mem_request_bytes=request.mem_bytes,
                    per_node=kind in PER_NODE_KINDS)


def _counted(counts: dict[str, PodCounts], kind: str, meta: w.Meta) -> PodCounts | None:
    return counts.get(workload_id(kind, meta.namespace, meta.name))


def _bare_workload(row: PodRow) -> Workload:
    running = row.phase == "Running"
    return Workload(id=workload_id("Pod", row.namespace, row.name), name=row.name, namespace=row.namespace,
                    kind="Pod", desired=1, running=int(running), healthy=int(running and row.ready),
                    status=bare_pod_status(row), images=list(row.images),  # type: ignore[arg-type]
                    cpu_request_cores=round(row.cpu_cores, 6), mem_request_bytes=row.mem_bytes)


def _created(job: w.Job) -> tuple[datetime, str]:
    return job.metadata.creation_timestamp or datetime.min.replace(tzinfo=timezone.utc), job.metadata.name


def latest_jobs_failed(controllers: Controllers) -> dict[str, bool]:
    """CronJob id → whether its most recently created Job failed."""
    latest: dict[str, w.Job] = {}
    for job in controllers.jobs:
        owner = controller_of(job.metadata.owner_references)
        if owner is None or owner.kind != "CronJob":
            continue
        key = workload_id("CronJob", job.metadata.namespace, owner.name)
        current = latest.get(key)
        if current is None or _created(job) > _created(current):
            latest[key] = job
    return {key: job_status(job) == "failed" for key, job in latest.items()}


class Tally:
    """Running/healthy pods per workload, and the pods that stand alone (filled by the pass over pods)."""

    def __init__(self) -> None:
        self.counts: dict[str, PodCounts] = defaultdict(PodCounts)
        self.bare: list[PodRow] = []


def normalize_workloads(controllers: Controllers, tally: Tally, attribution: Attribution,
                        requests: RequestMemo | None = None) -> list[Workload]:
    """Workloads from the controllers, with the running/healthy counts of the pods tallied to them."""
    counts, bare = tally.counts, tally.bare
    requests = requests or RequestMemo()
    result: list[Workload] = []
    for dep in controllers.deployments:
        desired = 1 if dep.spec.replicas is None else dep.spec.replicas
        result.append(_workload("Deployment", dep.metadata, dep.spec.template.spec, desired, deployment_status(dep),
                                _counted(counts, "Deployment", dep.metadata), requests))
    for sts in controllers.statefulsets:
        desired = 1 if sts.spec.replicas is None else sts.spec.replicas
        result.append(_workload("StatefulSet", sts.metadata, sts.spec.template.spec, desired, statefulset_status(sts),
                                _counted(counts, "StatefulSet", sts.metadata), requests))
    for ds in controllers.daemonsets:
        result.append(_workload("DaemonSet", ds.metadata, ds.spec.template.spec, ds.status.desired_number_scheduled,
                                daemonset_status(ds),
                                _counted(counts, "DaemonSet", ds.metadata), requests))
    result += _standalone(controllers, counts, attribution, requests)
    failed = latest_jobs_failed(controllers)
    for cron in controllers.cronjobs:
        key = workload_id("CronJob", cron.metadata.namespace, cron.metadata.name)
        result.append(_workload("CronJob", cron.metadata, cron.spec.job_template.spec.template.spec, None,
                                cronjob_status(cron, failed.get(key)), counts.get(key), requests))
    result += [_bare_workload(row) for row in bare]
    requests.next_round()
    return result


def _standalone(controllers: Controllers, counts: dict[str, PodCounts], attribution: Attribution,
                requests: RequestMemo) -> list[Workload]:
    """Jobs not run by a CronJob, and ReplicaSets no Deployment manages (still wanting pods)."""
    result = []
    for job in controllers.jobs:
        own_id = workload_id("Job", job.metadata.namespace, job.metadata.name)
        if attribution.parent.get(own_id) == own_id:
            result.append(_workload("Job", job.metadata, job.spec.template.spec, job.spec.completions,
                                    job_status(job), counts.get(own_id), requests))
    for rs in controllers.replicasets:
        own_id = workload_id("ReplicaSet", rs.metadata.namespace, rs.metadata.name)
        desired = 1 if rs.spec.replicas is None else rs.spec.replicas
        if attribution.parent.get(own_id) == own_id and desired > 0:
            result.append(_workload("ReplicaSet", rs.metadata, rs.spec.template.spec, desired,
                                    _by_availability(rs.status.ready_replicas, desired), counts.get(own_id), requests))
    return result
