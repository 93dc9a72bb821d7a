"""The fast analysis gives exactly the answers of the plain first-fit decreasing loop (the oracle):
same verdicts, same lists in the same order, same numbers, on random clusters and medium fleets."""
from __future__ import annotations

import random
from datetime import datetime, timezone
from unittest import mock

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import analysis, placement
from fleet.model import Cluster, Instance, Node, Snapshot, Workload
from tests.fleet import analysis_oracle

GIB = 2**30
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
# tenths and quarters: sums of 0.1 land a hair off the capacity, so the EPSILON rule is exercised
CPU = [0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0, 1.5, 2.0, 3.5]
MEM = [0, GIB // 4, GIB // 2, GIB, 3 * GIB]
STATES = ["running", "running", "running", "pending", "failed"]
ZONES = [None, "a", "b", "c"]
# 0: every scenario updates the tree; huge: every scenario overlays the unchanged tree
THRESHOLDS = [0, placement.SMALL_SCENARIO, 10**9]


@st.composite
def clusters(draw: st.DrawFn, max_nodes: int = 8, max_instances: int = 60) -> Cluster:
    node_count = draw(st.integers(0, max_nodes))
    nodes = [Node(id=f"n{i}", name=f"node-{i}", status=draw(st.sampled_from(["ready", "ready", "not_ready"])),
                  schedulable=draw(st.booleans()) or draw(st.booleans()), zone=draw(st.sampled_from(ZONES)),
                  cpu_allocatable_cores=draw(st.sampled_from([0.0, 1.0, 2.0, 2.5, 4.0, 8.0])),
                  cpu_allocated_cores=draw(st.sampled_from([0.0, 0.3, 0.5, 1.0, 1.7, 3.0])),
                  mem_allocatable_bytes=draw(st.sampled_from([0, 2 * GIB, 4 * GIB, 8 * GIB])),
                  mem_allocated_bytes=draw(st.sampled_from([0, GIB // 2, GIB, 3 * GIB])))
             for i in range(node_count)]
    workload_count = draw(st.integers(0, 6))
    workloads = [Workload(id=f"w{i}", name=f"app-{i}", namespace=draw(st.sampled_from(["", "team"])), kind="Deployment",
                          desired=draw(st.sampled_from([None, 0, 1, 3, 8])), cpu_request_cores=draw(st.sampled_from(CPU)),
                          mem_request_bytes=draw(st.sampled_from(MEM)), per_node=draw(st.integers(0, 4)) == 0)
                 for i in range(workload_count)]
    node_ids = [n.id for n in nodes] + [None, "gone"]
    workload_ids = [w.id for w in workloads] + [None, "unknown"]
    instances = [Instance(id=f"i{k}", name=f"pod-{k}", workload_id=draw(st.sampled_from(workload_ids)),
                          node_id=draw(st.sampled_from(node_ids)), state=draw(st.sampled_from(STATES)))
                 for k in range(draw(st.integers(0, max_instances)))]
    return Cluster(name="c", orchestrator="kubernetes", endpoint="https://c", status="ok", collected_at=T0,
                   nodes=nodes, workloads=workloads, instances=instances)


def assert_same_analysis(cluster: Cluster) -> None:
    fast, oracle = analysis.analyze_cluster(cluster), analysis_oracle.analyze_cluster(cluster)
    assert fast == oracle
    assert msgspec.json.encode(fast) == msgspec.json.encode(oracle)  # also 0 vs 0.0 in the JSON


@pytest.mark.parametrize("threshold", THRESHOLDS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster=clusters())
def test_small_random_clusters_get_the_oracles_analysis(threshold, cluster):
    with mock.patch.object(placement, "SMALL_SCENARIO", threshold):
        assert_same_analysis(cluster)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster=clusters())
def test_small_random_clusters_placed_as_zones_are_get_the_oracles_analysis(cluster):
    """Every scenario, even one node's, takes the path a zone's tens of thousands of instances take."""
    with mock.patch.object(analysis, "MANY_STRANDED", 0):
        assert_same_analysis(cluster)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster=clusters(max_nodes=40, max_instances=200))
def test_crowded_random_clusters_get_the_oracles_analysis(cluster):
    assert_same_analysis(cluster)


@settings(max_examples=300, deadline=None)
@given(cluster=clusters(max_nodes=4, max_instances=20), copies=st.integers(1, 3))
def test_repeated_node_and_instance_ids_get_the_oracles_analysis(cluster, copies):
    """Ids should be unique, but a snapshot from an odd source must not change the answers."""
    twice = msgspec.structs.replace(cluster, nodes=cluster.nodes * copies, instances=cluster.instances * copies)
    assert_same_analysis(twice)


def medium_fleet(nodes: int, seed: int) -> Cluster:
    """A fleet with mixed node sizes and requests, a few full nodes, three zones."""
    rng = random.Random(seed)
    node_list = [Node(id=f"n{i}", name=f"node-{i:05d}", status="ready" if rng.random() > 0.02 else "not_ready",
                      schedulable=rng.random() > 0.03, zone=f"zone-{i % 3}",
                      cpu_allocatable_cores=rng.choice([3.5, 7.5, 15.5]), mem_allocatable_bytes=rng.choice([14, 30, 62]) * GIB)
                 for i in range(nodes)]
    workloads = [Workload(id=f"w{i}", name=f"app-{i}", kind="Deployment", desired=rng.choice([1, 2, 3, 5, 10]),
                          cpu_request_cores=rng.choice(CPU), mem_request_bytes=rng.choice(MEM), per_node=i % 25 == 0)
                 for i in range(max(1, nodes // 2))]
    instances, used = [], {n.id: [0.0, 0] for n in node_list}
    for k in range(nodes * 6):
        workload, node = rng.choice(workloads), rng.choice(node_list)
        room = used[node.id]
        if room[0] + workload.cpu_request_cores > node.cpu_allocatable_cores or \
                room[1] + workload.mem_request_bytes > node.mem_allocatable_bytes:
            continue
        room[0] += workload.cpu_request_cores
        room[1] += workload.mem_request_bytes
        instances.append(Instance(id=f"i{k}", name=f"pod-{k}", workload_id=workload.id, node_id=node.id,
                                  state=rng.choice(STATES)))
    for node in node_list:
        node.cpu_allocated_cores, node.mem_allocated_bytes = used[node.id][0], used[node.id][1]
    return Cluster(name=f"m{nodes}", orchestrator="kubernetes", endpoint="https://m", status="ok", collected_at=T0,
                   nodes=node_list, workloads=workloads, instances=instances)


@pytest.mark.parametrize("nodes, seed", [(200, 1), (700, 2), (2000, 3)])
def test_medium_fleets_get_the_oracles_analysis(nodes, seed):
    assert_same_analysis(medium_fleet(nodes, seed))


def test_whole_snapshot_gets_the_oracles_analysis_and_reports_progress(monkeypatch):
    snapshot = Snapshot(taken_at=T0, clusters=[medium_fleet(60, 4), medium_fleet(30, 5)])
    heard: list[float] = []
    assert analysis.analyze(snapshot, progress=heard.append) == analysis_oracle.analyze(snapshot)
    assert heard == [60 / 90, 1.0]
    monkeypatch.setattr(analysis, "PROGRESS_NODES", 25)  # a large cluster reports within itself too
    heard.clear()
    assert analysis.analyze(snapshot, progress=heard.append) == analysis_oracle.analyze(snapshot)
    assert heard == [25 / 90, 50 / 90, 60 / 90, 85 / 90, 1.0]
