"""The Nomad collector against emulated clusters: it reports what each scenario says it must."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.model import summarize
from sim.nomad import PROBLEMS, build, start
from tests.sim.nomad.harness import TOKENS, by, collect

SEEDS_AND_SIZES = [
    pytest.param((0, {}), id="seed0-default"),
    pytest.param((1, {"regions": 3, "datacenters": 3, "nodes": 30, "jobs": 30}), id="seed1-three-regions"),
    pytest.param((5, {"regions": 1, "datacenters": 1, "nodes": 8, "jobs": 12, "allocs_per_job": 5}), id="seed5-one-dc"),
    pytest.param((9, {"nodes": 40, "jobs": 40, "allocs_per_job": 2}), id="seed9-forty"),
]


@pytest.fixture(scope="module", params=SEEDS_AND_SIZES)
def observed(request):
    seed, sizes = request.param
    scenario = build(seed, **sizes)
    with start(scenario, tokens=TOKENS) as cluster:
        yield scenario.expected, collect(cluster)


def test_nodes_by_status(observed):
    expected, data = observed
    assert by(data.nodes) == expected.nodes_by_status


def test_unschedulable_nodes_are_the_draining_and_ineligible_ones(observed):
    expected, data = observed
    assert {n.id for n in data.nodes if not n.schedulable} == expected.unschedulable_nodes


def test_datacenters_are_zones_and_regions_are_kept(observed):
    expected, data = observed
    assert {n.id: n.zone for n in data.nodes} == expected.node_zones
    assert {n.region for n in data.nodes} == set(expected.regions)


def test_workload_status_per_job(observed):
    expected, data = observed
    assert {w.id: w.status for w in data.workloads} == expected.workload_status


def test_desired_and_running_per_job(observed):
    expected, data = observed
    assert {w.id: w.desired for w in data.workloads} == expected.workload_desired
    assert {w.id: w.running for w in data.workloads} == expected.workload_running


def test_instances_by_state(observed):
    expected, data = observed
    assert by(data.instances, "state") == expected.instances_by_state


def test_failing_task_events_are_the_reasons(observed):
    expected, data = observed
    reasons = {i.id: i.reason or "" for i in data.instances}
    for alloc_id, text in expected.reasons.items():
        assert text in reasons[alloc_id]


def test_problems_become_events(observed):
    expected, data = observed
    events = [(e.object, e.message) for e in data.events]
    for obj, text in expected.events:
        assert any(o == obj and text in m for o, m in events), (obj, text)


def test_capacity_allocatable_and_allocated_totals(observed):
    expected, data = observed
    summary = summarize(data.nodes, data.workloads, data.instances)
    assert summary.cpu_capacity_cores == pytest.approx(expected.cpu_capacity_cores, abs=1e-5)
    assert summary.cpu_allocatable_cores == pytest.approx(expected.cpu_allocatable_cores, abs=1e-5)
    assert summary.cpu_allocated_cores == pytest.approx(expected.cpu_allocated_cores, abs=1e-5)
    assert (summary.mem_capacity_bytes, summary.mem_allocatable_bytes, summary.mem_allocated_bytes) == (
        expected.mem_capacity_bytes, expected.mem_allocatable_bytes, expected.mem_allocated_bytes)


def test_usage_where_the_node_answers_else_null(observed):
    expected, data = observed
    assert {n.id for n in data.nodes if n.cpu_used_cores is not None} == expected.nodes_with_usage
    assert summarize(data.nodes, [], []).cpu_used_cores is None  # some ready node does not answer


def test_version_comes_from_the_agent(observed):
    _, data = observed
    assert data.version == "1.7.7" and data.degraded_reason is None


@pytest.mark.parametrize("problem", PROBLEMS)
def test_each_problem_alone_is_reported(problem):
    scenario = build(4, problems=[problem])
    with start(scenario, tokens=TOKENS) as cluster:
        data = collect(cluster)
    expected = scenario.expected
    assert by(data.nodes) == expected.nodes_by_status
    assert {w.id: w.status for w in data.workloads} == expected.workload_status
    assert by(data.instances, "state") == expected.instances_by_state


def test_one_namespace_only():
    scenario = build(0)
    with start(scenario, tokens=TOKENS) as cluster:
        data = collect(cluster, namespace="batch")
    assert {w.namespace for w in data.workloads} == {"batch"}
    assert {i.workload_id.split("/")[1] for i in data.instances} == {"batch"}
    assert len(data.nodes) == 16  # nodes are not namespaced


def test_one_region_by_name_and_the_agents_own_by_default():
    scenario = build(0)
    with start(scenario, tokens=TOKENS) as cluster:
        named = collect(cluster, regions="us-east")
        default = collect(cluster, regions=None)
        listed = collect(cluster, regions=["us-east", "eu-west"])
    assert {n.region for n in named.nodes} == {"us-east"}
    assert {n.region for n in default.nodes} == {"eu-west"}
    assert {n.region for n in listed.nodes} == {"us-east", "eu-west"}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), problems=st.sets(st.sampled_from(PROBLEMS)),
       regions=st.integers(1, 3), datacenters=st.integers(1, 3))
def test_any_seed_and_mix_of_problems_is_reported_as_the_scenario_says(seed, problems, regions, datacenters):
    scenario = build(seed, problems=sorted(problems), regions=regions, datacenters=datacenters, nodes=6 * regions,
                     jobs=8 * regions)
    with start(scenario, tokens=TOKENS) as cluster:
        data = collect(cluster)
    expected = scenario.expected
    assert by(data.nodes) == expected.nodes_by_status
    assert {w.id: (w.status, w.desired, w.running) for w in data.workloads} == {
        key: (status, expected.workload_desired[key], expected.workload_running[key])
        for key, status in expected.workload_status.items()}
    assert by(data.instances, "state") == expected.instances_by_state
    assert summarize(data.nodes, [], []).mem_allocated_bytes == expected.mem_allocated_bytes
