"""A real Prometheus scrapes a running dashboard (with an API token, as deployed with auth) whose fleet
has a cluster of every orchestrator: PromQL through Prometheus's HTTP API returns the snapshot's values.

Swarm is the real dockerd of tests/engines.py; where that tier cannot run, the test goes on without
Swarm (and fails instead under PODIUM_REQUIRE_ENGINES=1, as the other engine tests do)."""
from __future__ import annotations

import pytest

from fleet.auth import hash_token
from tests.api.dashboard import start_dashboard
from tests.api.prometheus import Prometheus
from tests.engines import wait_for

TOKEN = "podium_prometheus-test-token-7d41c0"
pytestmark = pytest.mark.swarm


@pytest.fixture(scope="module")
def swarm_url(request):
    try:
        return request.getfixturevalue("swarm_engine").url
    except pytest.skip.Exception:
        return None


@pytest.fixture(scope="module")
def scraped(tmp_path_factory, swarm_url):
    auth = {"viewers": ["*"], "api_tokens": [{"name": "prometheus", "sha256": hash_token(TOKEN)}]}
    dashboard = start_dashboard(tmp_path_factory.mktemp("prom"), swarm_url=swarm_url, settings={"auth": auth},
                                token=TOKEN).wait_ready()
    prometheus = None
    try:
        prometheus = Prometheus(dashboard.url.removeprefix("http://"), bearer_token=TOKEN).start()
        wait_for(lambda: prometheus.query("podium_cluster_up"), timeout_s=60, what="Prometheus's first scrape")
        yield dashboard, prometheus
    finally:
        if prometheus is not None:
            prometheus.stop()
        dashboard.stop()


def snapshot_clusters(dashboard):
    return {c["name"]: c for c in dashboard.get("/api/v1/snapshot").json()["clusters"]}


def by_cluster(result, **fixed):
    return {dict(labels)["cluster"]: value for labels, value in result.items()
            if all(dict(labels).get(k) == v for k, v in fixed.items())}


def test_every_orchestrator_is_scraped(scraped, swarm_url):
    dashboard, prometheus = scraped
    assert [t["health"] for t in prometheus.target_health()] == ["up"]
    orchestrators = {dict(labels)["orchestrator"] for labels in prometheus.query("podium_cluster_up")}
    emulated = {e.config["orchestrator"] for e in dashboard.emulators}
    assert {"kubernetes", "nomad", "marathon"} <= emulated
    assert orchestrators == emulated | ({"swarm"} if swarm_url else set())


def test_cluster_up_in_prometheus_is_the_snapshot_status(scraped):
    dashboard, prometheus = scraped
    expected = {name: float(c["status"] in ("ok", "degraded")) for name, c in snapshot_clusters(dashboard).items()}
    assert by_cluster(prometheus.query("podium_cluster_up")) == expected
    assert expected["lost"] == 0 and expected["demo-kubernetes"] == 1


def test_nodes_ready_in_prometheus_are_the_snapshot_summary(scraped):
    dashboard, prometheus = scraped
    expected = {name: float(c["summary"]["nodes_ready"]) for name, c in snapshot_clusters(dashboard).items()}
    assert by_cluster(prometheus.query('podium_nodes{status="ready"}')) == expected
    assert sum(prometheus.query('sum(podium_nodes{status="ready"})').values()) == sum(expected.values()) > 0


def test_failed_workloads_in_prometheus_are_the_snapshot_summary(scraped):
    dashboard, prometheus = scraped
    expected = {name: float(c["summary"]["workloads_by_status"].get("failed", 0))
                for name, c in snapshot_clusters(dashboard).items()}
    assert by_cluster(prometheus.query('podium_workloads{status="failed"}')) == expected
    assert any(expected.values())


def test_collection_time_is_a_histogram_per_cluster(scraped):
    dashboard, prometheus = scraped
    counts = by_cluster(prometheus.query("podium_collection_duration_seconds_count"))
    assert set(counts) == set(snapshot_clusters(dashboard)) and all(v >= 1 for v in counts.values())
