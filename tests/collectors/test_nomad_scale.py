"""Nomad at 10,000 nodes: the collector stays correct and stays with a handful of list calls.

Wall-clock time is the benchmark's business (bench/nomad_scale.py); these tests count requests.
"""
from __future__ import annotations

import pytest

from collectors.nomad.fetch import NomadCollector
from sim.nomad import build, start
from tests.sim.nomad.harness import TOKENS, by, config

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def large():
    scenario = build(11, regions=2, datacenters=4, nodes=10_000, jobs=200, allocs_per_job=20)
    with start(scenario, tokens=TOKENS) as cluster:
        collector = NomadCollector(config(cluster.url))
        first = collector.collect(timeout_s=60)
        asked = [(path, query) for server in cluster.servers for _, path, query in server.requests]
        for server in cluster.servers:
            server.requests.clear()
        second = collector.collect(timeout_s=60)
        again = [(path, query) for server in cluster.servers for _, path, query in server.requests]
        collector.close()
        yield scenario.expected, first, second, asked, again


def test_every_node_and_allocation_is_reported(large):
    expected, first, _, _, _ = large
    assert len(first.nodes) == 10_000
    assert by(first.nodes) == expected.nodes_by_status
    assert by(first.instances, "state") == expected.instances_by_state
    assert {w.id: w.status for w in first.workloads} == expected.workload_status


def test_no_request_per_node_or_allocation(large):
    expected, first, _, asked, _ = large
    per_object = [p for p, _ in asked if p.startswith(("/v1/node/", "/v1/allocation/", "/v1/client/"))]
    assert per_object == []
    # Nomad has no bulk read of registrations or policies: one read per service name and per policy
    per_service = [p for p, _ in asked if p.startswith("/v1/service/")]
    per_policy = [p for p, _ in asked if p.startswith("/v1/scaling/policy/")]
    assert len(per_service) <= sum(1 for s in first.services if s.kind == "nomad")  # per region, namespace, name
    assert len(per_policy) <= sum(1 for w in first.workloads if w.autoscaler is not None)
    lists = [p for p, _ in asked if not p.startswith(("/v1/job/", "/v1/service/", "/v1/scaling/policy/"))]
    assert len(lists) < 60  # agent, regions and paged lists for two regions


def test_an_unchanged_cluster_is_not_read_again(large):
    _, first, second, _, again = large
    full_reads = [p for p, q in again if "index" not in q and p not in ("/v1/agent/self", "/v1/regions")]
    assert full_reads == []
    # agent, regions, one probe per table per region: nodes, jobs, allocations, deployments, evaluations,
    # service registrations, scaling policies
    assert len(again) <= 2 + 2 * 7
    assert second is first  # nothing moved: the last model is reused, not rebuilt
