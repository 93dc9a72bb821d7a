"""The emulated Marathon speaks Marathon's wire format: routes, embeds, schema, events, auth, standbys."""
from __future__ import annotations

import json

import jsonschema
import pytest
import requests

from sim.marathon import build
from sim.mesos import Auth
from tests.sim.marathon.harness import running
from tests.upstream import upstream_json, upstream_path

RESPONSE_ONLY = {"tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments", "tasks",
                 "lastTaskFailure", "taskStats", "readinessCheckResults"}


@pytest.fixture(scope="module")
def scenario():
    return build(0)


@pytest.fixture(scope="module")
def cluster(scenario):
    with running(scenario) as started:
        yield started


def get(cluster, path, **kwargs):
    return requests.get(cluster.marathon.url + path, timeout=30, **kwargs)


def test_ping_answers_pong(cluster):
    response = get(cluster, "/ping")
    assert (response.status_code, response.text) == (200, "pong")


def test_info_and_leader_name_this_instance_as_elected_leader(cluster):
    info = get(cluster, "/v2/info").json()
    address = cluster.marathon.url.removeprefix("http://")
    assert (info["name"], info["elected"], info["leader"]) == ("marathon", True, address)
    assert get(cluster, "/v2/leader").json() == {"leader": address}
    assert get(cluster, "/v2/info").headers["X-Marathon-Leader"] == cluster.marathon.url


def test_apps_embed_counts_and_deployments_by_default_but_not_tasks(cluster, scenario):
    apps = get(cluster, "/v2/apps").json()["apps"]
    assert len(apps) == len(scenario.marathon.apps)
    assert all("tasksRunning" in a and "deployments" in a and "tasks" not in a for a in apps)


@pytest.mark.parametrize("embed, key", [("apps.tasks", "tasks"), ("apps.taskStats", "taskStats"),
                                        ("apps.readiness", "readinessCheckResults")])
def test_each_embed_adds_its_field(cluster, embed, key):
    apps = get(cluster, "/v2/apps", params={"embed": embed}).json()["apps"]
    assert all(key in a for a in apps)


def test_last_task_failure_is_embedded_only_where_there_is_one(cluster, scenario):
    apps = get(cluster, "/v2/apps", params={"embed": "apps.lastTaskFailure"}).json()["apps"]
    failed = {a["id"] for a in apps if "lastTaskFailure" in a}
    assert failed == set(scenario.expected.task_failures)


def test_every_app_definition_validates_against_marathons_schema(cluster):
    schema = json.loads(upstream_path("specs/marathon/AppDefinition.schema.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    for app in get(cluster, "/v2/apps", params={"embed": ["apps.tasks", "apps.lastTaskFailure"]}).json()["apps"]:
        definition = {k: v for k, v in app.items() if k not in RESPONSE_ONLY}
        errors = [e.message for e in validator.iter_errors(definition)]
        assert errors == [], app["id"]


def test_recorded_group_apps_validate_against_the_same_schema():
    schema = json.loads(upstream_path("specs/marathon/AppDefinition.schema.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    tools = upstream_json("marathon/v2-groups.json")["groups"][0]
    assert [list(validator.iter_errors(app)) for app in tools["apps"]] == [[], []]


def test_single_app_and_its_tasks(cluster, scenario):
    app = scenario.marathon.apps[1]
    body = get(cluster, f"/v2/apps{app.id}", params={"embed": "app.tasks"}).json()["app"]
    assert (body["id"], len(body["tasks"])) == (app.id, len(app.tasks))
    assert len(get(cluster, f"/v2/apps{app.id}/tasks").json()["tasks"]) == len(app.tasks)


def test_unknown_app_is_404_with_marathons_message(cluster):
    response = get(cluster, "/v2/apps/nope")
    assert (response.status_code, response.json()) == (404, {"message": "App '/nope' does not exist"})


def test_tasks_filter_by_status(cluster, scenario):
    staging = get(cluster, "/v2/tasks", params={"status": "staging"}).json()["tasks"]
    assert {t["state"] for t in staging} == {"TASK_STAGING"}
    assert len(staging) == sum(t.state == "TASK_STAGING" for a in scenario.marathon.apps for t in a.tasks)


def test_groups_form_a_tree_holding_every_app(cluster, scenario):
    def app_ids(group):
        return [a["id"] for a in group["apps"]] + [i for g in group["groups"] for i in app_ids(g)]

    root = get(cluster, "/v2/groups").json()
    assert root["id"] == "/"
    assert sorted(app_ids(root)) == sorted(a.id for a in scenario.marathon.apps)


def test_pod_status_has_the_raml_shape(cluster, scenario):
    statuses = get(cluster, "/v2/pods/::status").json()
    assert [s["id"] for s in statuses] == [p.id for p in scenario.marathon.pods]
    for status in statuses:
        assert {"id", "spec", "status", "statusSince", "instances", "lastUpdated", "lastChanged"} <= set(status)
        assert status["status"] in ("DEGRADED", "STABLE", "TERMINAL")
        for instance in status["instances"]:
            assert instance["status"] in ("PENDING", "STAGING", "STABLE", "DEGRADED", "TERMINAL")
            assert {"id", "agentId", "agentHostname", "containers", "resources"} <= set(instance)
    pod = scenario.marathon.pods[0]
    assert get(cluster, f"/v2/pods{pod.id}::status").json()["id"] == pod.id
    assert get(cluster, f"/v2/pods{pod.id}").json()["scaling"]["instances"] == pod.instances


def test_queue_reports_offer_rejections_and_delays(cluster, scenario):
    queue = {q["app"]["id"]: q for q in get(cluster, "/v2/queue").json()["queue"]}
    assert set(queue) == {a.id for a in scenario.marathon.apps if a.queue}
    for item in queue.values():
        assert {"count", "delay", "since", "processedOffersSummary", "role"} <= set(item)


def test_deployments_list_affected_apps(cluster, scenario):
    deployments = get(cluster, "/v2/deployments").json()
    assert [d["affectedApps"] for d in deployments] == [d.apps for d in scenario.marathon.deployments]


def test_metrics_count_apps(cluster, scenario):
    gauges = get(cluster, "/metrics").json()["gauges"]
    assert gauges["marathon.apps.active.gauge"]["value"] == len(scenario.marathon.apps)


def test_event_stream_needs_the_event_stream_accept_header(cluster):
    response = get(cluster, "/v2/events")
    assert response.status_code == 405
    assert "HTTP ERROR: 405" in response.text


def test_event_stream_attaches_then_delivers_published_events(cluster):
    with requests.get(cluster.marathon.url + "/v2/events", headers={"Accept": "text/event-stream"},
                      params={"event_type": "status_update_event"}, stream=True, timeout=30) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines()
        assert next(lines) == b"event: event_stream_attached"
        assert json.loads(next(lines).removeprefix(b"data: "))["eventType"] == "event_stream_attached"
        cluster.marathon_api.publish("deployment_info", {"plan": {}})  # filtered out
        cluster.marathon_api.publish("status_update_event", {"taskId": "t1", "taskStatus": "TASK_FAILED"})
        data = next(line for line in lines if line.startswith(b"data: "))
        payload = json.loads(data.removeprefix(b"data: "))
    assert payload["taskStatus"] == "TASK_FAILED"


def test_mutating_requests_are_refused_and_recorded(cluster):
    assert requests.post(cluster.marathon.url + "/v2/apps", json={"id": "/x"}, timeout=30).status_code == 405
    assert "POST" in cluster.marathon.methods_seen()


def test_token_auth_challenges_with_acsjwt(scenario):
    with running(scenario, auth=Auth(token="t0ken")) as cluster:
        refused = get(cluster, "/v2/apps")
        allowed = get(cluster, "/v2/apps", headers={"Authorization": "token=t0ken"})
        ping = get(cluster, "/ping")
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, "acsjwt")
    assert (allowed.status_code, ping.status_code) == (200, 200)


def test_basic_auth_challenges_with_a_realm(scenario):
    with running(scenario, auth=Auth(username="u", password="p")) as cluster:
        refused = get(cluster, "/v2/info")
        allowed = get(cluster, "/v2/info", auth=("u", "p"))
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, 'Basic realm="Mesosphere"')
    assert allowed.status_code == 200


def test_standby_redirects_v2_to_the_leader_keeping_the_query(scenario):
    with running(scenario, standbys=True) as cluster:
        standby = cluster.standbys[0]
        response = requests.get(standby.url + "/v2/apps", params={"embed": "apps.tasks"}, allow_redirects=False,
                                timeout=30)
        leader = requests.get(standby.url + "/v2/leader", timeout=30).json()
    assert response.status_code == 307
    assert response.headers["Location"] == f"{cluster.marathon.url}/v2/apps?embed=apps.tasks"
    assert leader == {"leader": cluster.marathon.url.removeprefix("http://")}
