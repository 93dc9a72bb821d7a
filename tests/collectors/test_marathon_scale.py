"""Scale tier: 50,000 Mesos agents (the seed's practical Mesos figure) read correctly in one round."""
from __future__ import annotations

import pytest

from sim.marathon import build
from tests.sim.marathon.harness import by_status, collect, running

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def big():
    return build(21, agents=50_000, apps=2_000, pods=20, instances_per_app=10)


def test_fifty_thousand_agents_and_twenty_thousand_tasks_are_all_reported(big):
    with running(big) as cluster:
        data = collect(cluster)
        requests = cluster.marathon.requests + cluster.mesos.requests
    expected = big.expected
    assert len(data.nodes) == 50_000
    assert by_status(data.nodes) == expected.nodes_by_status
    assert sum(not n.schedulable for n in data.nodes) == len(expected.unschedulable_nodes)
    assert by_status(data.workloads) == expected.workloads_by_status
    assert by_status(data.instances, "state") == expected.instances_by_state
    assert len(requests) == 6
