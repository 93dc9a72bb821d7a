"""The emulated Mesos master: legacy JSON endpoints, standby redirects, auth, verbatim payloads."""
from __future__ import annotations

import pytest
import requests

from sim.httpserver import EmulatorServer
from sim.marathon import build
from sim.mesos import Auth, MesosMaster
from tests.sim.marathon.harness import running
from tests.upstream import upstream_json


@pytest.fixture(scope="module")
def scenario():
    return build(0)


@pytest.fixture(scope="module")
def cluster(scenario):
    with running(scenario, standbys=True) as started:
        yield started


def get(server, path, **kwargs):
    return requests.get(server.url + path, timeout=30, allow_redirects=False, **kwargs)


def test_version(cluster, scenario):
    assert get(cluster.mesos, "/version").json()["version"] == scenario.mesos.version


def test_state_summary_lists_agents_with_task_counts(cluster, scenario):
    summary = get(cluster.mesos, "/master/state-summary").json()
    agents = {a["id"]: a for a in summary["slaves"]}
    assert set(agents) == {a.id for a in scenario.mesos.agents}
    assert sum(a["TASK_RUNNING"] for a in agents.values()) == sum(
        a.task_counts.get("TASK_RUNNING", 0) for a in scenario.mesos.agents)
    assert [f["name"] for f in summary["frameworks"]] == ["marathon"]


def test_draining_and_deactivated_agents_say_so(cluster):
    agents = get(cluster.mesos, "/master/slaves").json()["slaves"]
    draining = [a for a in agents if "drain_info" in a]
    assert [(a["drain_info"]["state"], a["active"], a["deactivated"]) for a in draining] == [
        ("DRAINING", False, True)]
    assert sum(not a["active"] and a["deactivated"] for a in agents) == 2
    assert sum(not a["active"] and not a["deactivated"] for a in agents) == 1


def test_agents_have_fault_domains_and_reservations(cluster):
    agents = get(cluster.mesos, "/master/slaves").json()["slaves"]
    assert agents[0]["domain"] == {"fault_domain": {"region": {"name": "eu-west-1"}, "zone": {"name": "eu-west-1a"}}}
    public = next(a for a in agents if a["reserved_resources"])
    assert public["reserved_resources"]["slave_public"]["cpus"] == 2.0
    assert public["unreserved_resources"]["cpus"] == public["resources"]["cpus"] - 2.0


def test_state_and_frameworks_carry_marathons_tasks(cluster, scenario):
    state = get(cluster.mesos, "/master/state").json()
    (framework,) = get(cluster.mesos, "/master/frameworks").json()["frameworks"]
    assert len(state["frameworks"][0]["tasks"]) == len(framework["tasks"]) == len(scenario.mesos.tasks)
    assert state["activated_slaves"] == sum(a.active for a in scenario.mesos.agents)


def test_metrics_snapshot_agrees_with_the_agents(cluster, scenario):
    metrics = get(cluster.mesos, "/metrics/snapshot").json()
    assert metrics["master/slaves_active"] == sum(a.active for a in scenario.mesos.agents)
    assert metrics["master/cpus_total"] == sum(a.cpus for a in scenario.mesos.agents)


@pytest.mark.parametrize("path", ["/master/state-summary", "/master/state", "/master/slaves", "/master/frameworks"])
def test_standby_redirects_state_endpoints_scheme_relative(cluster, path):
    response = get(cluster.standbys[1], path)
    assert response.status_code == 307
    assert response.headers["Location"] == f"//{cluster.mesos.url.removeprefix('http://')}{path}"


def test_standby_answers_version_and_metrics_itself(cluster):
    assert get(cluster.standbys[1], "/version").status_code == 200
    assert get(cluster.standbys[1], "/metrics/snapshot").status_code == 200


def test_redirect_endpoint_names_the_leader_on_every_master(cluster):
    leader = cluster.mesos.url.removeprefix("http://")
    assert get(cluster.mesos, "/master/redirect").headers["Location"] == f"//{leader}"
    assert get(cluster.standbys[1], "/master/redirect").headers["Location"] == f"//{leader}"


def test_no_leader_elected_is_503(scenario):
    with EmulatorServer(MesosMaster(lambda: scenario.mesos, leader="")) as server:
        response = get(server, "/master/state-summary")
    assert (response.status_code, response.text) == (503, "No leader elected")


def test_basic_auth_is_required_when_set(scenario):
    with EmulatorServer(MesosMaster(lambda: scenario.mesos, auth=Auth(username="u", password="p"))) as server:
        refused = get(server, "/master/state-summary")
        allowed = get(server, "/master/state-summary", auth=("u", "p"))
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, 'Basic realm="mesos"')
    assert allowed.status_code == 200


def test_recorded_payload_is_served_verbatim(scenario):
    recorded = upstream_json("mesos/master-state-0.22-dd-agent.json")
    with EmulatorServer(MesosMaster(lambda: scenario.mesos, verbatim={"/master/state": recorded})) as server:
        assert get(server, "/master/state").json() == recorded


def test_mutating_methods_are_refused(cluster):
    assert requests.post(cluster.mesos.url + "/master/teardown", timeout=30).status_code == 405
