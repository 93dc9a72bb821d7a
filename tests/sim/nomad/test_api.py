"""The emulated Nomad API keeps Nomad's semantics: indexes, blocking, paging, regions, ACLs, filters."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from sim.nomad import build, start, timeline
from tests.sim.nomad.harness import changed

TOKEN = "0d9a0bb2-6f5c-4b7c-8f3a-5a0f4f6d1c11"
HEADERS = {"X-Nomad-Token": TOKEN}


@pytest.fixture(scope="module")
def cluster():
    with start(build(3), tokens={TOKEN: "read-only", "jobs": "jobs-only"}, heartbeat_s=0.2) as running:
        yield running


def get(cluster, path, headers=HEADERS, **params):
    return requests.get(cluster.url + path, params=params, headers=headers, timeout=10)


def test_reads_carry_the_table_index_and_leader_headers(cluster):
    response = get(cluster, "/v1/nodes")
    assert response.status_code == 200
    assert int(response.headers["X-Nomad-Index"]) > 0
    assert response.headers["X-Nomad-KnownLeader"] == "true"
    assert response.headers["X-Nomad-LastContact"] == "0"


def test_blocking_query_waits_for_the_wait_time_when_nothing_changes(cluster):
    index = get(cluster, "/v1/jobs", namespace="*").headers["X-Nomad-Index"]
    started = time.monotonic()
    response = get(cluster, "/v1/jobs", namespace="*", index=index, wait="300ms")
    assert time.monotonic() - started >= 0.25
    assert response.headers["X-Nomad-Index"] == index


def test_blocking_query_returns_as_soon_as_the_table_moves(cluster):
    index = int(get(cluster, "/v1/nodes").headers["X-Nomad-Index"])
    timer = threading.Timer(0.2, lambda: cluster.store.update("eu-west", ["nodes"]))
    timer.start()
    started = time.monotonic()
    response = get(cluster, "/v1/nodes", index=str(index), wait="10s")
    timer.join()
    assert time.monotonic() - started < 5
    assert int(response.headers["X-Nomad-Index"]) > index


def test_pages_cover_every_allocation_exactly_once(cluster):
    everything = {a["ID"] for a in get(cluster, "/v1/allocations", namespace="*").json()}
    seen, token, pages = [], None, 0
    while True:
        params = {"namespace": "*", "per_page": "7", **({"next_token": token} if token else {})}
        response = get(cluster, "/v1/allocations", **params)
        seen += [a["ID"] for a in response.json()]
        pages += 1
        token = response.headers.get("X-Nomad-NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(everything)
    assert pages == -(-len(everything) // 7)


def test_task_states_and_resources_are_there_only_when_asked_for(cluster):
    lean = get(cluster, "/v1/allocations", namespace="*", task_states="false", per_page="1").json()[0]
    full = get(cluster, "/v1/allocations", namespace="*", resources="true", per_page="1").json()[0]
    assert lean["TaskStates"] is None and "AllocatedResources" not in lean
    assert full["TaskStates"] and full["AllocatedResources"]["Tasks"]


def test_namespace_defaults_to_default_and_star_means_all(cluster):
    default = {j["Namespace"] for j in get(cluster, "/v1/jobs").json()}
    everything = {j["Namespace"] for j in get(cluster, "/v1/jobs", namespace="*").json()}
    assert default == {"default"}
    assert everything == {"default", "platform", "batch"}


def test_other_regions_are_answered_through_forwarding(cluster):
    response = get(cluster, "/v1/nodes", region="us-east")
    assert response.status_code == 200
    assert {n["Name"].split("-client")[0] for n in response.json()} == {"us-east"}


def test_an_unknown_region_answers_as_nomad_does(cluster):
    response = get(cluster, "/v1/nodes", region="mars")
    assert (response.status_code, response.text) == (500, "No path to region")


def test_an_unreachable_region_fails_forwarding(cluster):
    with changed(cluster.scenario.regions["us-east"], reachable=False):
        response = get(cluster, "/v1/jobs", region="us-east")
    assert response.status_code == 500
    assert "i/o timeout" in response.text


def test_a_leaderless_region_answers_only_stale_reads(cluster):
    with changed(cluster.scenario.regions["eu-west"], has_leader=False):
        consistent = get(cluster, "/v1/nodes")
        stale = get(cluster, "/v1/nodes", stale="")
    assert (consistent.status_code, consistent.text) == (500, "No cluster leader")
    assert stale.status_code == 200
    assert stale.headers["X-Nomad-KnownLeader"] == "false"
    assert int(stale.headers["X-Nomad-LastContact"]) > 0


@pytest.mark.parametrize("headers,message", [({}, "Permission denied"),
                                             ({"X-Nomad-Token": "not-a-token"}, "ACL token not found"),
                                             ({"X-Nomad-Token": "jobs"}, "Permission denied")])
def test_reads_without_the_right_token_are_denied(cluster, headers, message):
    response = get(cluster, "/v1/nodes", headers=headers)
    assert (response.status_code, response.text) == (403, message)


def test_a_bearer_token_is_accepted(cluster):
    assert get(cluster, "/v1/nodes", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_region_list_and_leader_need_no_token(cluster):
    assert get(cluster, "/v1/regions", headers={}).json() == ["eu-west", "us-east"]
    assert get(cluster, "/v1/status/leader", headers={}).json() == "10.1.0.1:4647"


def test_filter_expressions_select_allocations(cluster):
    troubled = get(cluster, "/v1/allocations", namespace="*",
                   filter='ClientStatus != "running" and ClientStatus != "complete"').json()
    assert troubled
    assert {a["ClientStatus"] for a in troubled} <= {"pending", "failed", "lost", "unknown"}


def test_a_malformed_filter_is_a_bad_request(cluster):
    assert get(cluster, "/v1/allocations", filter='ClientStatus ==').status_code == 400


def test_writes_are_refused(cluster):
    response = requests.put(cluster.url + "/v1/job/api", headers=HEADERS, json={}, timeout=10)
    assert response.status_code == 405


def test_client_stats_answer_for_ready_nodes_only(cluster):
    nodes = get(cluster, "/v1/nodes").json()
    ready = next(n for n in nodes if n["Status"] == "ready")
    down = next(n for n in nodes if n["Status"] == "down")
    stats = get(cluster, "/v1/client/stats", node_id=ready["ID"])
    assert stats.status_code == 200 and stats.json()["CPUTicksConsumed"] >= 0
    assert (get(cluster, "/v1/client/stats", node_id=down["ID"]).text) == "No path to node"


def test_event_stream_sends_events_then_heartbeats(cluster):
    index = int(get(cluster, "/v1/nodes").headers["X-Nomad-Index"])
    cluster.store.update("eu-west", ["nodes"])
    with requests.get(cluster.url + "/v1/event/stream", params={"index": index, "topic": "Node"},
                      headers=HEADERS, stream=True, timeout=10) as response:
        lines = response.iter_lines()
        first = json.loads(next(lines))
        assert first["Index"] > index
        assert {e["Topic"] for e in first["Events"]} == {"Node"}
        assert first["Events"][0]["Payload"]["Node"]["ID"]
        assert json.loads(next(lines)) == {}  # a heartbeat when nothing happens


def test_a_new_phase_of_the_timeline_is_published_on_the_event_stream():
    now = [1.0]
    with start(timeline(0, period_s=60, clock=lambda: now[0]), heartbeat_s=0.2) as running:
        index = int(get(running, "/v1/jobs", headers={}).headers["X-Nomad-Index"])
        now[0] = 61.0  # the next phase switches other problems on
        with requests.get(running.url + "/v1/event/stream", params={"index": index}, stream=True,
                          timeout=10) as response:
            batch = json.loads(next(response.iter_lines()))
    topics = {e["Topic"] for e in batch["Events"]}
    assert {"Node", "Job"} <= topics
    assert batch["Index"] > index


def test_escaped_ids_in_paths_are_unescaped(cluster):
    assert get(cluster, "/v1/job/%61pi").json()["ID"] == "api"  # %61 is "a"


def test_a_job_and_a_service_read_again_after_their_table_moved_show_the_change():
    """Single objects are rendered once and kept (a Go server encodes them in microseconds), but
    only until their table's index moves: a client re-reading them then sees the new state."""
    with start(build(3)) as cluster:
        region = cluster.store.region("eu-west")
        job = next(j for j in region.jobs if any(s.provider == "nomad" for g in j.groups for s in g.services))
        group = next(g for g in job.groups if g.services)
        service = group.services[0].name
        before = get(cluster, f"/v1/job/{job.id}", namespace=job.namespace).json()
        registered = get(cluster, f"/v1/service/{service}", namespace=job.namespace).json()
        assert get(cluster, f"/v1/job/{job.id}", namespace=job.namespace).json() == before  # served again
        assert registered

        cluster.store.update("eu-west", ["jobs"], lambda _: setattr(group, "count", group.count + 5))
        after = get(cluster, f"/v1/job/{job.id}", namespace=job.namespace).json()
        counts = {g["Name"]: g["Count"] for g in after["TaskGroups"]}
        assert counts[group.name] == group.count == {g["Name"]: g["Count"] for g in before["TaskGroups"]}[group.name] + 5

        gone = {r["AllocID"] for r in registered}
        cluster.store.update("eu-west", ["allocs"], lambda r: setattr(r, "allocs", [a for a in r.allocs
                                                                                    if a.id not in gone]))
        assert get(cluster, f"/v1/service/{service}", namespace=job.namespace).json() == []
