"""Generated scenarios: deterministic, sized by their knobs, problems that move with the phase; the demo."""
from __future__ import annotations

import os
import time

import pytest
import requests

from sim.demo import DemoCluster
from sim.kubernetes import Knobs, demo, generate
from sim.kubernetes.demo import Churn, knobs_at
from sim.kubernetes.resources import BY_KEY
from sim.kubernetes.store import Store


def test_same_seed_same_cluster():
    first, second = generate(Knobs(seed=7)), generate(Knobs(seed=7))
    assert [o for _, o in first.objects] == [o for _, o in second.objects]
    assert first.expected.workloads_by_status() == second.expected.workloads_by_status()


def test_other_seed_other_cluster():
    assert [o for _, o in generate(Knobs(seed=7)).objects] != [o for _, o in generate(Knobs(seed=8)).objects]


@pytest.mark.parametrize("nodes, per_node", [(10, 15), (20, 15), (60, 25)])
def test_size_knobs_set_nodes_and_roughly_the_pod_count(nodes, per_node):
    expected = generate(Knobs(nodes=nodes, pods_per_node=per_node)).expected
    assert len(expected.nodes) == nodes
    assert abs(len(expected.pods) - nodes * per_node) <= max(10, nodes * per_node // 20)



@pytest.mark.parametrize("knobs", [knobs_at(0, 0.0), knobs_at(0, 45.0), Knobs(seed=5, nodes=200, pods_per_node=30)],
                         ids=["demo", "demo-next-phase", "200-nodes"])
def test_pods_are_bound_within_their_node_s_allocatable(knobs):
    """As a scheduler binds them: no worker holds requests over what it offers (a demo node once held
    194% of its CPU)."""
    expected = generate(knobs).expected
    for name, (cores, mem_bytes) in expected.allocated_by_node().items():
        node = expected.nodes[name]
        assert cores * 1000 <= node.cpu_allocatable_m and mem_bytes <= node.mem_allocatable_mi * 2 ** 20, name

def test_no_problems_means_nothing_broken():
    expected = generate(Knobs(seed=3, problem_share=0.0)).expected
    assert expected.reasons() == {}
    assert set(expected.nodes_by_status()) == {"ready"}
    assert expected.warning_events == 0


def test_problem_share_scales_the_breakage():
    few = generate(Knobs(seed=3, nodes=60, problem_share=0.05)).expected
    many = generate(Knobs(seed=3, nodes=60, problem_share=0.3)).expected
    assert sum(few.reasons().values()) < sum(many.reasons().values())
    assert few.nodes_by_status()["ready"] > many.nodes_by_status()["ready"]


def test_a_phase_moves_the_problems_but_keeps_the_layout():
    before, after = generate(Knobs(seed=4, phase=0)), generate(Knobs(seed=4, phase=1))
    assert set(before.expected.nodes) == set(after.expected.nodes)
    assert set(before.expected.workloads) == set(after.expected.workloads)
    broken = {k for k, n in before.expected.nodes.items() if n.status != "ready"}
    assert broken != {k for k, n in after.expected.nodes.items() if n.status != "ready"}


def test_every_pod_belongs_to_a_stated_workload():
    expected = generate(Knobs(seed=5)).expected
    assert {p.workload_id for p in expected.pods.values()} <= set(expected.workloads)


def test_apply_writes_only_what_changed():
    store = Store()
    generate(Knobs(seed=6, phase=0)).apply(store)
    assert generate(Knobs(seed=6, phase=0)).apply(store) == 0
    writes = generate(Knobs(seed=6, phase=1)).apply(store)
    assert 0 < writes < len(generate(Knobs(seed=6)).objects)


def test_applied_phase_deletes_what_is_gone():
    store = Store()
    generate(Knobs(seed=6, phase=0)).apply(store)
    later = generate(Knobs(seed=6, phase=2))
    later.apply(store)
    pods = BY_KEY[("", "pods")]
    assert store.count(pods) == len(later.expected.pods)


def test_clock_picks_the_phase():
    assert knobs_at(0, 0.0, period_s=10).phase == 0
    assert knobs_at(0, 10.0, period_s=10).phase == 1
    assert knobs_at(0, 45.0, period_s=10).phase == 0


def test_demo_cluster_serves_a_mid_size_cluster_with_a_token():
    cluster = demo(seed=0)
    try:
        assert isinstance(cluster, DemoCluster)
        assert cluster.config["orchestrator"] == "kubernetes"
        token = cluster.environ[cluster.config["token_env"]]
        headers = {"Authorization": f"Bearer {token}"}
        nodes = requests.get(cluster.config["url"] + "/api/v1/nodes", headers=headers, timeout=5).json()["items"]
        pods = requests.get(cluster.config["url"] + "/api/v1/pods", headers=headers, timeout=5).json()["items"]
        assert len(nodes) == 20 and 250 <= len(pods) <= 350
        assert requests.get(cluster.config["url"] + "/api/v1/nodes", timeout=5).status_code == 401
        assert token not in str(cluster.config)
    finally:
        cluster.stop()


def test_demo_churn_changes_the_cluster_over_time():
    from sim.kubernetes.server import start

    seed, period = 2, 10.0
    now = time.time()
    cluster = start(generate(knobs_at(seed, now, period)))
    try:
        churn = Churn(cluster, seed, period)
        rv = cluster.store.rv
        assert churn.step(now) == 0
        assert churn.step(now + period) > 0
        assert cluster.store.rv > rv
    finally:
        cluster.stop()


def test_demo_stops_cleanly():
    cluster = demo(seed=1, period_s=0.5)
    cluster.stop()
    assert not os.environ.get(cluster.config["token_env"])  # the demo never exports its token itself
