"""Marathon and Mesos normalizers on the payloads recorded by the upstream projects, exact values.

Every file in the shared marathon/ and mesos/ fixture folders is either normalized here or listed
in NOT_READ with the reason Podium never reads that shape, so a new fixture forces a decision.
"""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec
import pytest

from collectors.marathon.apps import app_workload, deployment_event, pod_workload, queue_problem, task_instance
from collectors.marathon.mesos import to_nodes
from collectors.marathon.normalize import MarathonRaw, normalize
from collectors.marathon.wire import AgentList, App, AppList, Deployment, Info, PodSpec, PodStatus, Queue, Task
from tests.upstream import upstream_json, upstream_path

MIB = 1024 * 1024
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

NOT_READ = {
    "marathon/v2-deployment-result.json": "answer to POST/PUT/DELETE; Podium only reads",
    "marathon/v2-groups.json": "definitions only; /v2/apps has the same apps with their status (schema test in sim)",
    "marathon/v2-groups-embed-apps-tasks-vip-dcos-ui.json": "a /v2/groups tree; Podium reads the same apps and tasks "
                                                            "from /v2/apps",
    "mesos/agent-state-json-0.22-dd-agent.json": "an agent's own endpoint; Podium asks only the master",
    "mesos/agent-stats-json-0.22-dd-agent.json": "an agent's own endpoint; Podium asks only the master",
    "mesos/master-roles-json-dd-agent.json": "roles are not part of the model",
    "mesos/master-stats-json-0.22-dd-agent.json": "legacy metrics, removed in Mesos 1.x",
    "mesos/v1-operator-GET_FRAMEWORKS.json": "v1 operator API is POST-only; Podium only GETs",
    "mesos/v1-operator-GET_MASTER.json": "v1 operator API is POST-only; Podium only GETs",
    "mesos/v1-operator-GET_METRICS.json": "v1 operator API is POST-only; Podium only GETs",
    "mesos/v1-operator-GET_ROLES.json": "v1 operator API is POST-only; Podium only GETs",
    "mesos/v1-operator-GET_STATE.json": "v1 operator API is POST-only; Podium only GETs",
    "mesos/v1-operator-GET_TASKS.json": "v1 operator API is POST-only; Podium only GETs",
    "mesos/v1-operator-GET_VERSION.json": "v1 operator API is POST-only; Podium only GETs",
}
READ = {
    "marathon/v2-apps.json", "marathon/v2-apps-dd-agent.json", "marathon/v2-apps-legacy-0.x.json",
    "marathon/v2-apps-legacy-embed-tasks-lastTaskFailure.json", "marathon/v2-apps-appId-legacy-embed-tasks.json",
    "marathon/v2-apps-appId-tasks.json", "marathon/v2-apps-appId-tasks-taskId.json", "marathon/v2-tasks.json",
    "marathon/v2-tasks-legacy-healthchecks.json", "marathon/v2-queue.json", "marathon/v2-deployments.json",
    "marathon/v2-deployments-dd-agent.json", "marathon/v2-deployments-1.x-client-fixture.json",
    "marathon/v2-info.json", "marathon/v2-pods-podId-definition.json",
    "marathon/v2-apps-embed-tasks-1.5-marathon-lb.json", "marathon/v2-apps-embed-tasks-healthchecks-1.5-marathon-lb.json",
    "marathon/v2-apps-appId-tasks-health-alive-false-openwhisk.json", "mesos/master-state-0.22-dd-agent.json",
    "mesos/master-state-0.28-doc.json",
}


class AppSingle(msgspec.Struct):
    """`GET /v2/apps/{appId}`: Podium reads only the list, but the recorded single-app answers are
    the same App shape."""

    app: App


class TaskList(msgspec.Struct):
    """`GET /v2/tasks` and `/v2/apps/{appId}/tasks`: the same Task shape as the tasks embedded in apps."""

    tasks: list[Task] = []


def load(relative: str, kind: type):
    return msgspec.json.decode(upstream_path(relative).read_bytes(), type=kind)


def one_app(relative: str):
    return load(relative, AppList).apps[0]


def test_every_recorded_payload_is_read_or_has_a_reason_not_to_be():
    folder = upstream_path("marathon").parent
    present = {f"{d}/{p.name}" for d in ("marathon", "mesos") for p in (folder / d).glob("*.json")}
    assert present == READ | set(NOT_READ)


def test_app_list_1x_in_deployment_is_progressing_with_fetch_uri_as_artifact():
    workload = app_workload(one_app("marathon/v2-apps.json"), None)
    assert (workload.id, workload.name, workload.namespace, workload.kind) == ("/myapp", "myapp", "/", "App")
    assert (workload.desired, workload.running, workload.healthy, workload.status) == (3, 0, None, "progressing")
    assert workload.images == ["https://raw.github.com/mesosphere/marathon/master/README.md"]
    assert (workload.cpu_request_cores, workload.mem_request_bytes) == (0.1, 5 * MIB)


def test_dd_agent_app_with_half_its_tasks_healthy_is_degraded():
    workload = app_workload(one_app("marathon/v2-apps-dd-agent.json"), None)
    assert (workload.desired, workload.running, workload.healthy, workload.status) == (10, 10, 5, "degraded")
    assert workload.images == ["my-org/my-image:latest"]
    assert (workload.cpu_request_cores, workload.mem_request_bytes) == (1.0, 512 * MIB)


def test_legacy_0x_app_with_all_tasks_healthy_is_healthy():
    workload = app_workload(one_app("marathon/v2-apps-legacy-0.x.json"), None)
    assert (workload.id, workload.desired, workload.running, workload.healthy) == ("/bridged-webapp", 2, 2, 2)
    assert workload.status == "healthy"
    assert workload.images == ["python:3"]
    assert workload.mem_request_bytes == 64 * MIB


def legacy_failure_raw() -> MarathonRaw:
    return MarathonRaw(collected_at=NOW, info=Info(version="0.7.0"),
                       apps=load("marathon/v2-apps-legacy-embed-tasks-lastTaskFailure.json", AppList))


def test_legacy_staged_task_without_state_is_pending_and_app_progressing():
    data = normalize(legacy_failure_raw())
    (workload,), (instance,) = data.workloads, data.instances
    assert (workload.id, workload.status, workload.running, workload.images) == (
        "/ubuntu", "progressing", 0, ["libmesos/ubun2"])
    assert (instance.id, instance.state, instance.health, instance.started_at) == (
        "ubuntu.55de96ed-503f-11e4-bd18-56847afe9799", "pending", "unknown", None)
    assert instance.node_id is None  # 0.x tasks name only a host, and no master told us its agent id


def test_legacy_last_task_failure_becomes_a_warning_event_at_its_own_time():
    events = [e for e in normalize(legacy_failure_raw()).events if e.reason == "TASK_FAILED"]
    assert len(events) == 1
    assert events[0].time == datetime(2014, 10, 10, 5, 35, 52, 25000, tzinfo=timezone.utc)
    assert (events[0].severity, events[0].object) == ("warning", "App/ubuntu")
    assert events[0].message == ("task ubuntu.4b20f4a9-503f-11e4-bd18-56847afe9799 on 10.141.141.10: "
                                 "Abnormal executor termination")


def test_legacy_single_app_tasks_with_passing_checks_are_running_and_healthy():
    app = load("marathon/v2-apps-appId-legacy-embed-tasks.json", AppSingle).app
    instances = [task_instance(t, app.id, {"10.141.141.10": "agent-S0"}) for t in app.tasks or []]
    assert [(i.state, i.health, i.node_id, i.workload_id) for i in instances] == [
        ("running", "healthy", "agent-S0", "/toggle")] * 2
    assert instances[0].started_at == datetime(2014, 9, 13, 0, 24, 46, 959000, tzinfo=timezone.utc)
    workload = app_workload(app, None)
    assert (workload.status, workload.healthy, workload.images) == (
        "healthy", 2, ["http://downloads.mesosphere.com/misc/toggle.tgz"])


def test_marathon_15_app_without_checks_is_healthy_with_its_task_running_on_its_agent():
    app = one_app("marathon/v2-apps-embed-tasks-1.5-marathon-lb.json")
    workload = app_workload(app, None)
    assert (workload.id, workload.desired, workload.running, workload.healthy, workload.status) == (
        "/pywebserver", 1, 1, None, "healthy")
    assert workload.images == ["python:3"]
    (instance,) = [task_instance(t, app.id, {}) for t in app.tasks or []]
    assert (instance.state, instance.health, instance.node_id) == (
        "running", "unknown", "db7b40e2-791c-445f-b373-183e2a648a86-S1")


def test_marathon_15_app_with_passing_http_checks_is_healthy():
    app = one_app("marathon/v2-apps-embed-tasks-healthchecks-1.5-marathon-lb.json")
    workload = app_workload(app, None)
    assert (workload.desired, workload.running, workload.healthy, workload.status) == (3, 3, 3, "healthy")
    assert [task_instance(t, app.id, {}).health for t in app.tasks or []] == ["healthy"] * 3


def test_lost_tasks_with_failing_checks_are_unhealthy_and_say_lost():
    tasks = load("marathon/v2-apps-appId-tasks-health-alive-false-openwhisk.json", TaskList).tasks
    instances = [task_instance(t, "/myapp", {}) for t in tasks]
    lost = [i for i in instances if i.reason == "TASK_LOST"]
    assert [(i.state, i.health) for i in lost] == [("unknown", "unhealthy")] * 3
    assert sorted((i.state, i.health) for i in instances if i not in lost) == [("running", "healthy")] * 3


@pytest.mark.parametrize("relative", ["marathon/v2-apps-appId-tasks.json", "marathon/v2-apps-appId-tasks-taskId.json"])
def test_staging_task_is_pending_on_its_agent(relative):
    payload = upstream_json(relative)
    tasks = [msgspec.convert(t, type=Task) for t in payload.get("tasks", [payload.get("task")])]
    (instance,) = [task_instance(t, "", {}) for t in tasks]
    assert (instance.id, instance.workload_id, instance.node_id) == (
        "minecraft_survival-world.instance-564bd685-4c30-11e5-98c1-be5b2935a987", "/minecraft/survival-world", "agent0")
    assert (instance.state, instance.health, instance.reason) == ("pending", "unknown", None)


def test_1x_tasks_are_running_on_their_agents():
    instances = [task_instance(t, "", {}) for t in load("marathon/v2-tasks.json", TaskList).tasks]
    assert [(i.workload_id, i.node_id, i.state, i.health) for i in instances] == [
        ("/frontend-foosball", "20150707-153709-201330860-5050-12052-S0", "running", "unknown"),
        ("/tools/docker/registry", "1cc9e7d0-63d6-4e99-9c58-c0b950401ae2-S24", "running", "unknown")]
    assert instances[0].started_at == datetime(2015, 9, 17, 9, 32, 42, 598000, tzinfo=timezone.utc)


def test_legacy_tasks_without_state_but_started_are_running_and_healthy():
    instances = [task_instance(t, "", {}) for t in load("marathon/v2-tasks-legacy-healthchecks.json", TaskList).tasks]
    assert [(i.workload_id, i.state, i.health) for i in instances] == [("/bridged-webapp", "running", "healthy")] * 2


def test_queue_item_using_offers_is_not_stuck():
    datadog, _ = load("marathon/v2-queue.json", Queue).queue
    assert datadog.run_spec_id == "/tools/datadog-agent"
    assert queue_problem(datadog) is None


def test_queue_item_declining_every_offer_names_the_top_rejection_reason():
    _, foo = load("marathon/v2-queue.json", Queue).queue
    problem = queue_problem(foo)
    assert problem is not None
    assert problem.reason == "InsufficientCpus"
    assert problem.message == ("2 instance(s) waiting for offers: none of the last 123 offers fit; declined for "
                               "InsufficientCpus 150, InsufficientMemory 30, InsufficientDisk 20")


def test_stuck_app_from_recorded_queue_is_failed_with_an_error_event():
    apps = msgspec.json.decode(b'{"apps":[{"id":"/foo","instances":1,"tasksRunning":0}]}', type=AppList)
    data = normalize(MarathonRaw(collected_at=NOW, info=Info(), apps=apps, queue=load("marathon/v2-queue.json", Queue)))
    assert data.workloads[0].status == "failed"
    (event,) = data.events
    assert (event.severity, event.object, event.reason) == ("error", "App/foo", "InsufficientCpus")
    assert event.time == datetime(2016, 2, 28, 16, 41, 41, 90000, tzinfo=timezone.utc)


@pytest.mark.parametrize("relative, obj, message", [
    ("marathon/v2-deployments.json", "App/foo",
     "deployment 97c136bf-5a28-4821-9d94-480d9fbb01c8 step 1/1: ScaleApplication /foo"),
    ("marathon/v2-deployments-dd-agent.json", "App/test/frontend/app1",
     "deployment 2e72dbf1-2b2a-4204-b628-e8bd160945dd step 2/9: RestartApplication /test/frontend/app1"),
    ("marathon/v2-deployments-1.x-client-fixture.json", "App/test-trivial-app",
     "deployment 4d2ff4d8-fbe5-4239-a886-f0831ed68d20 step 2/2: ScaleApplication /test-trivial-app"),
])
def test_deployment_becomes_an_info_event_on_its_current_target(relative, obj, message):
    (deployment,) = load(relative, list[Deployment])
    event = deployment_event(deployment, NOW)
    assert (event.severity, event.reason, event.object, event.message) == ("info", "Deployment", obj, message)


def test_deployment_affecting_a_pod_makes_the_pod_progressing():
    (deployment,) = load("marathon/v2-deployments.json", list[Deployment])
    assert deployment.affectedPods == ["/bla"]
    pod = PodStatus(id="/bla", status="STABLE")
    assert pod_workload(pod, "/bla" in deployment.affectedPods).status == "progressing"


def test_info_gives_version_and_mesos_role():
    info = load("marathon/v2-info.json", Info)
    assert (info.version, info.leader, info.elected) == ("1.5.0-SNAPSHOT", "localhost:8080", True)
    assert info.marathon_config is not None and info.marathon_config.mesos_role == "slave_public"


def test_pod_definition_gives_desired_images_and_requests_with_executor():
    spec = load("marathon/v2-pods-podId-definition.json", PodSpec)
    workload = pod_workload(PodStatus(id=spec.id, spec=spec, status="DEGRADED"), False)
    assert (workload.id, workload.kind, workload.desired, workload.running, workload.status) == (
        "/foo", "Pod", 1, 0, "failed")
    assert workload.images == ["mesosphere/marathon:latest"]
    assert (workload.cpu_request_cores, workload.mem_request_bytes) == (1.2, (128 + 64) * MIB)


def test_mesos_022_agent_becomes_a_ready_node_sized_from_flat_resources():
    (node,) = to_nodes(load("mesos/master-state-0.22-dd-agent.json", AgentList).slaves)
    assert (node.id, node.name, node.address) == ("20150410-134224-16777343-5050-1778-S0", "localhost", "127.0.0.1")
    assert (node.status, node.schedulable, node.roles) == ("ready", True, ["agent"])
    assert (node.cpu_capacity_cores, node.mem_capacity_bytes) == (1.0, 244 * MIB)
    assert (node.cpu_allocatable_cores, node.mem_allocatable_bytes) == (1.0, 244 * MIB)
    assert (node.cpu_allocated_cores, node.cpu_used_cores, node.labels, node.zone) == (0.0, None, {}, None)


def test_mesos_022_master_without_used_resources_counts_marathon_tasks_as_allocated():
    agents = load("mesos/master-state-0.22-dd-agent.json", AgentList).slaves
    apps = msgspec.json.decode(b'{"apps":[{"id":"/hello","instances":1,"cpus":1,"mem":100,"tasks":[{"id":"t",'
                               b'"host":"localhost","startedAt":"2015-04-10T13:52:51.615Z"}]}]}', type=AppList)
    (node,) = normalize(MarathonRaw(collected_at=NOW, info=Info(), apps=apps, agents=agents)).nodes
    assert (node.cpu_allocated_cores, node.mem_allocated_bytes) == (1.0, 100 * MIB)


def test_mesos_028_state_without_agents_gives_no_nodes():
    assert to_nodes(load("mesos/master-state-0.28-doc.json", AgentList).slaves) == []
