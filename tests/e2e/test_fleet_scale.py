"""The whole product at a CI-sized seed fleet: bench/fleet_scale.py's code, checked instead of printed.

Four emulated clusters (Kubernetes, Nomad, Marathon on Mesos, Swarm) of 300 nodes each at the seed's
densities, each in its own process; the real dashboard (`streamlit run app.py`) watching them;
every page opened in headless Chromium, then each table searched and narrowed to one cluster. A user
would notice a page that never finishes, shows an exception, ships more than the byte limit, or a
search or filter that does not narrow the table; seconds stay in the bench.
"""
from __future__ import annotations

import pytest

from bench.fleet_pages import PAGES, TABLE_PAGES
from bench.fleet_scale import PAGE_BYTES, Fleet, scaled, start_dashboard, stop_dashboard, wait_for_first_round
from tests.engines import CHROMIUM, require_tool

pytestmark = [pytest.mark.e2e, pytest.mark.scale]


@pytest.fixture
def dashboard_url(tmp_path):
    fleet = Fleet(scaled(300), tmp_path, poll_interval_s=15)
    dashboard = None
    try:
        dashboard, url = start_dashboard(fleet.env, fleet.config, tmp_path / "streamlit.log")
        seen, _ = wait_for_first_round(fleet, dashboard, url, tmp_path / "streamlit.log", timeout_s=240)
        # the page left open as the dashboard started showed the first round by itself, no reload
        assert seen.first_cluster_s is not None and seen.every_cluster_s is not None
        yield url
    finally:
        if dashboard is not None:
            stop_dashboard(dashboard)
        fleet.stop()


def test_every_page_settles_without_an_exception_and_under_the_byte_limit_and_its_filters_narrow_it(dashboard_url):
    require_tool(CHROMIUM, "browser tests drive Debian's chromium")
    pytest.importorskip("playwright.sync_api")
    from bench.fleet_pages import answer_filters, visit_pages

    _, views = visit_pages(dashboard_url, timeout_s=180)
    assert [view.page for view in views] == PAGES
    for view in views:
        assert view.settled, f"{view.page} still running"
        assert view.exceptions == 0, f"{view.page}: {view.text[:2000]}"
        assert view.bytes <= PAGE_BYTES, f"{view.page} shipped {view.bytes:,} bytes"
    text = {view.page: view.text for view in views}
    for name in ("seed-kubernetes", "seed-nomad", "seed-marathon", "seed-swarm"):
        assert name in text["overview"]
    assert "Traceback" not in "".join(text.values())

    answers = answer_filters(dashboard_url, timeout_s=180)
    searched = {a.page: a for a in answers if a.action.startswith("search ")}
    one_cluster = {a.page: a for a in answers if a.action.startswith("cluster = ")}
    assert sorted(searched) == sorted(one_cluster) == sorted(TABLE_PAGES)
    for answer in answers:
        assert answer.settled and answer.exceptions == 0, answer
        assert answer.bytes <= PAGE_BYTES, answer
        # a name from the table finds its row, and fewer than all; one of four clusters shows fewer rows
        assert answer.rows_before and answer.rows_after and answer.rows_after < answer.rows_before, answer
