"""Sign-in in a real server and browser: with `auth` configured, an anonymous visitor gets no page
and no cluster data, whatever address they open."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_browser import browser_page  # noqa: F401 (fixture)
from tests.e2e.test_dashboard import open_page
from tests.engines import StreamlitServer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_an_anonymous_visitor_sees_no_cluster_on_any_address(tmp_path, browser_page):  # noqa: F811
    config = tmp_path / "clusters.yaml"
    config.write_text("settings:\n  auth:\n    admins: [boss@example.com]\nclusters:\n"
                      "  - {name: hidden-payments-cluster, orchestrator: swarm, url: 'unix:///nonexistent.sock'}\n")
    server = StreamlitServer(ROOT, {"PODIUM_CONFIG": str(config)}).start()
    try:
        pages = {}
        for path in ("", "nodes", "settings"):
            open_page(browser_page, server, path)
            pages[path] = browser_page.content()
    finally:
        server.stop()
    assert all("stays locked" in html for html in pages.values())
    assert not [path for path, html in pages.items() if "hidden-payments-cluster" in html]
