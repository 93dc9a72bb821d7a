"""One round of Marathon's and the Mesos master's payloads → the common model, purely.

`MarathonRaw` is what `collectors.marathon.fetch` read in one round; `normalize` turns it into
workloads, instances, nodes and events. The rules for an app's or pod's status live in
`collectors.marathon.apps`, those for an agent's in `collectors.marathon.mesos`, those for the
round's (which parts are optional) in `collectors.marathon.fetch`. Optional parts that failed
(`problems`) make the cluster `degraded`, naming each one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from collectors.marathon.apps import (QueueProblem, app_workload, deployment_event, failure_event, pod_instance,
                                      pod_workload, queue_event, queue_problem, task_instances)
from collectors.marathon.mesos import NodeMemo, host_index, to_nodes
from collectors.marathon.services import app_service
from collectors.marathon.wire import (Agent, App, AppList, AppSlices, Deployment, Info, PodStatus, Queue, QueueItem,
                                      Resources)
from collectors.toolkit import MalformedPayload, decode_problem, decoder_for
from fleet.model import Event, Instance, Service, Workload
from fleet.source import ClusterData

LEADER_KINDS = {"Marathon": "Marathon", "Mesos master": "MesosMaster"}


@dataclass
class MarathonRaw:
    collected_at: datetime
    info: Info
    apps: AppList
    pods: list[PodStatus] = field(default_factory=list)
    queue: Queue = field(default_factory=Queue)
    deployments: list[Deployment] = field(default_factory=list)
    agents: list[Agent] | None = None
    # optional parts that failed, each one line naming the endpoint and what went wrong
    problems: list[str] = field(default_factory=list)
    # (service, configured URL, leader URL) for each leader redirect followed
    leaders: list[tuple[str, str, str]] = field(default_factory=list)
    # (task id, event) from Marathon's event stream since recently (see collectors.marathon.events)
    streamed: list[tuple[str, Event]] = field(default_factory=list)


@dataclass
class AppResult:
    """What one app became, and from what: reused while the app and its launch problem are equal."""

    app: App
    problem: QueueProblem | None
    workload: Workload
    instances: list[Instance]
    service: Service | None


@dataclass
class PodResult:
    """What one pod became, and from what."""

    pod: PodStatus
    deploying: bool
    workload: Workload
    instances: list[Instance]


@dataclass
class NormalizeMemo:
    """Last round's results per app and per agent, kept by the collector: an app or agent equal to
    last round's (its decoded object, field by field) reuses its result instead of normalizing it
    again. Most of a quiet cluster's 20,000 apps and 50,000 agents are."""

    apps: dict[str, AppResult] = field(default_factory=dict)
    pods: dict[str, PodResult] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)  # the agents' hostnames the apps' tasks were placed by
    nodes: NodeMemo = field(default_factory=NodeMemo)


def normalize(raw: MarathonRaw, memo: NormalizeMemo | None = None) -> ClusterData:
    """Pure: one round's payloads → the common model (see the module doc for where the rules live).
    With a `memo`, what did not change since the memo's round is not worked out again."""
    role = (raw.info.marathon_config.mesos_role if raw.info.marathon_config else None) or "*"
    agents = raw.agents or []
    hosts = host_index(agents)
    problems = {item.run_spec_id: (item, queue_problem(item)) for item in raw.queue.queue}
    workloads, instances, events, services = apps_section(raw, hosts, problems, memo)
    deploying_pods = {pod for d in raw.deployments for pod in d.affectedPods}
    last_pods = memo.pods if memo is not None else {}
    fresh_pods: dict[str, PodResult] = {}
    for pod in raw.pods:
        deploying = pod.id in deploying_pods
        kept = last_pods.get(pod.id)
        if kept is None or kept.deploying != deploying or kept.pod != pod:
            kept = PodResult(pod, deploying, pod_workload(pod, deploying), [pod_instance(pod, i) for i in pod.instances])
        fresh_pods[pod.id] = kept
        workloads.append(kept.workload)
        instances.extend(kept.instances)
        events.extend(queue_events(problems.get(pod.id), "Pod", kept.workload, raw.collected_at))
    if memo is not None:
        memo.pods = fresh_pods
    events.extend(deployment_event(d, raw.collected_at) for d in raw.deployments)
    events.extend(streamed_events(raw))
    events.extend(leader_events(raw))
    nodes = to_nodes(agents, role, allocated_by_tasks(raw, hosts) if agents and agents[0].used_resources is None
                     else None, memo.nodes if memo is not None else None)
    return ClusterData(version=raw.info.version, nodes=nodes, workloads=workloads, instances=instances,
                       events=sorted(events, key=lambda e: e.time, reverse=True), services=services,
                       degraded_reason="; ".join(raw.problems) or None)


def apps_section(raw: MarathonRaw, hosts: dict[str, str],
                 problems: dict[str, tuple[QueueItem, QueueProblem | None]], memo: NormalizeMemo | None = None
                 ) -> tuple[list[Workload], list[Instance], list[Event], list[Service]]:
    workloads: list[Workload] = []
    instances: list[Instance] = []
    events: list[Event] = []
    services: list[Service] = []
    last = memo.apps if memo is not None and memo.hosts == hosts else {}
    fresh: dict[str, AppResult] = {}
    for app in raw.apps.apps:
        item, problem = problems.get(app.id, (None, None))
        result = last.get(app.id)
        if result is None or result.problem != problem or (result.app is not app and result.app != app):
            mine = task_instances(app.tasks, app.id, hosts) if app.tasks else []
            result = AppResult(app, problem, app_workload(app, problem), mine, app_service(app, mine))
        fresh[app.id] = result
        workload, service = result.workload, result.service
        workloads.append(workload)
        instances.extend(result.instances)
        if service is not None:
            services.append(service)
        if app.lastTaskFailure is not None:  # most apps have neither this nor a launch problem
            events.append(failure_event(app.id, app.lastTaskFailure, raw.collected_at))
        if item is not None:
            events.extend(queue_events((item, problem), "App", workload, raw.collected_at))
    if memo is not None:
        memo.apps, memo.hosts = fresh, hosts
    return workloads, instances, events, services


def apps_read_again(slices: AppSlices, memo: NormalizeMemo, what: str) -> AppList:
    """A later read of every app, decoded app by app, each app equal to the one the memo holds replaced
    by that one at once (Podium's fields only: health checks' timestamps are not among them).

    The memo and the model's instances hold the earlier read, and the collector keeps this read for
    quiet rounds: decoded whole, 20,000 apps with 200,000 tasks (~0.9 million objects, ~140 MB) lived
    beside it until the round ended (+280 MB of RSS at the seed's size), and in the dashboard freeing
    them left ~40 MB of the heap behind for good, pinned by objects other threads made meanwhile. App
    by app, each copy is freed before the next is decoded. `what` names the request in an error, as a
    whole decode's would."""
    decoder = decoder_for(App)
    apps = []
    for index, raw in enumerate(slices.apps):
        try:
            app = decoder.decode(raw)
        except msgspec.DecodeError as exc:
            problem = decode_problem(exc).replace("`$", f"`$.apps[{index}]")
            raise MalformedPayload(f"{what}: {problem}") from None
        known = memo.apps.get(app.id)
        apps.append(known.app if known is not None and known.app == app else app)
    return AppList(apps=apps)


def queue_events(entry: tuple[QueueItem, QueueProblem | None] | None, kind: str, workload: Workload,
                 collected_at: datetime) -> list[Event]:
    if entry is None or entry[1] is None:
        return []
    up = workload.healthy if workload.healthy is not None else workload.running
    return [queue_event(entry[0], entry[1], kind, up, collected_at)]


def streamed_events(raw: MarathonRaw) -> list[Event]:
    """Streamed failures, but not the ones already shown as an app's lastTaskFailure."""
    shown = {app.lastTaskFailure.taskId for app in raw.apps.apps if app.lastTaskFailure}
    return [event for task_id, event in raw.streamed if task_id not in shown]


def leader_events(raw: MarathonRaw) -> list[Event]:
    return [Event(time=raw.collected_at, severity="info", object=f"{LEADER_KINDS[service]}/{configured}",
                  reason="LeaderRedirect", message=f"{configured} is not the leading {service}; read from the "
                                                   f"leader at {leader}")
            for service, configured, leader in raw.leaders]


def allocated_by_tasks(raw: MarathonRaw, hosts: dict[str, str]) -> dict[str, Resources]:
    """Per agent, the resources of Marathon's live tasks there (for masters without used_resources)."""
    totals: dict[str, Resources] = {}
    for app in raw.apps.apps:
        for task in app.tasks or []:
            agent_id = task.slaveId or hosts.get(task.host or "")
            if agent_id and (task.state is None or task.state in ("TASK_RUNNING", "TASK_STAGING", "TASK_STARTING")):
                total = totals.setdefault(agent_id, Resources())
                total.cpus += app.cpus
                total.mem += app.mem
    return totals

