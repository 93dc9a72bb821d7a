"""Every page of a running dashboard in headless Chromium: seconds to settle, bytes received.

Used by bench/fleet_scale.py (which prints) and tests/e2e/test_fleet_scale.py (which checks
that pages settle without an exception block and stay under the byte limit). A page is opened
as a user opening its address does (a fresh load; the browser's cache keeps the static bundle
from the first page). It has settled when Streamlit's script run that the load started is over:
the app's data-test-script-state went to "running" and back to "notRunning".
Bytes received: the encoded body of every HTTP response (0 for one served from the cache) plus
every websocket frame received, where the page's data travels.

`answer_filters` does what a user does next on the pages with tables: types a name into the
search box, then narrows the table to one cluster, and times each answer the same way (the
script run the change started is over), with the row count the page then says.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PAGES = ["overview", "nodes", "workloads", "instances", "services", "health", "capacity", "resilience", "history",
         "snapshots", "settings"]
TABLE_PAGES = ["nodes", "workloads", "instances", "services", "health"]  # a filter bar over one big table
NAME_COLUMNS = ("name", "object")  # the column a user's search term is taken from
# the caption under the filters: "1,234 nodes", or "Showing the first 5,000 of 148,000 instances — narrow …"
ROW_COUNT = re.compile(r"(?:Showing the first [\d,]+ of )?([\d,]+) [a-z]+(?: — .*)?")

# records when the script run a load started is over (a MutationObserver sees every change)
WATCH_SCRIPT_STATE = """
window.__podium = {sawRunning: false, settled: false};
new MutationObserver(() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) return;
  const state = app.getAttribute('data-test-script-state');
  if (state === 'running') window.__podium.sawRunning = true;
  if (state === 'notRunning' && window.__podium.sawRunning) window.__podium.settled = true;
}).observe(document, {subtree: true, attributes: true, childList: true,
                      attributeFilter: ['data-test-script-state']});
"""


@dataclass
class PageView:
    page: str
    settled: bool  # False: still running when the timeout ran out
    seconds: float
    http_bytes: int
    websocket_bytes: int
    exceptions: int
    text: str

    @property
    def bytes(self) -> int:
        return self.http_bytes + self.websocket_bytes


class Traffic:
    """What the browser received since the last reset: HTTP bodies (encoded) and websocket frames."""

    def __init__(self, page) -> None:
        self.responses: list = []
        self.websocket_bytes = 0
        page.on("response", lambda response: self.responses.append(response))
        page.on("websocket", lambda ws: ws.on("framereceived", self.frame))

    def frame(self, payload: str | bytes) -> None:
        self.websocket_bytes += len(payload.encode() if isinstance(payload, str) else payload)

    def reset(self) -> None:
        self.responses.clear()
        self.websocket_bytes = 0

    def http_bytes(self) -> int:
        total = 0
        for response in self.responses:
            try:
                total += max(0, response.request.sizes()["responseBodySize"])
            except Exception:  # a response the page's next load cut short
                pass
        return total


def settled_within(page, timeout_s: float) -> bool:
    """Whether the script run the last load or change started is over within `timeout_s`."""
    try:
        page.wait_for_function("() => window.__podium && window.__podium.settled", timeout=timeout_s * 1000,
                               polling=50)
        return True
    except Exception:  # playwright's TimeoutError: report it as not settled
        return False


def open_page(page, traffic: Traffic, url: str, name: str, timeout_s: float) -> PageView:
    traffic.reset()
    started = time.perf_counter()
    try:
        page.goto(url.rstrip("/") + "/" + name, timeout=timeout_s * 1000)
    except Exception:  # playwright's TimeoutError: not even the page's HTML arrived; say so, go on
        return PageView(page=name, settled=False, seconds=time.perf_counter() - started,
                        http_bytes=traffic.http_bytes(), websocket_bytes=traffic.websocket_bytes, exceptions=0,
                        text="")
    settled = settled_within(page, timeout_s)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(300)  # frames still in flight belong to this view
    return PageView(page=name, settled=settled, seconds=seconds, http_bytes=traffic.http_bytes(),
                    websocket_bytes=traffic.websocket_bytes,
                    exceptions=page.locator("[data-testid='stException']").count(),
                    text=page.inner_text("body"))


@dataclass
class FilterAnswer:
    page: str
    action: str  # what the user did, e.g. 'search "web-1"' or 'cluster = seed-nomad'
    settled: bool
    seconds: float
    bytes: int
    rows_before: int | None  # the row count the page said before and after (None: no count shown)
    rows_after: int | None
    exceptions: int


def rows_shown(page) -> int | None:
    """The row count under the filters ("1,234 nodes", or "Showing the first 5,000 of 148,000 …")."""
    for text in page.locator("[data-testid='stCaptionContainer']").all_inner_texts():
        match = ROW_COUNT.fullmatch(text.strip())
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def first_row_name(page) -> str | None:
    """The name in the table's first row, read from the grid's accessible cells."""
    grid = page.locator("[data-testid='stDataFrame']").first
    try:
        # the grid draws after the run is over; its cells are an accessible copy, hidden
        grid.locator("[role='gridcell']").first.wait_for(state="attached", timeout=10_000)
    except Exception:  # playwright's TimeoutError: an empty table
        return None
    headers = [text.strip() for text in grid.locator("[role='columnheader']").all_text_contents()]
    column = next((headers.index(name) for name in NAME_COLUMNS if name in headers), None)
    if column is None:
        return None
    cells = grid.locator("[role='row']").nth(1).locator("[role='gridcell']").all_text_contents()
    return (cells[column].strip() or None) if column < len(cells) else None


def timed_change(page, traffic: Traffic, name: str, action: str, change, timeout_s: float) -> FilterAnswer:
    """Make one change on an open page; its answer is in once the script run it started is over."""
    before = rows_shown(page)
    page.evaluate("() => { window.__podium = {sawRunning: false, settled: false}; }")
    traffic.reset()
    started = time.perf_counter()
    change()
    settled = settled_within(page, timeout_s)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(300)  # frames still in flight belong to this answer
    return FilterAnswer(page=name, action=action, settled=settled, seconds=seconds,
                        bytes=traffic.http_bytes() + traffic.websocket_bytes, rows_before=before,
                        rows_after=rows_shown(page), exceptions=page.locator("[data-testid='stException']").count())


def search_then_one_cluster(page, traffic: Traffic, name: str, timeout_s: float) -> list[FilterAnswer]:
    answers = []
    term = first_row_name(page)
    if term:
        search = page.get_by_role("textbox", name="Search")

        def type_term() -> None:
            search.fill(term)
            search.press("Enter")

        def clear() -> None:
            search.fill("")
            search.press("Enter")

        answers.append(timed_change(page, traffic, name, f'search "{term}"', type_term, timeout_s))
        timed_change(page, traffic, name, "search cleared", clear, timeout_s)
    choose = page.locator("[data-testid='stMultiSelect']").filter(has_text="Cluster")
    choose.click()
    try:
        page.get_by_role("option").first.wait_for(timeout=5_000)  # the list opens after the click
    except Exception:  # playwright's TimeoutError: no option at all, an empty table
        pass
    options = page.get_by_role("option").filter(has_not_text="Select all")
    if options.count():
        option = options.first
        answers.append(timed_change(page, traffic, name, f"cluster = {option.inner_text().strip()}", option.click,
                                    timeout_s))
    page.keyboard.press("Escape")
    return answers


@contextmanager
def browser_page(executable: str = CHROMIUM) -> Iterator[tuple[Any, Traffic]]:
    """A headless Chromium page that records when each script run is over, and its traffic."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.add_init_script(WATCH_SCRIPT_STATE)
            yield page, Traffic(page)
        finally:
            browser.close()


def answer_filters(url: str, *, timeout_s: float = 60.0, pages: list[str] = TABLE_PAGES,
                   executable: str = CHROMIUM) -> list[FilterAnswer]:
    """On each page with a filter bar: a search for the first row's name, then one cluster chosen."""
    answers: list[FilterAnswer] = []
    with browser_page(executable) as (page, traffic):
        for name in pages:
            if open_page(page, traffic, url, name, timeout_s).settled:
                answers += search_then_one_cluster(page, traffic, name, timeout_s)
    return answers


def visit_pages(url: str, *, timeout_s: float = 120.0, pages: list[str] = PAGES,
                executable: str = CHROMIUM) -> tuple[PageView, list[PageView]]:
    """The first page with an empty cache (the static bundle included), then each page in turn."""
    with browser_page(executable) as (page, traffic):
        cold = open_page(page, traffic, url, pages[0], timeout_s)
        return cold, [open_page(page, traffic, url, name, timeout_s) for name in pages]


@dataclass
class FirstRound:
    first_cluster_s: float | None  # seconds until the Overview first showed a collected cluster's card
    every_cluster_s: float | None  # ... until it showed the whole first round (None: not within the timeout)


def watch_first_round(url: str, clusters: int, *, timeout_s: float = 1800.0,
                      executable: str = CHROMIUM) -> FirstRound:
    """The Overview opened as the dashboard starts and left open, as its first user would (it looks
    again by itself): when the first collected cluster's card shows numbers, and when every cluster's
    does with the first round's progress bar gone. Seconds from opening the page."""
    from playwright.sync_api import sync_playwright

    def cards_with_numbers(page) -> int:  # the fleet's totals carry a "Nodes ready" too
        return max(0, page.locator("[data-testid='stMetricLabel']", has_text="Nodes ready").count() - 1)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            started = time.perf_counter()
            page.goto(url.rstrip("/") + "/overview", timeout=timeout_s * 1000)
            first = None
            while time.perf_counter() - started < timeout_s:
                shown = cards_with_numbers(page)
                if shown and first is None:
                    first = time.perf_counter() - started
                if shown >= clusters and page.get_by_text("Collecting…").count() == 0:
                    return FirstRound(first, time.perf_counter() - started)
                page.wait_for_timeout(200)
            return FirstRound(first, None)
        finally:
            browser.close()
