"""The poller and CLI against real Docker engines: a dead engine never spoils a healthy one."""
from __future__ import annotations

import json

import jsonschema
import pytest

from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig, Settings
from fleet.poller import Poller
from tests.engines import Dockerd
from tests.fleet.test_cli import run_cli
from tests.upstream import spec_path

pytestmark = pytest.mark.swarm


@pytest.fixture
def doomed_engine():
    engine = Dockerd("doomed").start().init_swarm()
    yield engine
    engine.remove()


def swarm_source(name: str, engine) -> SwarmCollector:
    return SwarmCollector(ClusterConfig(name=name, orchestrator="swarm", url=engine.url))


def test_stopped_engine_goes_unreachable_with_stale_data_while_the_other_stays_ok(swarm_engine, doomed_engine):
    poller = Poller([swarm_source("doomed", doomed_engine), swarm_source("steady", swarm_engine)],
                    Settings(poll_interval_s=5, timeout_s=5))
    try:
        first = poller.poll_once()
        assert [c.status for c in first.clusters] == ["ok", "ok"]
        doomed_before = first.clusters[0]
        assert doomed_before.summary.nodes_ready == 1

        doomed_engine.stop()
        second = poller.poll_once(force=True)
        doomed, steady = second.clusters
        assert (doomed.status, doomed.stale) == ("unreachable", True)
        assert "cannot reach the Docker engine" in doomed.error
        assert doomed.nodes == doomed_before.nodes and doomed.collected_at == doomed_before.collected_at
        assert (steady.status, steady.stale) == ("ok", False)
        assert steady.collected_at > first.clusters[1].collected_at
    finally:
        poller.stop()


def test_cli_snapshot_of_a_healthy_swarm_exits_0_and_matches_the_contract(swarm_engine, tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text(f"clusters:\n  - name: local\n    orchestrator: swarm\n    url: {swarm_engine.url}\n")
    result = run_cli("snapshot", "--config", str(config), "--output", str(tmp_path / "snap.json"))
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "snap.json").read_text())
    schema = json.loads(spec_path("snapshot-v1.schema.json").read_text())
    jsonschema.validate(document, schema)
    [cluster] = document["clusters"]
    assert (cluster["status"], cluster["summary"]["nodes_ready"]) == ("ok", 1)
    check = run_cli("check", "--config", str(config))
    assert check.returncode == 0 and check.stdout.split()[:2] == ["local", "ok"]
