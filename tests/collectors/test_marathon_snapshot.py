"""A Marathon cluster from clusters.yaml through the registry and the poller into a v1 snapshot."""
from __future__ import annotations

import json

import jsonschema
import pytest

from collectors import build_collector
from fleet.config import Settings, parse_config
from fleet.model import encode_snapshot
from fleet.poller import Poller
from sim.httpserver import status
from sim.marathon import build
from sim.mesos import Auth
from tests.sim.marathon.harness import running
from tests.upstream import spec_path

TOKEN = "podium-secret-token-42"


def poll(cluster, environ: dict[str, str] | None = None):
    text = (f"clusters:\n  - name: legacy\n    orchestrator: marathon\n    url: {cluster.marathon.url}\n"
            f"    mesos_url: {cluster.mesos.url}\n    token_env: DCOS_TOKEN\n")
    config = parse_config(text, "clusters.yaml", environ=environ or {"DCOS_TOKEN": TOKEN})
    source = build_collector(config.clusters[0])
    poller = Poller([source], Settings(timeout_s=10))
    try:
        return poller.poll_once(force=True)
    finally:
        source.close()


@pytest.fixture(scope="module")
def scenario():
    return build(6)


def test_snapshot_of_a_marathon_cluster_matches_the_contract(scenario):
    with running(scenario, auth=Auth(token=TOKEN)) as cluster:
        snapshot = poll(cluster)
    document = json.loads(encode_snapshot(snapshot))
    jsonschema.validate(document, json.loads(spec_path("snapshot-v1.schema.json").read_text()))
    (entry,) = document["clusters"]
    assert (entry["status"], entry["orchestrator"], entry["endpoint"]) == ("ok", "marathon", cluster.marathon.url)
    assert entry["summary"]["nodes_total"] == len(scenario.mesos.agents)
    assert entry["summary"]["workloads_by_status"] == scenario.expected.workloads_by_status
    assert TOKEN not in encode_snapshot(snapshot).decode()


def test_master_down_makes_the_cluster_degraded_naming_the_master(scenario):
    with running(scenario, auth=Auth(token=TOKEN)) as cluster:
        cluster.mesos.fault = status(500, {"message": "registrar timeout"})
        (entry,) = poll(cluster).clusters
    assert entry.status == "degraded"
    assert entry.error is not None and entry.error.startswith("nodes: Mesos master GET /master/state-summary on")
    assert (entry.summary.nodes_total, entry.summary.workloads_total) == (0, 22)


def test_bad_token_makes_the_cluster_unauthorized_without_showing_it(scenario):
    with running(scenario, auth=Auth(token=TOKEN)) as cluster:
        snapshot = poll(cluster, {"DCOS_TOKEN": "not-the-token"})
    (entry,) = snapshot.clusters
    assert entry.status == "unauthorized"
    assert "not-the-token" not in encode_snapshot(snapshot).decode()
