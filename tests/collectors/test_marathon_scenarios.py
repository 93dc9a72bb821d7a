"""The Marathon collector against emulated clusters: what each scenario says a collector must report."""
from __future__ import annotations

import pytest

from fleet.model import summarize
from sim.marathon import PROBLEMS, build
from tests.sim.marathon.harness import by_status, collect, running

SIZES = [dict(agents=15, apps=20, pods=2), dict(agents=40, apps=60, pods=3, instances_per_app=3)]


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("size", SIZES, ids=["mid", "larger"])
def test_collector_reports_what_the_scenario_states(seed, size):
    scenario = build(seed, **size)
    expected = scenario.expected
    with running(scenario) as cluster:
        data = collect(cluster)
    assert data.degraded_reason is None
    assert by_status(data.nodes) == expected.nodes_by_status
    assert {n.id for n in data.nodes if not n.schedulable} == expected.unschedulable_nodes
    assert {n.id: n.zone for n in data.nodes} == expected.node_zones
    assert {w.id: w.status for w in data.workloads} == expected.workload_status
    assert by_status(data.instances, "state") == expected.instances_by_state
    assert sum(i.health == "unhealthy" for i in data.instances) == expected.unhealthy_instances
    summary = summarize(data.nodes, data.workloads, data.instances)
    assert summary.cpu_allocated_cores == pytest.approx(expected.cpu_allocated_cores)
    assert summary.mem_allocated_bytes == expected.mem_allocated_bytes


def test_app_stuck_in_queue_is_reported_with_its_offer_rejection_reason():
    scenario = build(3)
    with running(scenario) as cluster:
        data = collect(cluster)
    reasons = {e.object[len("App"):]: e.reason for e in data.events
               if e.object.startswith("App/") and e.reason not in ("Deployment", "TASK_FAILED", "LaunchDelayed")}
    assert reasons == scenario.expected.stuck_reasons
    assert set(reasons.values()) == {"InsufficientMemory", "UnfulfilledConstraint"}


def test_last_task_failure_and_backoff_become_events():
    scenario = build(4, problems=["crash_backoff"])
    with running(scenario) as cluster:
        data = collect(cluster)
    (app_id, state), = scenario.expected.task_failures.items()
    reasons = {e.reason for e in data.events if e.object == f"App{app_id}"}
    assert reasons == {state, "LaunchDelayed"}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_each_problem_alone_is_reported(problem):
    scenario = build(11, agents=12, apps=8, pods=2, problems=[problem])
    with running(scenario) as cluster:
        data = collect(cluster)
    assert {w.id: w.status for w in data.workloads} == scenario.expected.workload_status
    assert by_status(data.nodes) == scenario.expected.nodes_by_status
    assert by_status(data.instances, "state") == scenario.expected.instances_by_state


def test_healthy_cluster_has_only_healthy_workloads_and_no_events():
    scenario = build(5, problems=[])
    with running(scenario) as cluster:
        data = collect(cluster)
    assert by_status(data.workloads) == {"healthy": 22}
    assert data.events == []


def test_agents_carry_attributes_fault_domain_version_and_marathon_role_allocatable():
    scenario = build(0, problems=[])
    public = next(a for a in scenario.mesos.agents if a.reserved)
    with running(scenario) as cluster:
        data = collect(cluster)
    node = next(n for n in data.nodes if n.id == public.id)
    assert node.labels == {"rack": public.attributes["rack"], "instance_type": "m5.2xlarge", "ssd": "true",
                           "public_ip": "true"}
    assert (node.region, node.zone, node.version, node.address) == ("eu-west-1", public.zone, "1.11.0", public.ip)
    # Marathon runs in role "*": the 2 cores reserved for slave_public are not offered to it
    assert node.cpu_capacity_cores == public.cpus
    assert node.cpu_allocatable_cores == public.cpus - 2


def test_one_round_is_six_gets_whatever_the_size():
    for size in (dict(agents=10, apps=10), dict(agents=30, apps=80)):
        with running(build(2, **size)) as cluster:
            collect(cluster)
            requests = cluster.marathon.requests + cluster.mesos.requests
        assert len(requests) == 6
        assert {method for method, _, _ in requests} == {"GET"}


def test_apps_are_read_with_explicit_embeds():
    with running(build(2)) as cluster:
        collect(cluster)
        (query,) = [q for _, path, q in cluster.marathon.requests if path == "/v2/apps"]
    assert sorted(query["embed"]) == ["apps.counts", "apps.deployments", "apps.lastTaskFailure", "apps.readiness",
                                      "apps.tasks"]
