"""The demo Nomad cluster: a config entry the real config loader and collector accept."""
from __future__ import annotations

import json

from collectors import build_collector
from fleet.config import parse_config
from sim.nomad import demo


def test_the_demo_cluster_is_collected_through_its_own_config_entry():
    cluster = demo(seed=0)
    try:
        text = json.dumps({"clusters": [cluster.config]})  # JSON is YAML
        config = parse_config(text, "demo.yaml", environ=cluster.environ).clusters[0]
        collector = build_collector(config)
        data = collector.collect(timeout_s=10)
        collector.close()
    finally:
        cluster.stop()
    assert config.orchestrator == "nomad" and config.token is not None
    assert len(data.nodes) == 16 and len({n.region for n in data.nodes}) == 2
    assert len({n.zone for n in data.nodes}) == 4
    assert data.degraded_reason is None and data.version
    assert any(w.status != "healthy" for w in data.workloads)  # some problems are always on
