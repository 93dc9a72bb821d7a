"""The Swarm collector against the emulator: what it reports equals each scenario's stated truth."""
from __future__ import annotations

import json

import pytest

from collectors.swarm import engine
from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig
from sim.swarm import build, expected, start
from sim.swarm.scenario import Scenario


def collect(scenario: Scenario):
    with start(scenario) as cluster:
        collector = SwarmCollector(ClusterConfig(name="swarm", orchestrator="swarm", url=cluster.docker_host))
        try:
            return collector.collect(timeout_s=30)
        finally:
            collector.close()


@pytest.mark.parametrize("seed, problems", [(0, True), (1, True), (2, False)])
def test_services_are_reported_as_the_scenario_states(seed, problems):
    scenario = build(seed, nodes=12, services=16, replicas=3, global_services=2, history=2, problems=problems)
    data = collect(scenario)
    truth = expected(scenario)
    reported = {w.name: (w.desired, w.running, w.status, w.kind, w.namespace) for w in data.workloads}
    assert reported == {name: (t.desired, t.running, t.status, t.kind, t.namespace)
                        for name, t in truth.services.items()}


def test_nodes_are_reported_as_the_scenario_states():
    scenario = build(0, nodes=12, services=8)
    data = collect(scenario)
    reported = {n.name: (n.status, n.schedulable, tuple(n.roles)) for n in data.nodes}
    assert reported == {name: (t.status, t.schedulable, t.roles) for name, t in expected(scenario).nodes.items()}


def test_a_rejected_image_is_the_reason_of_the_waiting_task():
    scenario = build(0, nodes=12, services=8)
    failing = next(s for s in scenario.services if s.failure == "no_image")
    data = collect(scenario)
    reasons = {i.reason for i in data.instances if i.workload_id and i.name.startswith(failing.name + ".")}
    assert reasons == {f"No such image: {failing.image}"}


def test_a_large_swarm_read_in_parts_reports_what_one_listing_does(monkeypatch):
    scenario = build(1, nodes=12, services=16, replicas=3, global_services=2, history=2, problems=True)
    with start(scenario) as cluster:
        def collected():
            collector = SwarmCollector(ClusterConfig(name="swarm", orchestrator="swarm", url=cluster.docker_host))
            try:
                return collector.collect(timeout_s=30)
            finally:
                collector.close()
        whole = collected()
        monkeypatch.setattr(engine, "TASKS_PER_PART", 7)  # a few services' tasks per request
        cluster.server.requests.clear()
        in_parts = collected()
        task_reads = [query for _, path, query in cluster.server.requests if path.endswith("/tasks")]
    assert len(task_reads) > 4 and all("filters" in query for query in task_reads)
    asked = [service for query in task_reads for service in json.loads(query["filters"][0])["service"]]
    assert sorted(asked) == sorted(w.id for w in whole.workloads)  # each service asked for once
    assert in_parts.instances == whole.instances
    assert in_parts.workloads == whole.workloads
    assert in_parts.events == whole.events
