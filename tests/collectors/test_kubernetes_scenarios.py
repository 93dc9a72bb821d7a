"""The collector against emulated clusters: its output must equal what each scenario states."""
from __future__ import annotations

from collections import Counter

import pytest

from fleet.model import summarize
from sim.kubernetes import Knobs
from tests.sim.kubernetes.harness import TOKEN, collector, running

SIZES = [
    Knobs(seed=0),
    Knobs(seed=1, nodes=7, pods_per_node=9, namespaces=3, problem_share=0.3),
    Knobs(seed=2, nodes=40, pods_per_node=12, namespaces=9, problem_share=0.05),
    Knobs(seed=3, nodes=12, pods_per_node=20, problem_share=0.0),
    Knobs(seed=4, nodes=2, pods_per_node=5, namespaces=1, problem_share=0.5),
]


@pytest.fixture(scope="module", params=SIZES, ids=lambda k: f"seed{k.seed}-{k.nodes}n")
def collected(request):
    with running(request.param, token=TOKEN) as cluster:
        with collector(cluster, watch=False, page_size=50) as source:
            yield cluster.scenario.expected, source.collect(10.0)


def test_nodes_by_status(collected):
    expected, data = collected
    assert dict(Counter(n.status for n in data.nodes)) == expected.nodes_by_status()


def test_cordoned_nodes_are_unschedulable(collected):
    expected, data = collected
    assert {n.name for n in data.nodes if not n.schedulable} == \
        {name for name, n in expected.nodes.items() if not n.schedulable}


def test_node_roles_zones_and_sizes(collected):
    expected, data = collected
    for node in data.nodes:
        truth = expected.nodes[node.name]
        assert (node.roles, node.zone, node.region) == (truth.roles, truth.zone, truth.region)
        assert (node.cpu_capacity_cores, node.mem_capacity_bytes) == (truth.cpu_capacity_m / 1000,
                                                                      truth.mem_capacity_mi * 2 ** 20)
        assert (node.cpu_allocatable_cores, node.mem_allocatable_bytes) == (truth.cpu_allocatable_m / 1000,
                                                                            truth.mem_allocatable_mi * 2 ** 20)


def test_allocated_is_the_effective_requests_of_unfinished_pods(collected):
    expected, data = collected
    allocated = expected.allocated_by_node()
    for node in data.nodes:
        cpu, mem = allocated[node.name]
        assert node.cpu_allocated_cores == pytest.approx(cpu, abs=1e-6)
        assert node.mem_allocated_bytes == mem


def test_usage_from_metrics_server(collected):
    expected, data = collected
    used = expected.used_by_node()
    for node in data.nodes:
        cpu, mem = used[node.name]
        assert node.mem_used_bytes == mem
        assert node.cpu_used_cores == (None if cpu is None else pytest.approx(cpu, abs=1e-6))


def test_every_workload_has_the_stated_status_and_counts(collected):
    expected, data = collected
    got = {w.id: (w.kind, w.status, w.desired, w.running, w.healthy) for w in data.workloads}
    want = {w.id: (w.kind, w.status, w.desired, w.running, w.healthy) for w in expected.workloads.values()}
    assert got == want


def test_workload_images_and_per_instance_requests(collected):
    expected, data = collected
    for workload in data.workloads:
        truth = expected.workloads[workload.id]
        assert workload.images == truth.images
        assert workload.cpu_request_cores == pytest.approx(truth.cpu_request_m / 1000, abs=1e-6)
        assert workload.mem_request_bytes == truth.mem_request_mi * 2 ** 20


def test_every_instance_has_the_stated_state_health_reason_and_restarts(collected):
    expected, data = collected
    got = {i.id: (i.workload_id, i.node_id, i.state, i.health, i.reason, i.restarts) for i in data.instances}
    want = {p.key: (p.workload_id, p.node, p.state, p.health, p.reason, p.restarts) for p in expected.pods.values()}
    assert got == want


def test_summary_counts(collected):
    expected, data = collected
    summary = summarize(data.nodes, data.workloads, data.instances)
    assert summary.workloads_by_status == expected.workloads_by_status()
    assert summary.instances_by_state == expected.instances_by_state()
    assert (summary.cpu_capacity_cores, summary.mem_capacity_bytes) == pytest.approx(expected.capacity())


def test_warning_events(collected):
    expected, data = collected
    assert len(data.events) == expected.warning_events
    assert all(e.severity == "warning" for e in data.events)
    assert [e.time for e in data.events] == sorted((e.time for e in data.events), reverse=True)


def test_cluster_is_ok_with_a_version(collected):
    _, data = collected
    assert (data.degraded_reason, data.version) == (None, "v1.31.4")


def test_problem_scenario_has_the_states_ops_people_meet():
    with running(Knobs(seed=5, nodes=30, pods_per_node=15, problem_share=0.5), token=TOKEN) as cluster:
        with collector(cluster, watch=False) as source:
            data = source.collect(10.0)
    reasons = Counter(i.reason for i in data.instances)
    for reason in ("CrashLoopBackOff", "ImagePullBackOff", "OOMKilled", "Unschedulable", "Evicted", "Error"):
        assert reasons[reason] > 0, reason
    assert {"ready", "not_ready", "unknown"} <= {n.status for n in data.nodes}
    statuses = Counter((w.kind, w.status) for w in data.workloads)
    for pair in [("Deployment", "progressing"), ("Deployment", "degraded"), ("Deployment", "failed"),
                 ("Deployment", "stopped"), ("Job", "failed"), ("Job", "completed"), ("CronJob", "stopped"),
                 ("CronJob", "failed"), ("DaemonSet", "degraded"), ("StatefulSet", "progressing")]:
        assert statuses[pair] > 0, pair


def test_clean_scenario_is_all_healthy_or_done():
    with running(Knobs(seed=6, nodes=10, pods_per_node=10, problem_share=0.0), token=TOKEN) as cluster:
        with collector(cluster, watch=False) as source:
            data = source.collect(10.0)
    assert {w.status for w in data.workloads} <= {"healthy", "completed", "stopped"}
    assert {n.status for n in data.nodes} == {"ready"}
    assert data.events == []


@pytest.mark.scale
def test_large_cluster_matches_its_truth():
    knobs = Knobs(seed=9, nodes=300, pods_per_node=30, namespaces=20, pod_metrics=False)
    with running(knobs, token=TOKEN) as cluster:
        with collector(cluster, watch=False) as source:
            data = source.collect(30.0)
        expected = cluster.scenario.expected
    assert len(data.instances) == len(expected.pods) > 8500
    assert summarize(data.nodes, data.workloads, data.instances).workloads_by_status == expected.workloads_by_status()
    assert Counter(i.reason for i in data.instances if i.reason) == Counter(expected.reasons())
    assert {s.id: (s.backends_total, s.backends_ready, s.status) for s in data.services} == \
        {key: (t.backends_total, t.backends_ready, t.status) for key, t in expected.services.items()}
    assert {w.id for w in data.workloads if w.autoscaler} == set(expected.autoscalers)
