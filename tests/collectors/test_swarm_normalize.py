"""Swarm normalization on payloads recorded by the Docker project (read in place, never copied)."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from collectors.swarm.fetch import read_answers
from collectors.swarm.normalize import SwarmRaw, local_task_health, normalize
from collectors.swarm.wire import ContainerSummary
from collectors.toolkit import convert
from fleet.source import MalformedPayload
from tests.upstream import upstream_json

ENDPOINT = "unix:///var/run/docker.sock"


def raw(**overrides) -> SwarmRaw:
    """The engine's answers as the collector reads them, through the same shape checks."""
    values = dict(version={"Version": "28.3.1"}, nodes=upstream_json("swarm/nodes-docker-node-inspect-cli-docs.json"),
                  services=upstream_json("swarm/services-api1.24.json"), tasks=upstream_json("swarm/tasks-api1.51.json"))
    values.update(overrides)
    return read_answers(ENDPOINT, **values)


def containers(payload: list[dict]) -> list[ContainerSummary]:
    return convert(payload, list[ContainerSummary], "GET /containers/json")


def test_documented_manager_node_maps_to_a_ready_leader():
    [node] = normalize(raw()).nodes
    assert (node.id, node.name, node.status, node.schedulable) == ("e216jshn25ckzbvmwlnh5jr3g", "swarm-manager",
                                                                    "ready", True)
    assert node.roles == ["manager", "leader"]
    assert (node.address, node.cpu_capacity_cores, node.mem_capacity_bytes) == ("168.0.32.137", 1.0, 1039843328)
    assert (node.cpu_allocatable_cores, node.mem_allocatable_bytes) == (1.0, 1039843328)
    assert (node.version, node.os, node.arch) == ("17.06.0-ce", "linux", "x86_64")


def test_node_labels_and_zone_label():
    node_item = upstream_json("swarm/node-item-api1.30.json")
    node_item = copy.deepcopy(node_item)
    node_item["Spec"]["Labels"]["zone"] = "eu-1a"
    [node] = normalize(raw(nodes=[node_item])).nodes
    assert node.labels == {"foo": "bar", "zone": "eu-1a"} and node.zone == "eu-1a"
    assert node.cpu_capacity_cores == 4.0


def test_newest_task_in_a_slot_is_the_current_instance():
    data = normalize(raw())
    [instance] = data.instances
    assert (instance.id, instance.name, instance.state) == ("0kzzo1i0y4jz6027t0k7aezc7", "hopeful_cori.1", "running")
    assert instance.node_id == "60gvrl6tm78dmak4yl7srz94v"
    assert instance.started_at == datetime(2016, 6, 7, 21, 7, 31, 290032, tzinfo=timezone.utc)
    assert (instance.restarts, instance.reason, instance.health) == (0, None, "unknown")
    assert data.events == []  # a task shut down for an update is not a problem


def test_service_without_status_counts_running_tasks_itself():
    [workload] = normalize(raw()).workloads
    assert (workload.name, workload.kind, workload.namespace) == ("hopeful_cori", "ReplicatedService", "")
    assert (workload.desired, workload.running, workload.healthy, workload.status) == (1, 1, None, "healthy")
    assert workload.images == ["redis"]


def test_service_status_and_update_state_from_newer_engines():
    service = copy.deepcopy(upstream_json("swarm/service-item-api1.51.json"))
    service["ServiceStatus"] = {"RunningTasks": 1, "DesiredTasks": 3, "CompletedTasks": 0}
    [degraded] = normalize(raw(services=[service])).workloads
    assert (degraded.desired, degraded.running, degraded.status) == (3, 1, "degraded")
    service["UpdateStatus"] = {"State": "updating", "Message": "update in progress"}
    assert normalize(raw(services=[service])).workloads[0].status == "progressing"
    service["ServiceStatus"]["DesiredTasks"] = 0
    del service["UpdateStatus"]
    assert normalize(raw(services=[service])).workloads[0].status == "stopped"


def test_rejected_task_history_becomes_events_and_restarts():
    tasks = copy.deepcopy(upstream_json("swarm/tasks-api1.51.json"))
    older = tasks[1]
    older["Status"].update(State="rejected", Err="No such image: redis:nope")
    data = normalize(raw(tasks=tasks))
    [event] = data.events
    assert (event.severity, event.object, event.reason) == ("warning", "Task/hopeful_cori.1", "TaskRejected")
    assert event.message == "No such image: redis:nope"
    assert data.instances[0].restarts == 1


def test_reservations_are_allocated_to_the_task_node():
    services = copy.deepcopy(upstream_json("swarm/services-api1.24.json"))
    services[0]["Spec"]["TaskTemplate"]["Resources"]["Reservations"] = {"NanoCPUs": 500_000_000,
                                                                       "MemoryBytes": 2**28}
    node = copy.deepcopy(upstream_json("swarm/node-item-api1.30.json"))
    node["ID"] = "60gvrl6tm78dmak4yl7srz94v"
    data = normalize(raw(services=services, nodes=[node]))
    assert (data.nodes[0].cpu_allocated_cores, data.nodes[0].mem_allocated_bytes) == (0.5, 2**28)
    assert (data.workloads[0].cpu_request_cores, data.workloads[0].mem_request_bytes) == (0.5, 2**28)


def test_container_health_is_read_from_the_status_suffix():
    listed = containers([
        {"Labels": {"com.docker.swarm.task.id": "a"}, "Status": "Up 3 minutes (healthy)"},
        {"Labels": {"com.docker.swarm.task.id": "b"}, "Status": "Up 5 seconds (unhealthy)"},
        {"Labels": {"com.docker.swarm.task.id": "c"}, "Status": "Up 1 second (health: starting)"},
        {"Labels": {"com.docker.swarm.task.id": "d"}, "Status": "Up 2 hours"},
        {"Labels": {}, "Status": "Up 2 hours (healthy)"},
    ])
    assert local_task_health(listed) == {"a": "healthy", "b": "unhealthy", "c": "starting"}


def test_recorded_container_list_has_no_swarm_tasks():
    assert local_task_health(containers(upstream_json("swarm/containers-json-api1.42.json"))) == {}


def test_task_health_is_read_from_the_containers_answer():
    listed = [{"Labels": {"com.docker.swarm.task.id": "0kzzo1i0y4jz6027t0k7aezc7"}, "Status": "Up 1 minute (healthy)"}]
    data = normalize(raw(containers=listed))
    assert (data.instances[0].health, data.workloads[0].healthy) == ("healthy", 1)


@pytest.mark.parametrize(("field", "call"), [("nodes", "/nodes"), ("services", "/services"), ("tasks", "/tasks"),
                                             ("containers", "/containers/json")])
def test_wrong_shape_is_a_malformed_payload_naming_the_call(field, call):
    with pytest.raises(MalformedPayload, match=f"^GET {call} on {ENDPOINT}: unexpected shape: Expected `array`"):
        raw(**{field: {"message": "not a list"}})


def test_wrong_field_type_is_a_malformed_payload_naming_the_field():
    tasks = copy.deepcopy(upstream_json("swarm/tasks-api1.51.json"))
    tasks[0]["Slot"] = "one"
    with pytest.raises(MalformedPayload, match=r"GET /tasks on .*: unexpected shape: .*\$\[0\]\.Slot"):
        raw(tasks=tasks)


def service_in_mode(mode: dict) -> dict:
    service = copy.deepcopy(upstream_json("swarm/service-item-api1.51.json"))
    service["Spec"]["Mode"] = mode
    return service


@pytest.mark.parametrize(("mode", "kind", "per_node"), [
    ({"Replicated": {"Replicas": 1}}, "ReplicatedService", False),
    ({"Global": {}}, "GlobalService", True),
    ({"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}, "ReplicatedJob", False),
    ({"GlobalJob": {}}, "GlobalJob", True),
])
def test_only_global_services_and_jobs_run_one_instance_per_node(mode, kind, per_node):
    [workload] = normalize(raw(services=[service_in_mode(mode)])).workloads
    assert (workload.kind, workload.per_node) == (kind, per_node)


def test_an_older_engines_global_service_counts_tasks_meant_to_run():
    # API < 1.41 has no ServiceStatus: desired = tasks whose desired state is running (one per
    # eligible node), running = those of them running
    service = service_in_mode({"Global": {}})
    tasks = copy.deepcopy(upstream_json("swarm/tasks-api1.51.json"))
    for task in tasks:
        task["ServiceID"] = service["ID"]
    tasks[1]["Status"]["State"] = "running"  # replaced already: its node has not said it stopped
    [workload] = normalize(raw(services=[service], tasks=tasks)).workloads
    assert (workload.desired, workload.running) == (1, 1)


def test_the_version_names_the_engine_and_the_api_read_with():
    data = normalize(SwarmRaw(**{**vars(raw()), "api_version": "1.40"}))
    assert data.version == "Docker 28.3.1 (API 1.40)"
    assert normalize(raw()).version == "28.3.1"  # a recording: no API version known
