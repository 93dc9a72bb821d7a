"""Builders for controller objects (apps/v1, batch/v1) with the status their controllers write."""
from __future__ import annotations

from typing import Any

from sim.kubernetes.objects import EPOCH, condition, meta

Obj = dict[str, Any]


def _selector(labels: dict[str, str]) -> Obj:
    return {"matchLabels": dict(labels)}


def deployment(name: str, ns: str, template: Obj, *, replicas: int, ready: int, available: int, updated: int,
               total: int, paused: bool = False, rolling: bool = False, deadline_exceeded: bool = False,
               generation: int = 1) -> Obj:
    progressing = condition("Progressing", "True", "NewReplicaSetAvailable",
                            f'ReplicaSet "{name}" has successfully progressed.')
    if rolling:
        progressing = condition("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
    if paused:
        progressing = condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
    if deadline_exceeded:
        progressing = condition("Progressing", "False", "ProgressDeadlineExceeded",
                                f'ReplicaSet "{name}" has timed out progressing.')
    has_min = available >= max(replicas - max(replicas // 4, 1 if replicas else 0), 0)
    conditions = [condition("Available", "True" if has_min else "False",
                            "MinimumReplicasAvailable" if has_min else "MinimumReplicasUnavailable",
                            "Deployment has minimum availability." if has_min
                            else "Deployment does not have minimum availability."), progressing]
    status: Obj = {"observedGeneration": generation, "replicas": total, "updatedReplicas": updated,
                   "readyReplicas": ready, "availableReplicas": available, "conditions": conditions}
    if total - available > 0:
        status["unavailableReplicas"] = total - available
    spec: Obj = {"replicas": replicas, "selector": _selector(template["metadata"]["labels"]), "template": template,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
    if paused:
        spec["paused"] = True
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(name, ns, labels={"app": name}, generation=generation), "spec": spec,
            "status": _clean(status)}


def replicaset(name: str, ns: str, template: Obj, owner: Obj, *, replicas: int, ready: int, revision: int) -> Obj:
    data = meta(name, ns, labels=template["metadata"]["labels"], owner=owner, generation=1)
    data["annotations"] = {"deployment.kubernetes.io/revision": str(revision)}
    status = {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready,
              "availableReplicas": ready, "observedGeneration": 1}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": data,
            "spec": {"replicas": replicas, "selector": _selector(template["metadata"]["labels"]), "template": template},
            "status": _clean(status)}


def statefulset(name: str, ns: str, template: Obj, *, replicas: int, ready: int, updated: int) -> Obj:
    current = f"{name}-7c9d8f6b5"
    update = current if updated >= replicas else f"{name}-5f4b8c7d9"
    status = {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready,
              "currentReplicas": replicas - updated if update != current else replicas, "updatedReplicas": updated,
              "availableReplicas": ready, "currentRevision": current, "updateRevision": update, "collisionCount": 0}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": meta(name, ns, labels={"app": name}, generation=1),
            "spec": {"replicas": replicas, "selector": _selector(template["metadata"]["labels"]), "template": template,
                     "serviceName": name, "podManagementPolicy": "OrderedReady",
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
            "status": _clean(status)}


def daemonset(name: str, ns: str, template: Obj, *, desired: int, ready: int, updated: int) -> Obj:
    status = {"currentNumberScheduled": desired, "desiredNumberScheduled": desired, "numberMisscheduled": 0,
              "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": updated,
              "observedGeneration": 1}
    if desired - ready:
        status["numberUnavailable"] = desired - ready
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": meta(name, ns, labels={"app": name}, generation=1),
            "spec": {"selector": _selector(template["metadata"]["labels"]), "template": template,
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                     "revisionHistoryLimit": 10},
            "status": _clean(status)}


def job(name: str, ns: str, template: Obj, *, outcome: str, active: int, succeeded: int, failed: int,
        owner: Obj | None = None, completions: int = 1, suspended: bool = False, at: str = EPOCH) -> Obj:
    """outcome: "Complete", "Failed" or "" (still running)."""
    template = {"metadata": template["metadata"], "spec": dict(template["spec"], restartPolicy="Never")}
    status: Obj = {"active": active, "succeeded": succeeded, "failed": failed, "startTime": at, "ready": active}
    if outcome == "Complete":
        status["conditions"] = [condition("SuccessCriteriaMet", "True", "CompletionsReached", at=at),
                                condition("Complete", "True", "CompletionsReached", at=at)]
        status["completionTime"] = at
    elif outcome == "Failed":
        status["conditions"] = [condition("FailureTarget", "True", "BackoffLimitExceeded",
                                          "Job has reached the specified backoff limit", at=at),
                                condition("Failed", "True", "BackoffLimitExceeded",
                                          "Job has reached the specified backoff limit", at=at)]
    elif suspended:
        status["conditions"] = [condition("Suspended", "True", "JobSuspended", "Job suspended", at=at)]
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": meta(name, ns, labels={"job-name": name}, owner=owner, generation=1),
            "spec": {"completions": completions, "parallelism": 1, "backoffLimit": 3, "suspend": suspended,
                     "completionMode": "NonIndexed", "template": template},
            "status": _clean(status)}


def cronjob(name: str, ns: str, template: Obj, *, schedule: str, suspended: bool, last_job: str | None,
            at: str = EPOCH) -> Obj:
    status: Obj = {}
    if last_job:
        status = {"lastScheduleTime": at, "active": []}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(name, ns, labels={"app": name}, generation=1),
            "spec": {"schedule": schedule, "suspend": suspended, "concurrencyPolicy": "Forbid",
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                     "jobTemplate": {"metadata": {}, "spec": {"template": {
                         "metadata": template["metadata"],
                         "spec": dict(template["spec"], restartPolicy="OnFailure")}}}},
            "status": status}


def _clean(status: Obj) -> Obj:
    """The server omits zero counters (omitempty)."""
    return {k: v for k, v in status.items() if v not in (0, None) or k in ("replicas", "currentNumberScheduled",
                                                                            "desiredNumberScheduled",
                                                                            "numberMisscheduled", "numberReady")}
