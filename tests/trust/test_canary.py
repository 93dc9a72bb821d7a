"""No secret leaks: with a canary credential configured for every cluster kind, and servers that
echo credentials back in their errors, the canary appears in nothing Podium emits — snapshot
JSON, CSV exports, DEBUG logs, error messages, CLI output, the history store, HTTP answers and
every page's HTML in a real browser."""
from __future__ import annotations

import logging
import os
import stat
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from collectors import build_collector
from fleet.cli import main as cli
from fleet.config import load_config
from fleet.export import csv_tables, to_json
from fleet.model import Snapshot
from fleet.poller import Poller
from tests.e2e.test_browser import browser_page  # noqa: F401 (fixture)
from tests.engines import StreamlitServer
from tests.trust.canary_fleet import CANARY, ENV, CanaryFleet, start_canary_fleet

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["", "nodes", "workloads", "instances", "health", "capacity", "resilience", "history", "snapshots",
         "settings"]


@pytest.fixture(scope="module")
def canary_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryFleet]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    fleet = start_canary_fleet(tmp_path_factory.mktemp("canary"))
    yield fleet
    fleet.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def rounds(canary_fleet: CanaryFleet) -> Iterator[list[Snapshot]]:
    """A good round, rounds against servers echoing the credentials in 401 and 500 answers (on every
    read, then on optional reads only), and a good one again."""
    yield collect_rounds(canary_fleet)


def collect_rounds(canary_fleet: CanaryFleet) -> list[Snapshot]:
    config = load_config(canary_fleet.config)
    poller = Poller([build_collector(c) for c in config.clusters], config.settings)
    taken = []
    try:
        for echo, optional_only in ((None, False), (401, False), (500, False), (500, True), (None, False)):
            canary_fleet.echo_everywhere(echo, optional_only=optional_only)
            taken.append(poller.poll_once(force=True))
    finally:
        canary_fleet.echo_everywhere(None)
        poller.stop()
    return taken


def test_the_rounds_reached_the_servers_and_their_echoes(rounds):
    statuses = [{c.name: c.status for c in snapshot.clusters} for snapshot in rounds]
    assert {statuses[0][name] for name in ("canary-kube", "canary-kubeconfig", "canary-nomad", "canary-marathon")} \
        == {"ok"}
    assert statuses[1]["canary-kube"] == "unauthorized" and statuses[2]["canary-nomad"] == "error"
    assert "rejected credentials" in next(c.error for c in rounds[2].clusters if c.name == "canary-nomad")


def test_canary_is_in_no_snapshot_json(rounds):
    assert not any(CANARY.encode() in to_json(snapshot) for snapshot in rounds)


def test_canary_is_in_no_csv_export(rounds):
    assert not any(CANARY in text for snapshot in rounds for text in csv_tables(snapshot).values())


def test_canary_is_in_no_error_message(rounds):
    assert not [c.error for snapshot in rounds for c in snapshot.clusters if CANARY in (c.error or "")]


def test_canary_is_in_no_log_record_at_debug_level(canary_fleet, caplog):
    caplog.set_level(logging.DEBUG)
    collect_rounds(canary_fleet)
    logged = [caplog.text] + [repr(r.args) for r in caplog.records]
    assert caplog.records and not [text for text in logged if CANARY in text]


def test_canary_is_in_no_cli_output(canary_fleet, capsys):
    canary_fleet.echo_everywhere(500)
    try:
        cli(["snapshot", "--config", str(canary_fleet.config)], build_collector)
    finally:
        canary_fleet.echo_everywhere(None)
    out, err = capsys.readouterr()
    assert "canary-nomad" in out and CANARY not in out + err


def test_token_files_are_readable_by_their_owner_only(canary_fleet):
    mode = stat.S_IMODE((canary_fleet.config.parent / "tokens" / "swarm").stat().st_mode)
    assert mode == 0o600


@pytest.mark.e2e
def test_canary_is_in_no_page_html_and_no_http_answer(canary_fleet, browser_page):  # noqa: F811
    from tests.e2e.test_dashboard import open_page

    canary_fleet.echo_everywhere(500)
    server = StreamlitServer(ROOT, {"PODIUM_CONFIG": str(canary_fleet.config), **ENV}).start()
    try:
        answers = [urllib.request.urlopen(server.url + path, timeout=30).read()
                   for path in ("", "_stcore/health", "_stcore/host-config")]
        open_page(browser_page, server, "")
        browser_page.get_by_text("rejected credentials").first.wait_for(timeout=60_000)
        pages = {}
        for name in PAGES:
            open_page(browser_page, server, name)
            pages[name] = browser_page.content()
        history = b"".join(p.read_bytes() for p in (canary_fleet.config.parent / "history").rglob("*") if p.is_file())
    finally:
        server.stop()
        canary_fleet.echo_everywhere(None)
    assert not [name for name, html in pages.items() if CANARY in html]
    assert not [answer for answer in answers if CANARY.encode() in answer]
    assert history and CANARY.encode() not in history
