"""What the emulated Marathon announces on its event bus when its state changes.

The real Marathon publishes an event for every change it makes or sees: a task's state
(`status_update_event`), a task's health (`health_status_changed_event`), an app created, changed
or removed (`api_post_event`, `app_terminated_event`), a deployment begun or ended
(`deployment_info`, `deployment_success`), a pod changed. A scenario that moves on (`Timeline`)
swaps the whole state; `changes` tells what the new one announces against the old one.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

from sim.marathon.model import App, MarathonState, Task
from sim.marathon.scenario import iso

Announcement = tuple[str, dict[str, Any]]


def changes(old: MarathonState, new: MarathonState) -> Iterator[Announcement]:
    now = iso(time.time())
    before = {app.id: app for app in old.apps}
    for app in new.apps:
        was = before.pop(app.id, None)
        if was is None:
            yield "api_post_event", {"uri": f"/v2/apps{app.id}", "appDefinition": {"id": app.id}, "timestamp": now}
        elif was != app:
            yield from app_changes(was, app, now)
    for gone in before.values():
        yield "app_terminated_event", {"appId": gone.id, "timestamp": now}
    running_before = {d.id: d for d in old.deployments}
    for deployment in new.deployments:
        if running_before.pop(deployment.id, None) is None:
            yield "deployment_info", {"plan": {"id": deployment.id}, "timestamp": now}
    for done in running_before.values():
        yield "deployment_success", {"id": done.id, "timestamp": now}
    pods_before = {pod.id: pod for pod in old.pods}
    for pod in new.pods:
        if pods_before.pop(pod.id, None) != pod:
            yield "pod_updated_event", {"uri": f"/v2/pods{pod.id}", "timestamp": now}
    for pod_id in pods_before:
        yield "pod_deleted_event", {"uri": f"/v2/pods{pod_id}", "timestamp": now}


def app_changes(old: App, new: App, now: str) -> Iterator[Announcement]:
    tasks_before = {task.id: task for task in old.tasks}
    announced = False
    for task in new.tasks:
        was = tasks_before.pop(task.id, None)
        if was is None or was.state != task.state:
            announced = True
            yield "status_update_event", status_update(task, task.state, now)
        elif alive(was) != alive(task):
            announced = True
            yield "health_status_changed_event", {"appId": task.app_id, "taskId": task.id, "instanceId": task.id,
                                                  "alive": alive(task), "timestamp": now}
    for gone in tasks_before.values():
        announced = True
        yield "status_update_event", status_update(gone, "TASK_KILLED", now)
    if not announced:  # the app itself: scaled, redefined, a failure recorded
        yield "api_post_event", {"uri": f"/v2/apps{new.id}", "appDefinition": {"id": new.id}, "timestamp": now}


def status_update(task: Task, state: str, now: str) -> dict[str, Any]:
    return {"appId": task.app_id, "taskId": task.id, "slaveId": task.agent_id, "host": task.host,
            "taskStatus": state, "message": "", "version": task.version, "timestamp": now}


def alive(task: Task) -> bool | None:
    return None if not task.health else all(result.alive for result in task.health)
