"""Scenarios are consistent and state what they contain; timelines make problems come and go."""
from __future__ import annotations

import pytest

from sim.nomad import PROBLEMS, build, timeline


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_same_seed_builds_the_same_cluster(seed):
    first, second = build(seed, now_s=1.7e9), build(seed, now_s=1.7e9)
    assert [n.id for r in first.regions.values() for n in r.nodes] == \
           [n.id for r in second.regions.values() for n in r.nodes]
    assert first.expected == second.expected


def test_a_quiet_cluster_has_no_problems_to_report():
    expected = build(0, problems=()).expected
    assert expected.nodes_by_status == {"ready": 16}
    assert set(expected.workloads_by_status) <= {"healthy", "completed"}
    assert expected.events == [] and expected.reasons == {}


def test_every_problem_shows_in_the_expectations():
    expected = build(0).expected
    assert expected.nodes_by_status == {"ready": 13, "down": 1, "not_ready": 2}
    assert len(expected.unschedulable_nodes) == 2  # draining and ineligible
    assert {"progressing", "failed", "degraded", "stopped", "completed"} <= set(expected.workloads_by_status)
    assert ("Job/default/ml-trainer", "no nodes had enough memory") in expected.events



def test_no_node_holds_more_memory_than_it_has():
    """The blocked job asks for 96 GiB a task after two of its allocations were placed: those keep
    what they were placed with (the demo once showed a node holding 153% of its memory)."""
    scenario = build(0)
    for region in scenario.regions.values():
        held: dict[str, int] = {}
        for alloc in region.allocs:
            if alloc.client_status in ("pending", "running"):
                held[alloc.node.id] = held.get(alloc.node.id, 0) + sum(t.memory_mb for t in alloc.group.tasks)
        for node in region.nodes:
            assert held.get(node.id, 0) <= node.memory_mb - node.reserved_memory_mb, node.name
    trainer = next(j for r in scenario.regions.values() for j in r.jobs if j.id == "ml-trainer")
    assert trainer.groups[0].tasks[0].memory_mb == 98304  # what the blocked evaluation cannot place

def test_sizes_are_spread_over_regions_and_datacenters():
    scenario = build(2, regions=3, datacenters=3, nodes=30, jobs=24, problems=())
    assert [len(r.nodes) for r in scenario.regions.values()] == [10, 10, 10]
    assert {n.datacenter for n in scenario.regions["eu-west"].nodes} == {"eu-west-dc1", "eu-west-dc2", "eu-west-dc3"}
    assert sum(len(r.jobs) for r in scenario.regions.values()) == 24


def test_job_types_and_drivers_are_all_represented():
    scenario = build(0, jobs=30)
    jobs = [j for r in scenario.regions.values() for j in r.jobs]
    assert {j.type for j in jobs} == {"service", "batch", "system", "sysbatch"}
    assert {t.driver for j in jobs for g in j.groups for t in g.tasks} == {"docker", "exec", "java", "qemu"}


def test_an_unknown_problem_is_refused():
    with pytest.raises(ValueError, match="unknown problems"):
        build(0, problems=["volcano"])


def test_timeline_problems_come_and_go():
    now = [0.0]
    current = timeline(0, period_s=60, clock=lambda: now[0])
    phases = []
    for phase in range(3):
        now[0] = phase * 60 + 1
        phases.append(set(current().problems))
    assert all(phases) and len({frozenset(p) for p in phases}) == 3
    assert set().union(*phases) == set(PROBLEMS)
    assert current() is current()  # one scenario per phase
