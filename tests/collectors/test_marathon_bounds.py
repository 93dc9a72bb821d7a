"""Marathon and its Mesos master against servers that hang, drip, talk forever, reset or answer
503: Marathon failing ends the collection within its deadline (plus a margin) with the status and
a one-line message naming what happened; the master failing degrades the cluster, naming it; the
event stream, silent or dripping past its heartbeat, is cut and reopened."""
from __future__ import annotations

import re
import time

import pytest
import requests

from collectors.deadline import AnswerTooLarge
from collectors.marathon.events import EventFeed
from collectors.marathon.fetch import MarathonCollector
from fleet.source import Unreachable, UpstreamError
from sim.marathon import build
from tests.collectors.faultservers import FAULTS, dripping_events, failing_collect, raw_server, unavailable
from tests.collectors.test_marathon_events import wait_for
from tests.sim.marathon.harness import config, running

MARGIN_S = 2.5  # a deadline is a correctness property: asserted generously, never a speed target
HOST = r"http://127\.0\.0\.1:\d+"
WHAT = {
    "hang": (Unreachable, "{path} on {host} did not finish within 1s"),
    "headers then drip": (Unreachable, "{path} on {host} did not finish within 1s"),
    "slow headers": (Unreachable, "{path} on {host} did not finish within 1s"),
    "endless chunked body": (AnswerTooLarge, r"{path} on {host}: answer larger than 8 MiB refused \(it kept coming\)"),
    "huge Content-Length": (AnswerTooLarge, r"{path} on {host}: answer larger than 8 MiB refused "
                                            r"\(it declares 3,815 MiB\)"),
    "TLS port that never speaks TLS": (Unreachable, r"on https://127\.0\.0\.1:\d+: TLS handshake got no answer "
                                                    r"within 1s: is this a TLS port\?"),
    "reset": (Unreachable, r"127\.0\.0\.1:\d+: the server closed the connection without answering"),
}


def expected(fault: str, path: str) -> tuple[type, str]:
    kind, says = WHAT[fault]
    return kind, says.format(path=f"GET {path}", host=HOST)


@pytest.fixture(scope="module")
def scenario():
    return build(0)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_marathon_misbehaving_ends_the_collection_in_time_naming_what_happened(fault):
    behaviour, tls = FAULTS[fault]
    with raw_server(behaviour) as url:
        url = url.replace("http://", "https://") if tls else url
        error, seconds = failing_collect(MarathonCollector(config(url, url, max_answer_mib=8, verify_tls=False)))
    kind, says = expected(fault, "/v2/info")
    assert isinstance(error, kind) and re.search(says, error.message), error.message
    assert "\n" not in error.message
    assert seconds < 1 + MARGIN_S


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_misbehaving_mesos_master_degrades_the_cluster_in_time_naming_it(scenario, fault):
    behaviour, tls = FAULTS[fault]
    with running(scenario) as cluster, raw_server(behaviour) as mesos_url:
        mesos_url = mesos_url.replace("http://", "https://") if tls else mesos_url
        collector = MarathonCollector(config(cluster.marathon.url, mesos_url, max_answer_mib=8, verify_tls=False))
        started = time.monotonic()
        try:
            data = collector.collect(timeout_s=1)
        finally:
            collector.close()
    _, says = expected(fault, "/master/state-summary")
    assert data.nodes == [] and data.workloads
    assert re.search(f"nodes: Mesos master .*{says}.*; no nodes shown", data.degraded_reason), data.degraded_reason
    assert time.monotonic() - started < 1 + MARGIN_S


def test_a_503_from_marathon_quotes_its_message_on_one_line():
    body = b'{"message": "Could not determine the current leader", "details": []}'
    with raw_server(unavailable(body, "application/json")) as url:
        error, _ = failing_collect(MarathonCollector(config(url, url)))
    assert isinstance(error, UpstreamError)
    assert error.message == f"GET /v2/info on {url}: HTTP 503 Could not determine the current leader"


def test_a_503_from_the_mesos_master_quotes_its_plain_text_and_degrades(scenario):
    with running(scenario) as cluster, raw_server(unavailable(b"No leader elected\n")) as mesos_url:
        collector = MarathonCollector(config(cluster.marathon.url, mesos_url))
        try:
            data = collector.collect(timeout_s=1)
        finally:
            collector.close()
    assert (f"nodes: Mesos master GET /master/state-summary on {mesos_url}: HTTP 503 No leader elected; "
            "no nodes shown") in data.degraded_reason


def stream_from(url: str):
    def open_stream() -> requests.Response:
        return requests.get(f"{url}/v2/events", headers={"Accept": "text/event-stream"}, stream=True, timeout=30)
    return open_stream


def test_an_event_stream_dripping_past_its_heartbeat_is_cut_and_reopened():
    with raw_server(dripping_events) as url:
        feed = EventFeed(stream_from(url), heartbeat_s=0.5)
        feed.start("dripping")
        try:
            assert wait_for(lambda: feed.connections >= 3)  # cut at 0.5s, reopened a second later, again
        finally:
            feed.stop()
    assert feed.recent() == []


def test_an_event_over_the_ceiling_ends_the_stream_which_is_reopened():
    def huge_event(conn) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nevent: status_update_event\r\n"
                     b"data: " + b"x" * (2 * 1024 * 1024))
        time.sleep(10)

    with raw_server(huge_event) as url:
        feed = EventFeed(stream_from(url), heartbeat_s=30, max_event_bytes=1024 * 1024)
        feed.start("huge")
        try:
            assert wait_for(lambda: feed.connections >= 2)
        finally:
            feed.stop()


def test_a_live_stream_with_keep_alives_stays_open(scenario):
    with running(scenario) as cluster:  # the emulator sends a keep-alive line every half second
        feed = EventFeed(stream_from(cluster.marathon.url), heartbeat_s=1.5)
        feed.start("live")
        try:
            assert wait_for(lambda: feed.connected)
            time.sleep(3)
            assert (feed.connected, feed.connections) == (True, 1)
        finally:
            feed.stop()
