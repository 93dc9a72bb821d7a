"""The demo swarm: a config entry the real config loader and collector accept, with its problems."""
from __future__ import annotations

import json

from collectors import build_collector
from fleet.config import parse_config
from sim.fleet import EMULATED
from sim.swarm import demo


def test_the_demo_swarm_is_collected_through_its_own_config_entry():
    cluster = demo(seed=0)
    try:
        config = parse_config(json.dumps({"clusters": [cluster.config]}), "demo.yaml").clusters[0]
        collector = build_collector(config)
        data = collector.collect(timeout_s=10)
        collector.close()
    finally:
        cluster.stop()
    assert config.orchestrator == "swarm"
    assert len(data.nodes) == 12 and sum("manager" in n.roles for n in data.nodes) == 3
    assert any(not n.schedulable for n in data.nodes)  # a drained node
    assert {w.namespace for w in data.workloads} >= {"shop", "platform", "data", "edge", "ops"}
    assert any(w.status == "failed" for w in data.workloads)


def test_the_demo_fleet_has_all_four_orchestrators():
    assert set(EMULATED) == {"kubernetes", "nomad", "marathon", "swarm"}
