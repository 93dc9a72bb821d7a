"""The running app in headless Chromium, as a user sees it. Screenshots go to tests/artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.engines import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, require_tool

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def browser_page():
    executable = require_tool(CHROMIUM, "browser tests drive Debian's chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


@pytest.mark.swarm
def test_overview_shows_a_live_swarm_and_a_dead_cluster(swarm_engine, tmp_path, browser_page):
    config = tmp_path / "clusters.yaml"
    config.write_text("settings:\n  poll_interval_s: 2\n  timeout_s: 2\nclusters:\n"
                      f"  - name: local-swarm\n    orchestrator: swarm\n    url: {swarm_engine.url}\n"
                      "  - name: lost-swarm\n    orchestrator: swarm\n    url: unix:///nonexistent/docker.sock\n")
    server = StreamlitServer(ROOT, {"PODIUM_CONFIG": str(config)}).start()
    try:
        page = browser_page
        page.goto(server.url)
        page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
        page.get_by_text("Nodes ready").first.wait_for(timeout=60_000)
        page.get_by_text("no such socket").first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "local-swarm" in body and "lost-swarm" in body
        assert "1 / 1" in body
        assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such socket" in body
        assert page.locator("[data-testid='stException']").count() == 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

        page.get_by_role("button", name="Refresh now").click()
        page.get_by_text("updated").first.wait_for(timeout=30_000)
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        server.stop()
