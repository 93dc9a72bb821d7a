"""The Services page of the demo fleet in headless Chromium: the Nomad service with no ready backend
is found by name, its detail lists the workload behind it, and Health names the problem."""
from __future__ import annotations

import pytest

from tests.e2e.test_browser import ARTIFACTS, ROOT, browser_page  # noqa: F401 (fixture)
from tests.e2e.test_dashboard import open_page, settle
from tests.engines import StreamlitServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    config = tmp_path_factory.mktemp("demo-services") / "clusters.yaml"  # absent: the demo fleet starts
    server = StreamlitServer(ROOT, {"PODIUM_CONFIG": str(config)}).start()
    yield server
    server.stop()


def test_a_service_without_ready_backends_its_workload_and_its_problem(demo_server, browser_page):  # noqa: F811
    page = browser_page
    open_page(page, demo_server, "")
    page.get_by_text("Worst problems now").wait_for(timeout=90_000)
    open_page(page, demo_server, "services")
    page.get_by_role("heading", name="Services").wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    search = page.get_by_role("textbox", name="Search")
    search.fill("checkout-http")
    search.press("Enter")
    page.get_by_text("1 services").wait_for(timeout=60_000)
    settle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Service detail").click()
    page.get_by_role("option", name="demo-nomad / default/checkout-http").click()
    page.get_by_text("Workloads behind demo-nomad / default/checkout-http").wait_for(timeout=60_000)
    page.get_by_text("The service counts 0 of 0 backends ready.").wait_for(timeout=60_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-services.png"), full_page=True)
    open_page(page, demo_server, "health")
    page.wait_for_timeout(1500)
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
