"""Marathon's JSON, written from the emulator's dataclasses (shapes per the Marathon 1.x RAML).

`app_definition` is what the AppDefinition JSON schema describes; `app_json` adds the fields a
GET returns (counts, deployments, tasks, lastTaskFailure, readiness, taskStats) per `embed`.
"""
from __future__ import annotations

from typing import Any, Iterable

from sim.marathon.model import App, Deployment, MarathonState, Pod, PodInstance, QueueEntry, Task

ALIVE_STATES = ("TASK_RUNNING", "TASK_STAGING", "TASK_STARTING", "TASK_KILLING")


def app_definition(app: App) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": app.id, "instances": app.instances, "cpus": app.cpus, "mem": app.mem, "disk": 0.0, "gpus": 0,
        "cmd": app.cmd, "env": {}, "executor": "", "constraints": app.constraints,
        "fetch": [{"uri": uri, "extract": True, "executable": False, "cache": False} for uri in app.uris],
        "portDefinitions": [{"port": app.service_port, "protocol": "tcp", "name": "http", "labels": _vip(app)}],
        "requirePorts": False, "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 3600,
        "container": None, "healthChecks": [health_check_json(hc) for hc in app.health_checks],
        "readinessChecks": [], "dependencies": [],
        "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
        "labels": app.labels, "version": app.version,
        "versionInfo": {"lastScalingAt": app.version, "lastConfigChangeAt": app.version},
        "killSelection": "YOUNGEST_FIRST",
        "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
    }
    body["networks"] = [{"mode": "host"}]
    if app.image:
        # Marathon 1.5+: port mappings and the network mode moved out of `docker` (marathon-lb's 1.5 recording)
        body["container"] = {"type": "DOCKER", "volumes": [],
                             "docker": {"image": app.image, "privileged": False, "parameters": [],
                                        "forcePullImage": False},
                             "portMappings": [{"containerPort": 8080, "hostPort": 0, "servicePort": app.service_port,
                                               "protocol": "tcp", "name": "http", "labels": _vip(app)}]}
        body["networks"] = [{"mode": "container/bridge"}]
        body.pop("portDefinitions")
    # Marathon 1.5+ (RAML-generated JSON) leaves unset optional fields out rather than writing null
    return {key: value for key, value in body.items() if value is not None}


def _vip(app: App) -> dict[str, str]:
    return {"VIP_0": app.vip} if app.vip else {}


def health_check_json(spec: dict[str, Any]) -> dict[str, Any]:
    body = {"gracePeriodSeconds": 300, "intervalSeconds": 60, "timeoutSeconds": 20, "maxConsecutiveFailures": 3}
    body.update(spec)
    if body.get("protocol") == "COMMAND" and isinstance(body.get("command"), str):
        body["command"] = {"value": body["command"]}
    return body


def counts(app: App) -> dict[str, int]:
    running = [t for t in app.tasks if t.state == "TASK_RUNNING"]
    checked = [t for t in running if t.health]
    return {
        "tasksStaged": sum(t.state in ("TASK_STAGING", "TASK_STARTING") for t in app.tasks),
        "tasksRunning": len(running),
        "tasksHealthy": sum(all(h.alive for h in t.health or []) for t in checked),
        "tasksUnhealthy": sum(not all(h.alive for h in t.health or []) for t in checked),
    }


def task_json(task: Task, *, with_health: bool = True, service_port: int = 10000) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": task.id, "appId": task.app_id, "host": task.host, "slaveId": task.agent_id, "state": task.state,
        "stagedAt": task.staged_at, "version": task.version, "ports": task.ports, "servicePorts": [service_port],
        "ipAddresses": [{"ipAddress": "172.17.0.2", "protocol": "IPv4"}], "localVolumes": [], "role": "*",
    }
    if task.started_at:
        body["startedAt"] = task.started_at
    if task.region:
        body["region"], body["zone"] = task.region, task.zone
    if with_health and task.health is not None:
        body["healthCheckResults"] = [
            {"alive": h.alive, "consecutiveFailures": h.consecutive_failures, "firstSuccess": h.last_success,
             "lastSuccess": h.last_success, "lastFailure": h.last_failure, "taskId": task.id,
             "instanceId": task.id, **({"lastFailureCause": h.last_failure_cause} if h.last_failure_cause else {})}
            for h in task.health]
    return body


def failure_json(app: App) -> dict[str, Any] | None:
    failure = app.last_failure
    if failure is None:
        return None
    return {"appId": app.id, "host": failure.host, "message": failure.message, "state": failure.state,
            "taskId": failure.task_id, "timestamp": failure.timestamp, "version": failure.version,
            "slaveId": failure.agent_id}


def task_stats(app: App) -> dict[str, Any]:
    tally = counts(app)
    stats = {"counts": {"staged": tally["tasksStaged"], "running": tally["tasksRunning"],
                        "healthy": tally["tasksHealthy"], "unhealthy": tally["tasksUnhealthy"]},
             "lifeTime": {"averageSeconds": 3600.0, "medianSeconds": 3600.0}}
    return {"totalSummary": {"stats": stats}, "withLatestConfig": {"stats": stats}}


def app_json(app: App, embeds: set[str], prefix: str = "apps") -> dict[str, Any]:
    """A GET response app; `apps.counts` is embedded by default as Marathon 1.x does."""
    body = app_definition(app)
    if not embeds or f"{prefix}.counts" in embeds or f"{prefix}.failures" in embeds:
        body.update(counts(app))
    if embeds & {f"{prefix}.deployments", f"{prefix}.tasks", f"{prefix}.failures"} or not embeds:
        body["deployments"] = [{"id": d} for d in app.deployment_ids]
    if embeds & {f"{prefix}.tasks", f"{prefix}.failures"}:
        body["tasks"] = [task_json(t, service_port=app.service_port) for t in app.tasks]
    if embeds & {f"{prefix}.lastTaskFailure", f"{prefix}.failures"}:
        failure = failure_json(app)
        if failure:
            body["lastTaskFailure"] = failure
    if f"{prefix}.readiness" in embeds:
        body["readinessCheckResults"] = []
    if f"{prefix}.taskStats" in embeds:
        body["taskStats"] = task_stats(app)
    return body


def pod_definition(pod: Pod) -> dict[str, Any]:
    return {
        "id": pod.id, "labels": {}, "version": pod.version, "environment": {}, "volumes": [],
        "networks": [{"mode": "host"}], "scaling": {"kind": "fixed", "instances": pod.instances},
        "scheduling": {"backoff": {"backoff": 1, "backoffFactor": 1.15, "maxLaunchDelay": 3600},
                       "upgrade": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
                       "placement": {"constraints": [], "acceptedResourceRoles": []}},
        "containers": [{"name": c.name, "resources": {"cpus": c.cpus, "mem": c.mem, "disk": 0, "gpus": 0},
                        "image": {"kind": "DOCKER", "id": c.image, "forcePull": False},
                        "endpoints": [{"name": f"{c.name}-http", "containerPort": 8080, "hostPort": 0,
                                       "protocol": ["tcp"]}],
                        "healthCheck": {"http": {"endpoint": f"{c.name}-http", "path": "/health"}}}
                       for c in pod.containers],
        "executorResources": {"cpus": pod.executor_cpus, "mem": pod.executor_mem, "disk": 10},
    }


def pod_instance_json(pod: Pod, instance: PodInstance) -> dict[str, Any]:
    containers = []
    for spec in pod.containers:
        state, healthy = instance.containers.get(spec.name, ("TASK_RUNNING", True))
        endpoint: dict[str, Any] = {"name": f"{spec.name}-http", "allocatedHostPort": 31001}
        if healthy is not None:
            endpoint["healthy"] = healthy
        containers.append({"name": spec.name, "status": state, "statusSince": instance.since,
                           "containerId": f"{instance.id}.{spec.name}", "endpoints": [endpoint],
                           "resources": {"cpus": spec.cpus, "mem": spec.mem, "disk": 0, "gpus": 0},
                           "conditions": [], "lastUpdated": instance.since, "lastChanged": instance.since})
    return {"id": instance.id, "status": instance.status, "statusSince": instance.since,
            "agentHostname": instance.host, "agentId": instance.agent_id, "conditions": [],
            "resources": {"cpus": round(sum(c.cpus for c in pod.containers) + pod.executor_cpus, 6),
                          "mem": sum(c.mem for c in pod.containers) + pod.executor_mem, "disk": 10, "gpus": 0},
            "networks": [], "containers": containers, "specReference": f"/v2/pods{pod.id}::versions/{pod.version}",
            "lastUpdated": instance.since, "lastChanged": instance.since, "role": "*"}


def pod_status(pod: Pod) -> dict[str, Any]:
    return {"id": pod.id, "spec": pod_definition(pod), "status": pod.status, "statusSince": pod.version,
            "instances": [pod_instance_json(pod, i) for i in pod.pod_instances], "terminationHistory": [],
            "lastUpdated": pod.version, "lastChanged": pod.version}


def queue_item(app: App, entry: QueueEntry) -> dict[str, Any]:
    summary: dict[str, Any] = {"processedOffersCount": entry.processed_offers,
                               "unusedOffersCount": entry.unused_offers}
    if entry.unused_offers:
        summary["lastUnusedOfferAt"] = entry.since
    if entry.rejections:
        steps = [{"reason": r.reason, "declined": r.declined, "processed": r.processed} for r in entry.rejections]
        summary["rejectSummaryLastOffers"] = steps
        summary["rejectSummaryLaunchAttempt"] = steps
    return {"app": app_definition(app), "count": entry.count, "role": entry.role,
            "delay": {"timeLeftSeconds": entry.delay_left_s, "overdue": entry.overdue},
            "since": entry.since, "processedOffersSummary": summary}


def queue_json(state: MarathonState) -> dict[str, Any]:
    return {"queue": [queue_item(app, app.queue) for app in state.apps if app.queue is not None]}


def deployment_json(deployment: Deployment) -> dict[str, Any]:
    key = "pod" if deployment.pods else "app"
    targets = deployment.pods or deployment.apps
    action = {"action": deployment.action, key: targets[0] if targets else ""}
    return {"id": deployment.id, "version": deployment.version, "affectedApps": deployment.apps,
            "affectedPods": deployment.pods, "steps": [{"actions": [action]} for _ in range(deployment.total_steps)],
            "currentActions": [{**action, "readinessCheckResults": []}],
            "currentStep": deployment.current_step, "totalSteps": deployment.total_steps}


def info_json(state: MarathonState, leader: str, elected: bool) -> dict[str, Any]:
    return {"name": "marathon", "version": state.version, "buildref": "podium-sim", "elected": elected,
            "leader": leader, "frameworkId": state.framework_id,
            "marathon_config": {"master": "zk://127.0.0.1:2181/mesos", "mesos_role": state.mesos_role,
                                "mesos_leader_ui_url": state.mesos_leader_url, "ha": True,
                                "framework_name": "marathon", "hostname": leader.split(":")[0]},
            "zookeeper_config": {"zk": "zk://127.0.0.1:2181/marathon"},
            "http_config": {"http_port": int(leader.rsplit(":", 1)[-1]) if ":" in leader else 8080}}


def group_tree(apps: Iterable[App], pods: Iterable[Pod], version: str) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}

    def group(path: str) -> dict[str, Any]:
        if path not in groups:
            groups[path] = {"id": path, "apps": [], "pods": [], "groups": [], "dependencies": [], "version": version}
            if path != "/":
                group(path.rsplit("/", 1)[0] or "/")["groups"].append(groups[path])
        return groups[path]

    group("/")
    for app in apps:
        group(app.id.rsplit("/", 1)[0] or "/")["apps"].append(app_definition(app))
    for pod in pods:
        group(pod.id.rsplit("/", 1)[0] or "/")["pods"].append(pod_definition(pod))
    return groups["/"]
