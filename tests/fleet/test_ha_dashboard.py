"""Two real dashboards (`streamlit run app.py`) on one PostgreSQL history: their status, what they serve,
and what a follower's pages say."""
from __future__ import annotations

import json
import urllib.request

import pytest

from sim.nomad import build, start
from tests.e2e.test_browser import ROOT, browser_page  # noqa: F401 (fixture)
from tests.engines import StreamlitServer, wait_for

pytestmark = pytest.mark.replicas


def get_json(server: StreamlitServer, path: str) -> dict:
    with urllib.request.urlopen(server.url + path.lstrip("/"), timeout=10) as answer:
        return json.loads(answer.read())


@pytest.fixture
def replicas(tmp_path, postgres_url):
    nomad = start(build(3, regions=1, datacenters=1, nodes=3, jobs=2, allocs_per_job=1))
    config = tmp_path / "clusters.yaml"
    config.write_text(json.dumps({"settings": {"poll_interval_s": 3, "timeout_s": 2,
                                               "history_db_url_env": "PODIUM_TEST_PG"},
                                  "clusters": [{"name": "batch", "orchestrator": "nomad", "url": nomad.url}]}))
    servers = []
    try:
        for name in ("dash-a", "dash-b"):
            env = {"PODIUM_CONFIG": str(config), "PODIUM_TEST_PG": postgres_url, "PODIUM_REPLICA": name}
            servers.append(StreamlitServer(ROOT, env).start())
        yield servers
    finally:
        for server in servers:
            server.stop()
        nomad.stop()


def test_two_dashboards_elect_one_leader_and_serve_the_same_stored_round(replicas):
    def roles():
        statuses = [get_json(s, "/api/v1/status") for s in replicas]
        found = sorted(s["role"] for s in statuses)
        return statuses if found == ["follower", "leader"] and statuses[0]["leader"] == statuses[1]["leader"] \
            and all(s["last_round_at"] for s in statuses) else None
    statuses = wait_for(roles, timeout_s=90, what="one leader, one follower, both serving a round")
    leader = next(s["replica"] for s in statuses if s["role"] == "leader")
    assert leader in ("dash-a", "dash-b") and all(s["leader"] == leader for s in statuses)

    def same_round():
        snapshots = [get_json(s, "/api/v1/snapshot") for s in replicas]
        return snapshots if snapshots[0]["taken_at"] == snapshots[1]["taken_at"] else None
    snapshots = wait_for(same_round, timeout_s=60, what="both replicas serving the same stored round")
    assert snapshots[0] == snapshots[1]
    assert snapshots[0]["clusters"][0]["status"] == "ok" and snapshots[0]["clusters"][0]["nodes"]


@pytest.mark.e2e
def test_a_follower_says_so_on_its_pages_and_names_the_leader(replicas, browser_page):  # noqa: F811
    def follower():
        for server in replicas:
            status = get_json(server, "/api/v1/status")
            if status["role"] == "follower" and status["leader"]:
                return server, status
        return None
    server, status = wait_for(follower, timeout_s=90, what="a follower with a leader")
    browser_page.goto(server.url + "nodes")
    browser_page.get_by_text(f"Follower replica {status['replica']}").wait_for(timeout=60_000)
    body = browser_page.inner_text("body")
    assert status["leader"] in body
    assert browser_page.locator("[data-testid='stException']").count() == 0
