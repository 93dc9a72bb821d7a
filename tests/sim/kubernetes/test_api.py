"""The emulated kube-apiserver's HTTP semantics: discovery, paging, selectors, watch, auth, metrics."""
from __future__ import annotations

import json
import threading

import pytest
import requests

from sim.kubernetes import Knobs
from sim.kubernetes.resources import BY_KEY
from tests.sim.kubernetes.harness import TOKEN, running

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def cluster():
    with running(Knobs(seed=41, nodes=8, pods_per_node=10), token=TOKEN) as started:
        yield started


def get(cluster, path: str, **params) -> requests.Response:
    return requests.get(cluster.url + path, params=params, headers=AUTH, timeout=10)


def test_version_and_core_discovery(cluster):
    assert get(cluster, "/version").json()["gitVersion"] == "v1.31.4"
    assert get(cluster, "/api").json()["versions"] == ["v1"]
    names = {r["name"] for r in get(cluster, "/api/v1").json()["resources"]}
    assert {"nodes", "pods", "events", "namespaces"} <= names


def test_group_discovery_lists_apps_batch_autoscaling_discovery_and_metrics(cluster):
    groups = {g["name"]: g["preferredVersion"]["version"] for g in get(cluster, "/apis").json()["groups"]}
    assert groups == {"apps": "v1", "batch": "v1", "metrics.k8s.io": "v1beta1", "autoscaling": "v2",
                      "discovery.k8s.io": "v1"}
    assert {r["kind"] for r in get(cluster, "/apis/apps/v1").json()["resources"]} == {
        "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
    assert get(cluster, "/apis/batch").json()["kind"] == "APIGroup"


def test_list_envelope(cluster):
    body = get(cluster, "/apis/apps/v1/deployments").json()
    assert (body["kind"], body["apiVersion"]) == ("DeploymentList", "apps/v1")
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert len(body["items"]) == cluster.store.count(BY_KEY[("apps", "deployments")])


def test_paging_returns_every_pod_once_with_remaining_counts(cluster):
    names, token, remaining = [], None, []
    while True:
        body = get(cluster, "/api/v1/pods", limit=7, **({"continue": token} if token else {})).json()
        names += [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in body["items"]]
        token = body["metadata"].get("continue")
        if not token:
            break
        remaining.append(body["metadata"]["remainingItemCount"])
    assert len(names) == len(set(names)) == len(cluster.scenario.expected.pods)
    assert names == sorted(names)
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] > 0


def test_namespaced_list_and_get(cluster):
    pods = get(cluster, "/api/v1/namespaces/default/pods").json()["items"]
    assert {p["metadata"]["namespace"] for p in pods} == {"default"}
    one = get(cluster, f"/api/v1/namespaces/default/pods/{pods[0]['metadata']['name']}").json()
    assert one["metadata"]["uid"] == pods[0]["metadata"]["uid"]


def test_missing_object_is_a_404_status(cluster):
    response = get(cluster, "/api/v1/namespaces/default/pods/nope")
    assert response.status_code == 404
    assert response.json()["reason"] == "NotFound" and response.json()["message"] == 'pods "nope" not found'


def test_field_selector_by_node(cluster):
    node = next(iter(cluster.scenario.expected.nodes))
    pods = get(cluster, "/api/v1/pods", fieldSelector=f"spec.nodeName={node}").json()["items"]
    expected = {p.key for p in cluster.scenario.expected.pods.values() if p.node == node}
    assert {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods} == expected


def test_label_selectors(cluster):
    proxies = get(cluster, "/api/v1/pods", labelSelector="app=kube-proxy").json()["items"]
    assert len(proxies) == 8
    assert get(cluster, "/api/v1/pods", labelSelector="app in (kube-proxy,node-exporter)").json()["items"]
    others = get(cluster, "/api/v1/pods", labelSelector="app!=kube-proxy,app").json()["items"]
    assert len(others) == len(cluster.scenario.expected.pods) - 8


def test_bad_selector_is_a_400(cluster):
    assert get(cluster, "/api/v1/pods", labelSelector="a b c").status_code == 400


def test_expired_continue_token_is_410_expired():
    with running(Knobs(seed=42, nodes=3, pods_per_node=5)) as small:
        first = requests.get(small.url + "/api/v1/pods", params={"limit": 2}, timeout=5).json()
        small.store.compact()
        response = requests.get(small.url + "/api/v1/pods",
                                params={"limit": 2, "continue": first["metadata"]["continue"]}, timeout=5)
    assert response.status_code == 410
    assert response.json()["reason"] == "Expired"


def test_without_a_token_the_answer_is_401(cluster):
    response = requests.get(cluster.url + "/api/v1/nodes", timeout=5)
    assert response.status_code == 401 and response.json()["reason"] == "Unauthorized"


def test_a_token_lacking_a_resource_gets_403():
    with running(Knobs(seed=43, nodes=2, pods_per_node=2), token=TOKEN, forbidden={("apps", "deployments")}) as c:
        denied = requests.get(c.url + "/apis/apps/v1/deployments", headers=AUTH, timeout=5)
        allowed = requests.get(c.url + "/api/v1/nodes", headers=AUTH, timeout=5)
    assert denied.status_code == 403 and denied.json()["reason"] == "Forbidden"
    assert allowed.status_code == 200


def test_writes_are_refused(cluster):
    response = requests.delete(cluster.url + "/api/v1/namespaces/default/pods/debug-shell", headers=AUTH, timeout=5)
    assert response.status_code == 405


@pytest.mark.parametrize("mode, code", [("absent", 404), ("down", 503)])
def test_metrics_modes(mode, code):
    with running(Knobs(seed=44, nodes=2, pods_per_node=2), metrics=mode) as c:
        response = requests.get(c.url + "/apis/metrics.k8s.io/v1beta1/nodes", timeout=5)
        groups = {g["name"] for g in requests.get(c.url + "/apis", timeout=5).json()["groups"]}
    assert response.status_code == code
    assert ("metrics.k8s.io" in groups) == (mode == "down")


def test_metrics_lists(cluster):
    nodes = get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes").json()
    assert nodes["kind"] == "NodeMetricsList"
    assert len(nodes["items"]) == sum(n.status == "ready" for n in cluster.scenario.expected.nodes.values())
    pods = get(cluster, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods").json()
    assert pods["kind"] == "PodMetricsList" and all(p["metadata"]["namespace"] == "default" for p in pods["items"])


def read_events(response, count: int) -> list[dict]:
    events = []
    for line in response.iter_lines():
        if line:
            events.append(json.loads(line))
            if len(events) >= count:
                break
    return events


def test_watch_streams_changes_after_a_resource_version():
    with running(Knobs(seed=45, nodes=3, pods_per_node=3), bookmark_interval_s=0.2) as c:
        nodes = BY_KEY[("", "nodes")]
        rv = requests.get(c.url + "/api/v1/nodes", timeout=5).json()["metadata"]["resourceVersion"]
        stream = requests.get(c.url + "/api/v1/nodes", params={"watch": "1", "resourceVersion": rv,
                                                              "allowWatchBookmarks": "true", "timeoutSeconds": 5},
                              stream=True, timeout=10)
        name = next(iter(c.scenario.expected.nodes))

        def change():
            node = c.store.get(nodes, name).obj
            c.store.put(nodes, {**node, "metadata": {**node["metadata"], "labels": {"changed": "yes"}}})
            c.store.delete(nodes, name)

        threading.Timer(0.3, change).start()
        events = [e for e in read_events(stream, 4) if e["type"] != "BOOKMARK"][:2]
        stream.close()
    assert [e["type"] for e in events] == ["MODIFIED", "DELETED"]
    assert events[0]["object"]["metadata"]["labels"] == {"changed": "yes"}


def test_watch_from_zero_replays_current_objects_then_bookmarks():
    with running(Knobs(seed=46, nodes=2, pods_per_node=2), bookmark_interval_s=0.1) as c:
        stream = requests.get(c.url + "/api/v1/nodes", params={"watch": "true", "allowWatchBookmarks": "true",
                                                              "timeoutSeconds": 2}, stream=True, timeout=10)
        events = read_events(stream, 3)
        stream.close()
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[2]["object"]["kind"] == "Node" and events[2]["object"]["metadata"]["resourceVersion"]


def test_watch_from_a_compacted_resource_version_gets_an_expired_error_event():
    with running(Knobs(seed=47, nodes=2, pods_per_node=2)) as c:
        rv = requests.get(c.url + "/api/v1/pods", timeout=5).json()["metadata"]["resourceVersion"]
        c.store.compact()
        stream = requests.get(c.url + "/api/v1/pods", params={"watch": "1", "resourceVersion": rv}, stream=True,
                              timeout=10)
        event, = read_events(stream, 1)
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")
