"""The Resilience and History pages in headless Chromium; screenshots go to tests/artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_browser import ARTIFACTS, ROOT, browser_page  # noqa: F401 (fixture)
from tests.engines import StreamlitServer
from tests.views.test_resilience_history_pages import kept_history

pytestmark = pytest.mark.e2e

APP = Path(__file__).parent / "analysis_pages"
SNAPSHOTS = ROOT / "tests" / "fleet" / "snapshots"


@pytest.fixture
def pages_server(tmp_path):
    kept_history(tmp_path / "history.sqlite3")
    server = StreamlitServer(APP, {"PYTHONPATH": str(ROOT),
                                   "PODIUM_TEST_SNAPSHOT": str(SNAPSHOTS / "not-n-plus-1.json"),
                                   "PODIUM_TEST_HISTORY": str(tmp_path / "history.sqlite3")}).start()
    yield server
    server.stop()


def visit(page, url: str, text: str, shot: str) -> str:
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.get_by_text(text).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # let charts draw before the screenshot
    assert page.locator("[data-testid='stException']").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return page.inner_text("body")


def test_resilience_page_in_a_browser_shows_verdicts_and_the_worst_node(pages_server, browser_page):
    body = visit(browser_page, pages_server.url, "Worst case", "resilience.png")
    assert "not N+1" in body and "fit nowhere" in body and "No zone information" in body


def test_history_page_in_a_browser_shows_trends_and_a_diff(pages_server, browser_page):
    body = visit(browser_page, pages_server.url + "history", "What changed", "history.png")
    assert "2 snapshots kept" in body and "+ node n2" in body
