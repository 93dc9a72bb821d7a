"""The Resilience and History pages in headless Chromium; screenshots go to tests/artifacts/."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.store import open_sqlite
from tests.e2e.test_browser import ARTIFACTS, ROOT, browser_page  # noqa: F401 (fixture)
from tests.engines import StreamlitServer
from tests.fleet.snapshot_builder import T0, ClusterBuilder, snapshot
from tests.views.test_resilience_history_pages import kept_history

pytestmark = pytest.mark.e2e

APP = Path(__file__).parent / "analysis_pages"
SNAPSHOTS = ROOT / "tests" / "fleet" / "snapshots"


@pytest.fixture
def pages_server_with(tmp_path):
    """Starts the two pages' app over a history that `write_history(path)` writes; stopped after the test."""
    started: list[StreamlitServer] = []

    def start(write_history: Callable[[Path], None]) -> StreamlitServer:
        write_history(tmp_path / "history.sqlite3")
        started.append(StreamlitServer(APP, {"PYTHONPATH": str(ROOT),
                                             "PODIUM_TEST_SNAPSHOT": str(SNAPSHOTS / "not-n-plus-1.json"),
                                             "PODIUM_TEST_HISTORY": str(tmp_path / "history.sqlite3")}).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def pages_server(pages_server_with):
    return pages_server_with(kept_history)


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


def history_of_the_last_two_minutes(path: Path) -> None:
    """A dashboard started two minutes ago: rounds 15 s apart."""
    store = open_sqlite(path, clock=lambda: T0 + timedelta(minutes=2))
    for round_number in range(9):
        store.save(snapshot(ClusterBuilder(name="prod").nodes_named("n0", "n1").build(),
                            taken_at=T0 + timedelta(seconds=15 * round_number)))


def test_history_charts_of_the_first_minutes_label_each_tick_differently(pages_server_with, browser_page):
    """Rounds 15 s apart read "12:00 12:00:30 12:01 ...", not "12:00 12:00 12:01"; the cluster has no
    instances, and its Instances chart still has a time axis and counts from 0, whole numbers
    as on the Nodes chart ("0.2 nodes" is no count)."""
    server = pages_server_with(history_of_the_last_two_minutes)
    visit(browser_page, server.url + "history", "What changed", "history-first-minutes.png")
    axes = browser_page.locator("[aria-roledescription='axis']")
    labels = {axes.nth(i).get_attribute("aria-label").split(" for ")[0] + f" #{i}":
              axes.nth(i).locator(".role-axis-label text").all_text_contents()  # as Vega drew them (SVG)
              for i in range(axes.count())}
    time_axes = [texts for name, texts in labels.items() if name.startswith("X-axis")]
    assert len(time_axes) == 4, labels
    for texts in time_axes:
        assert len(texts) >= 3 and len(set(texts)) == len(texts), f"time axis labels repeat: {texts}"
    for title in ("count", "instances"):  # nodes and instances are counted in whole numbers, from 0
        counts = next(texts for name, texts in labels.items() if name.startswith(f"Y-axis titled '{title}'"))
        assert counts[0] == "0" and len(counts) >= 2 and all(text.isdigit() for text in counts), counts


def history_with_an_hour_stopped(path: Path) -> None:
    """Six rounds 15 s apart, the dashboard stopped for an hour, six rounds more."""
    store = open_sqlite(path, clock=lambda: T0 + timedelta(hours=2))
    starts = [T0 + timedelta(seconds=15 * n) for n in range(6)]
    for taken_at in starts + [start + timedelta(hours=1) for start in starts]:
        cluster = ClusterBuilder(name="prod").nodes_named("n0", "n1", cpu=4).workload("web", ["n0", "n1"], cpu=1).build()
        store.save(snapshot(cluster, taken_at=taken_at))


def test_history_charts_break_where_no_round_was_kept(pages_server_with, browser_page):
    """An hour with the dashboard stopped is a gap in every chart, not a straight line across it
    (what a line across it would claim was seen)."""
    server = pages_server_with(history_with_an_hour_stopped)
    body = visit(browser_page, server.url + "history", "What changed", "history-gap.png")
    assert "No round kept from 2026-01-01 12:01 UTC to 2026-01-01 13:00 UTC: the charts break there." in body
    for mark in ("line", "area"):
        paths = browser_page.locator(f"[data-testid='stVegaLiteChart'] .mark-{mark} path").evaluate_all(
            "paths => paths.map(p => p.getAttribute('d'))")
        assert paths, f"no {mark} drawn"
        for d in paths:
            assert d.count("M") == 2, f"a {mark} drawn as {d.count('M')} piece(s), not two: {d[:200]}"
