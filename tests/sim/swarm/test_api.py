"""The emulated Engine API: versions, errors, filters, status counts, events, read-only."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from sim.swarm import build, start
from tests.upstream import upstream_json
from tests.sim.swarm.shape import shape


@pytest.fixture(scope="module")
def swarm():
    with start(build(0, nodes=12, services=8, history=2)) as cluster:
        yield cluster


def get(swarm, path: str, **params):
    return requests.get(swarm.url + path, params=params, timeout=10)


def test_ping_announces_the_api_version_and_swarm_role(swarm):
    answer = requests.head(swarm.url + "/_ping", timeout=5)
    assert (answer.status_code, answer.headers["Api-Version"], answer.headers["Swarm"]) == (200, "1.47", "active/manager")
    assert get(swarm, "/_ping").text == "OK"


@pytest.mark.parametrize("version", ["1.24", "1.30", "1.40", "1.41", "1.45", "1.47"])
def test_every_version_from_1_24_to_1_47_is_served(swarm, version):
    assert get(swarm, f"/v{version}/nodes").status_code == 200


def test_a_too_new_version_is_refused_in_the_engine_words(swarm):
    answer = get(swarm, "/v1.48/nodes")
    assert answer.status_code == 400
    assert answer.json() == {"message": "client version 1.48 is too new. Maximum supported API version is 1.47"}


def test_a_too_old_version_is_refused_in_plain_text(swarm):
    answer = get(swarm, "/v1.23/nodes")
    assert (answer.status_code, answer.headers["Content-Type"]) == (400, "text/plain; charset=utf-8")
    assert answer.text.startswith("client version 1.23 is too old. Minimum supported API version is 1.24")


def test_service_status_comes_with_status_true_from_api_1_41(swarm):
    assert all("ServiceStatus" in s for s in get(swarm, "/v1.41/services", status="true").json())
    assert not any("ServiceStatus" in s for s in get(swarm, "/v1.40/services", status="true").json())
    assert not any("ServiceStatus" in s for s in get(swarm, "/v1.47/services").json())


def test_tasks_filter_by_service_name_or_id_in_both_filter_forms(swarm):
    service = get(swarm, "/services").json()[0]
    by_id = get(swarm, "/tasks", filters=json.dumps({"service": {service["ID"]: True}})).json()
    by_name = get(swarm, "/tasks", filters=json.dumps({"service": [service["Spec"]["Name"]]})).json()
    assert by_id == by_name and by_id and {t["ServiceID"] for t in by_id} == {service["ID"]}


def test_tasks_filter_by_desired_state(swarm):
    running = get(swarm, "/tasks", filters=json.dumps({"desired-state": ["running"]})).json()
    assert running and {t["DesiredState"] for t in running} == {"running"}


def test_each_slot_keeps_at_most_five_tasks(swarm):
    slots: dict[tuple, int] = {}
    for task in get(swarm, "/tasks").json():
        key = (task["ServiceID"], task.get("Slot") or task.get("NodeID"))
        slots[key] = slots.get(key, 0) + 1
    assert max(slots.values()) == 5


def test_an_unknown_filter_is_a_bad_request(swarm):
    answer = get(swarm, "/tasks", filters=json.dumps({"colour": ["red"]}))
    assert (answer.status_code, answer.json()) == (400, {"message": "invalid filter 'colour'"})


def test_nodes_and_services_are_found_by_id_name_or_prefix(swarm):
    node = get(swarm, "/nodes").json()[0]
    for key in (node["ID"], node["Description"]["Hostname"], node["ID"][:6]):
        assert get(swarm, f"/nodes/{key}").json()["ID"] == node["ID"]
    assert get(swarm, "/services/nope").json() == {"message": "service nope not found"}


def test_a_worker_refuses_cluster_reads_with_503():
    scenario = build(0, nodes=6, services=4)
    worker = next(n for n in scenario.nodes if n.role == "worker")
    with start(scenario.__class__(**{**scenario.__dict__, "local": worker.hostname})) as cluster:
        answer = requests.get(cluster.url + "/v1.47/nodes", timeout=5)
        info = requests.get(cluster.url + "/info", timeout=5).json()["Swarm"]
    assert answer.status_code == 503 and "Worker nodes can't be used to view or modify cluster state" in answer.json()["message"]
    assert (info["ControlAvailable"], "Cluster" in info) == (False, False)


def test_an_engine_outside_a_swarm_says_so():
    scenario = build(0, nodes=4, services=2)
    with start(scenario.__class__(**{**scenario.__dict__, "swarm_active": False})) as cluster:
        answer = requests.get(cluster.url + "/services", timeout=5)
    assert answer.status_code == 503 and 'Use "docker swarm init"' in answer.json()["message"]


def test_only_reads_are_served(swarm):
    assert requests.post(swarm.url + "/v1.47/nodes", timeout=5).status_code == 404
    assert requests.put(swarm.url + "/v1.47/nodes", timeout=5).status_code == 405


def test_past_events_are_replayed_between_since_and_until(swarm):
    events = [json.loads(line) for line in get(swarm, "/events", since="0", until=str(int(time.time()))).text.splitlines()]
    assert {e["Type"] for e in events} >= {"node", "service"}
    nodes = get(swarm, "/events", since="0", until=str(int(time.time())),
                filters=json.dumps({"type": ["node"]})).text.splitlines()
    assert nodes and all(json.loads(line)["Type"] == "node" for line in nodes)


def test_a_change_is_streamed_to_a_waiting_client():
    scenario = build(0, nodes=8, services=4, problems=False)
    with start(scenario) as cluster:
        received: list[dict] = []
        since = f"{time.time():.9f}"  # a listener that connects late still gets the change

        def listen() -> None:
            with requests.get(cluster.url + "/events", params={"filters": json.dumps({"type": ["node"]}), "since": since},
                              stream=True, timeout=10) as answer:
                for line in answer.iter_lines():
                    if line:
                        received.append(json.loads(line))
                        return
        listener = threading.Thread(target=listen)
        listener.start()
        time.sleep(0.3)
        cluster.update(scenario.with_node("wrk-0005", availability="drain"))
        listener.join(timeout=10)
    assert received and received[0]["Action"] == "update"
    assert received[0]["Actor"]["Attributes"]["availability.new"] == "drain"


@pytest.mark.parametrize("fixture, path", [
    ("swarm/node-item-api1.30.json", "/nodes"), ("swarm/nodes-docker-node-inspect-cli-docs.json", "/nodes"),
    ("swarm/tasks-api1.51.json", "/tasks"), ("swarm/task-item-api1.51.json", "/tasks"),
    ("swarm/service-item-api1.51.json", "/services"), ("swarm/services-api1.24.json", "/services"),
    ("swarm/containers-json-api1.42.json", "/containers/json")])
def test_fields_shared_with_upstream_examples_have_their_types(swarm, fixture, path):
    recorded = upstream_json(fixture)
    seen, _ = shape(recorded if isinstance(recorded, list) else [recorded])
    made, _ = shape(get(swarm, path).json())
    shared = set(seen) & set(made)
    assert len(shared) > 10
    conflicts = {p: (seen[p], made[p]) for p in shared if (seen[p] - {"null"}) and (made[p] - {"null"}) and
                 (seen[p] - {"null"}) != (made[p] - {"null"})}
    assert conflicts == {}


def test_a_change_on_the_wall_clock_leaves_the_times_of_what_it_did_not_touch():
    scenario = build(0, nodes=8, services=4, problems=False)
    assert scenario.now_s is None
    with start(scenario) as cluster:
        before = {t["ID"]: t for t in requests.get(cluster.url + "/tasks", timeout=10).json()}
        nodes_before = requests.get(cluster.url + "/nodes", timeout=10).json()
        services_before = requests.get(cluster.url + "/services", timeout=10).json()
        time.sleep(1.1)  # a later second: a re-stamped object would show it
        first, second = scenario.services[0], scenario.services[1]
        cluster.update(scenario.with_service(first.name, replicas=first.replicas + 1))
        between = {t["ID"]: t for t in requests.get(cluster.url + "/tasks", timeout=10).json()}
        time.sleep(1.1)
        cluster.update(cluster.scenario.with_service(second.name, replicas=second.replicas + 1))
        after = {t["ID"]: t for t in requests.get(cluster.url + "/tasks", timeout=10).json()}
        nodes_after = requests.get(cluster.url + "/nodes", timeout=10).json()
        services_after = {s["Spec"]["Name"]: s for s in requests.get(cluster.url + "/services", timeout=10).json()}
    assert {t["ServiceID"] for t in after.values()} == {t["ServiceID"] for t in before.values()}
    new = [task for task_id, task in between.items() if task_id not in before]
    assert len(new) == 1 and new[0]["Slot"] == first.replicas + 1
    assert all(between[task_id] == before[task_id] for task_id in before)  # the other slots too
    # a second change leaves both what the first one made and what was there before it
    assert len(after) == len(between) + 1
    assert all(after[task_id] == task for task_id, task in between.items())
    assert nodes_after == nodes_before
    untouched = [s for s in services_before if s["Spec"]["Name"] not in (first.name, second.name)]
    assert untouched and all(services_after[s["Spec"]["Name"]] == s for s in untouched)


def test_a_service_change_is_an_event_but_a_task_failing_elsewhere_is_not():
    scenario = build(0, nodes=8, services=4, problems=False)
    with start(scenario) as cluster:
        since = f"{time.time():.9f}"
        first = scenario.services[0]
        cluster.update(scenario.with_service(first.name, replicas=first.replicas + 1))
        cluster.update(cluster.scenario.with_service(scenario.services[1].name, failure="unhealthy"))
        events = [json.loads(line) for line in requests.get(
            cluster.url + "/events", params={"since": since, "until": f"{time.time():.9f}",
                                             "filters": json.dumps({"type": ["service"]})}, timeout=10).text.splitlines()]
    assert [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in events] == [("update", first.name)]
    assert events[0]["Actor"]["Attributes"]["replicas.new"] == str(first.replicas + 1)
