"""The first page through Streamlit's AppTest: what a user sees for each state of the config."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.engines import wait_for

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "tests" / "fleet" / "configs"


def run_app(monkeypatch, config: Path) -> AppTest:
    monkeypatch.setenv("PODIUM_CONFIG", str(config))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    return app.run()


def page_text(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [e.value for e in app.error] + [i.value for i in app.info]
    parts += [c.value for c in app.caption] + [str(m.value) for m in app.metric] + [c.value for c in app.code]
    parts += [w.value for w in app.warning]
    return "\n".join(str(p) for p in parts)


def rerun_until(app: AppTest, needle: str) -> str:
    def shows() -> str | None:
        app.run()
        text = page_text(app)
        return text if needle in text else None
    return wait_for(shows, timeout_s=60, interval_s=0.5, what=f"the page to show {needle!r}")


def test_without_clusters_and_without_demo_the_page_says_how_to_add_clusters(monkeypatch, tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text("settings:\n  demo: false\nclusters: []\n")
    app = run_app(monkeypatch, config)
    assert not app.exception
    assert "No clusters configured yet" in app.info[0].value
    assert "config/clusters.example.yaml" in app.info[0].value


def test_without_config_the_demo_fleet_is_shown_through_the_collectors(monkeypatch, tmp_path):
    app = run_app(monkeypatch, tmp_path / "clusters.yaml")
    assert "Demo fleet" in app.info[0].value

    def every_card_has_numbers() -> bool:
        app.run()
        return sum(1 for m in app.metric if m.label == "Nodes ready") == 1 + 4  # fleet total + one per cluster
    wait_for(every_card_has_numbers, timeout_s=60, interval_s=0.5, what="four collected demo clusters")
    assert not app.exception
    text = page_text(app)
    for orchestrator in ("Kubernetes", "Nomad", "Marathon / Mesos", "Docker Swarm"):
        assert orchestrator in text


def test_broken_config_is_shown_with_file_line_and_key(monkeypatch):
    app = run_app(monkeypatch, CONFIGS / "unknown-key.yaml")
    assert not app.exception
    assert "has problems" in app.error[0].value
    assert "unknown-key.yaml:7: clusters[0] (edge).verfy_tls: unknown key" in app.code[0].value


def test_unreachable_cluster_card_shows_status_and_error(monkeypatch, tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text("settings:\n  timeout_s: 2\nclusters:\n"
                      "  - name: far-away\n    orchestrator: swarm\n    url: unix:///nonexistent/docker.sock\n")
    app = run_app(monkeypatch, config)
    text = rerun_until(app, "no such socket")
    assert not app.exception
    assert "far-away" in text and "unreachable" in text
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such socket" in app.error[0].value


@pytest.mark.swarm
def test_real_swarm_card_shows_version_nodes_and_allocation(monkeypatch, tmp_path, swarm_engine):
    config = tmp_path / "clusters.yaml"
    config.write_text(f"clusters:\n  - name: local-swarm\n    orchestrator: swarm\n    url: {swarm_engine.url}\n")
    app = run_app(monkeypatch, config)
    text = rerun_until(app, "collected")
    text = rerun_until(app, swarm_engine.client.version()["Version"])
    assert not app.exception
    assert "local-swarm" in text and ":green-badge[:material/check_circle: ok]" in text
    nodes = next(m for m in app.metric if m.label == "Nodes ready")
    assert nodes.value == "1 / 1"


def test_an_uploaded_snapshot_is_browsed_read_only_in_every_page(monkeypatch, tmp_path):
    from fleet.model import decode_snapshot

    snapshot = decode_snapshot((ROOT / "tests" / "views" / "snapshots" / "small-fleet.json").read_bytes())
    config = tmp_path / "clusters.yaml"
    config.write_text("settings:\n  demo: false\nclusters: []\n")
    monkeypatch.setenv("PODIUM_CONFIG", str(config))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.session_state["offline-snapshot"] = (snapshot, "yesterday.json")
    app.run()
    assert not app.exception
    banner = app.warning[0].value
    assert "Offline: browsing **yesterday.json**, taken 2026-11-27 03:00:00 UTC" in banner
    assert "clusters edge-swarm, batch-nomad — read-only" in banner
    assert "edge-swarm" in page_text(app)
    next(b for b in app.button if b.label == "Back to live").click()
    app.run()
    assert "No clusters configured yet" in app.info[0].value


def test_streamlit_does_not_collect_all_garbage_after_each_page_view(monkeypatch, tmp_path):
    """Streamlit's default full collection after every page view stalls every page for seconds once a
    large fleet is in memory; the setting comes from app.py's folder, whatever the working directory."""
    from streamlit import config

    monkeypatch.chdir(tmp_path)  # `streamlit run /opt/podium/app.py` from somewhere else
    monkeypatch.setattr(config, "_main_script_path", str(ROOT / "app.py"))
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("runner.postScriptGC") is False
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)
