"""`streamlit run app.py`, and never a page opened: the fleet is collected from the start and the API
answers beside the pages, on the same port."""
from __future__ import annotations

import json

import jsonschema
import pytest
import requests

from tests.api.dashboard import ROOT, start_dashboard
from tests.engines import StreamlitServer, wait_for
from tests.upstream import spec_path


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    started = start_dashboard(tmp_path_factory.mktemp("dashboard"))
    yield started
    started.stop()


def test_collection_starts_with_the_server_without_any_page_view(dashboard):
    dashboard.wait_ready()
    clusters = {c["name"]: c for c in dashboard.get("/api/v1/snapshot").json()["clusters"]}
    emulated = [e.name for e in dashboard.emulators]
    assert {"demo-kubernetes", "demo-nomad", "demo-marathon"} <= set(emulated)
    assert {name: c["status"] for name, c in clusters.items()} == {**{name: "ok" for name in emulated},
                                                                    "lost": "unreachable"}
    assert all(clusters[name]["summary"]["nodes_total"] > 0 for name in emulated)


def test_the_snapshot_of_real_collectors_matches_the_shared_schema(dashboard):
    dashboard.wait_ready()
    schema = json.loads(spec_path("snapshot-v1.schema.json").read_text())
    jsonschema.validate(dashboard.get("/api/v1/snapshot").json(), schema)


def test_the_pages_are_still_served_on_the_same_port(dashboard):
    page = dashboard.get("/")
    assert page.status_code == 200 and '<div id="root">' in page.text
    assert dashboard.get("/_stcore/health").text == "ok"


def test_metrics_are_served_beside_the_pages(dashboard):
    dashboard.wait_ready()
    text = dashboard.get("/metrics").text
    assert 'podium_cluster_up{cluster="demo-nomad",orchestrator="nomad"} 1.0' in text
    assert 'podium_cluster_up{cluster="lost",orchestrator="kubernetes"} 0.0' in text


def test_no_credential_of_any_cluster_appears_in_any_answer(dashboard):
    dashboard.wait_ready()
    secrets = [value for key, value in dashboard.env.items() if key != "PODIUM_CONFIG"]
    assert secrets
    for path in ("/api/v1/snapshot", "/api/v1/clusters", "/api/v1/clusters/lost", "/api/v1/problems",
                 "/api/v1/analysis?all_nodes=true", "/api/v1/status", "/metrics", "/readyz", "/api/v1/x"):
        answer = dashboard.get(path).text
        assert not [s for s in secrets if s in answer], path


def test_without_a_config_the_demo_fleet_starts_with_the_server(tmp_path):
    server = StreamlitServer(ROOT, {"PODIUM_CONFIG": str(tmp_path / "clusters.yaml")}).start()
    try:
        wait_for(lambda: requests.get(server.url + "readyz", timeout=10).status_code == 200, timeout_s=90,
                 what="the demo fleet's first round")
        names = [c["name"] for c in requests.get(server.url + "api/v1/clusters", timeout=10).json()]
        assert {"demo-kubernetes", "demo-nomad", "demo-marathon"} <= set(names)
        assert all(name.startswith("demo-") for name in names)
    finally:
        server.stop()
