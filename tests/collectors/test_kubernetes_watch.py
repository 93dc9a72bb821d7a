"""List-then-watch: changes reach the model through watches, not relists; 410 leads to a relist."""
from __future__ import annotations

import copy
import threading
import time

from sim.kubernetes import Knobs
from sim.kubernetes.resources import BY_KEY
from tests.sim.kubernetes.harness import TOKEN, collector, running

NODES, PODS = BY_KEY[("", "nodes")], BY_KEY[("", "pods")]
SMALL = Knobs(seed=31, nodes=5, pods_per_node=8, problem_share=0.0)


def list_requests(cluster, path: str) -> int:
    return sum(1 for _, p, q in cluster.server.requests if p == path and "watch" not in q)


def wait_for(check, timeout_s: float = 5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    return check()


def set_ready(cluster, name: str, status: str) -> None:
    node = copy.deepcopy(cluster.store.get(NODES, name).obj)
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition["status"] = status
    cluster.store.put(NODES, node)


def node_status(source, name: str) -> str:
    return next(n.status for n in source.collect(5).nodes if n.name == name)


def test_a_watched_node_change_reaches_the_model_without_relisting():
    # how fast is for bench/kubernetes_scale.py to measure; here only that it arrives by watch
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        name = source.collect(5).nodes[-1].name
        lists_before = list_requests(cluster, "/api/v1/nodes")
        set_ready(cluster, name, "False")
        assert wait_for(lambda: node_status(source, name) == "not_ready", 10.0)
        assert list_requests(cluster, "/api/v1/nodes") == lists_before


def test_deleted_and_added_pods_follow_the_watch():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        first = source.collect(5)
        victim = first.instances[0]
        namespace, name = victim.id.split("/")
        cluster.store.delete(PODS, victim.id)
        extra = copy.deepcopy(cluster.store.get(PODS, first.instances[1].id).obj)
        extra["metadata"] = {**extra["metadata"], "name": "added-by-test", "uid": "u-added"}
        cluster.store.put(PODS, extra)
        expected = {i.id for i in first.instances} - {victim.id} | {f"{extra['metadata']['namespace']}/added-by-test"}
        assert wait_for(lambda: {i.id for i in source.collect(5).instances} == expected)


def test_compaction_expires_the_watch_and_the_next_round_lists_again():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        name = source.collect(5).nodes[0].name
        wait_for(lambda: all(cache.watching() for cache in source._caches.values()))
        cluster.store.compact()
        set_ready(cluster, name, "Unknown")
        assert wait_for(lambda: not source._caches["nodes"].synced)
        lists_before = list_requests(cluster, "/api/v1/nodes")
        assert node_status(source, name) == "unknown"
        assert list_requests(cluster, "/api/v1/nodes") == lists_before + 1


def test_bookmarks_advance_the_resource_version():
    with running(SMALL, token=TOKEN, bookmark_interval_s=0.2) as cluster, collector(cluster) as source:
        source.collect(5)
        cache = source._caches["deployments"]
        before = int(cache.resource_version)
        set_ready(cluster, source.collect(5).nodes[0].name, "False")  # moves the store's resourceVersion
        assert wait_for(lambda: int(cache.resource_version) > before)


def test_close_stops_every_watch():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        source.collect(5)
        assert wait_for(lambda: any(t.name.startswith("watch ") for t in threading.enumerate()))
        source.close()
        assert wait_for(lambda: not any(t.name.startswith("watch /api") for t in threading.enumerate()), 5)


def test_new_warning_events_arrive_by_watch_and_normal_ones_are_filtered_out():
    events = BY_KEY[("", "events")]
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        assert source.collect(5).events == []
        lists_before = list_requests(cluster, "/api/v1/events")
        involved = copy.deepcopy(cluster.store.objects(PODS)[0])
        for index, kind in enumerate(("Warning", "Normal")):
            cluster.store.put(events, {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"e{index}", "namespace": involved["metadata"]["namespace"]},
                "involvedObject": {"kind": "Pod", "name": involved["metadata"]["name"],
                                   "namespace": involved["metadata"]["namespace"]},
                "reason": "BackOff", "message": "Back-off restarting failed container", "type": kind,
                "lastTimestamp": "2026-11-20T09:00:00Z"})
        assert wait_for(lambda: [e.reason for e in source.collect(5).events] == ["BackOff"])
        assert list_requests(cluster, "/api/v1/events") == lists_before


METRICS = BY_KEY[("metrics.k8s.io", "nodes")]


def fresh_model(cluster):
    """What a collector that lists everything now (no watch, no memory of earlier rounds) makes."""
    with collector(cluster, watch=False) as one_shot:
        return one_shot.collect(5)


def test_a_quiet_round_reuses_the_last_model_which_equals_a_fresh_one():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        first = source.collect(5)
        wait_for(lambda: all(cache.watching() for cache in source._caches.values()))
        second = source.collect(5)
        assert second.instances is first.instances and second.workloads is first.workloads
        assert second == fresh_model(cluster)


def test_only_the_measured_usage_changes_when_only_the_metrics_do():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        first = source.collect(5)
        measured = copy.deepcopy(cluster.store.objects(METRICS)[0])
        measured["usage"]["cpu"] = "1234m"
        cluster.store.put(METRICS, measured)
        second = source.collect(5)
        assert second.instances is first.instances
        assert next(n for n in second.nodes if n.name == measured["metadata"]["name"]).cpu_used_cores == 1.234
        assert second == fresh_model(cluster)


def test_a_change_after_quiet_rounds_reaches_the_model():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        first = source.collect(5)
        source.collect(5)
        victim = first.instances[0]
        cluster.store.delete(PODS, victim.id)
        assert wait_for(lambda: victim.id not in {i.id for i in source.collect(5).instances})
        assert source.collect(5) == fresh_model(cluster)
