"""The Kubernetes collector against servers that hang, trickle, never stop or never speak TLS:
every round ends within its deadline (plus a margin) with one line naming what happened."""
from __future__ import annotations

import socket
import struct
import time
from typing import Callable, Iterator

import pytest

from collectors.kubernetes import watch
from collectors.kubernetes.fetch import KubernetesCollector
from fleet.config import ClusterConfig, Secret
from fleet.source import SourceError, Unreachable
from sim.httpserver import Request, Response, json_response, status
from sim.kubernetes import Knobs
from tests.collectors.test_deadline import HEADERS, endless_chunks, hang, huge_length, raw_server, trickle
from tests.sim.kubernetes.harness import TOKEN, collector, running

SMALL = Knobs(seed=11, nodes=6, pods_per_node=12)
MARGIN_S = 2.5  # a deadline is a correctness bound: asserted with room for a loaded machine


def config_for(url: str, **fields) -> ClusterConfig:
    return ClusterConfig(name="k8s", orchestrator="kubernetes", url=url, token=Secret(TOKEN), **fields)


def failed_round(config: ClusterConfig, timeout_s: float) -> tuple[SourceError, float]:
    """The error of one collection and how long it took."""
    source = KubernetesCollector(config)
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as raised:
            source.collect(timeout_s)
        return raised.value, time.monotonic() - started
    finally:
        source.close()


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST


def plain_http(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize("behaviour, scheme, outcome, words", [
    (hang, "http", "unreachable", "GET /version on http://127.0.0.1:{port} did not finish within 1s"),
    (trickle(HEADERS), "http", "unreachable", "GET /version on http://127.0.0.1:{port} did not finish within 1s"),
    (trickle(HEADERS[:-2]), "http", "unreachable", "GET /version on http://127.0.0.1:{port} did not finish within 1s"),
    (huge_length, "http", "error", "answer larger than 8 MiB refused (it declares 3,815 MiB)"),
    (endless_chunks, "http", "error", "answer larger than 8 MiB refused (it kept coming)"),
    (hang, "https", "unreachable", "GET /version on https://127.0.0.1:{port}: TLS handshake got no answer "
                                   "within 1s: is this a TLS port?"),
    (plain_http, "https", "unreachable", "the server does not speak TLS on this port"),
    (reset, "http", "unreachable", "the server closed the connection without answering"),
], ids=["hang", "headers-then-drip", "slow-headers", "huge-content-length", "endless-chunks",
        "tls-port-silent", "tls-port-answers-http", "reset"])
def test_a_misbehaving_server_fails_the_round_within_its_deadline(behaviour, scheme, outcome, words):
    with raw_server(behaviour) as url:
        port = url.rsplit(":", 1)[1]
        error, took = failed_round(config_for(url.replace("http", scheme, 1), max_answer_mib=8), 1.0)
    assert error.status == outcome
    assert words.format(port=port) in error.message and "\n" not in error.message
    assert took < 1.0 + MARGIN_S


def test_a_503_with_a_status_body_quotes_the_servers_message():
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503,
            "reason": "ServiceUnavailable", "message": "apiserver is shutting down"}
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        cluster.server.fault = status(503, body)
        with pytest.raises(SourceError) as raised:
            source.collect(1.0)
    assert raised.value.status == "error"
    assert "GET /version" in raised.value.message and "HTTP 503 apiserver is shutting down" in raised.value.message


def big_pod_page(request: Request) -> Response | None:
    if request.path == "/api/v1/pods" and request.param("watch") is None:
        return json_response({"kind": "PodList", "metadata": {}, "items": [], "padding": "x" * (3 * 1024 * 1024)})
    return None


def test_an_oversized_list_page_is_refused():
    with running(SMALL, token=TOKEN) as cluster:
        cluster.server.fault = big_pod_page
        error, _ = failed_round(config_for(cluster.url, max_answer_mib=2), 5.0)
    assert error.status == "error"
    assert "GET /api/v1/pods" in error.message
    assert "answer larger than 2 MiB refused (it declares 3 MiB)" in error.message


def test_a_list_longer_than_max_list_s_is_cut_with_a_clear_error():
    def slow_pod_pages(request: Request) -> Response | None:
        if request.path == "/api/v1/pods" and request.param("watch") is None:
            time.sleep(0.3)
        return None

    with running(SMALL, token=TOKEN) as cluster:
        cluster.server.fault = slow_pod_pages
        source = KubernetesCollector(config_for(cluster.url, max_list_s=1), watch=False, page_size=5)
        started = time.monotonic()
        try:
            with pytest.raises(Unreachable) as raised:
                source.collect(5.0)
        finally:
            source.close()
    assert "GET /api/v1/pods" in raised.value.message and "not read within max_list_s 1s" in raised.value.message
    assert time.monotonic() - started < 1.0 + MARGIN_S


def drip_forever() -> Iterator[bytes]:
    yield b'{"type":"MODIFIED","object":'  # an event begun and never finished
    for _ in range(200):
        time.sleep(0.1)
        yield b" "


def watch_of(path: str, answer: Callable[[], Response | None]) -> Callable[[Request], Response | None]:
    def fault(request: Request) -> Response | None:
        return answer() if request.path == path and request.param("watch") == "1" else None
    return fault


def list_requests(cluster, path: str) -> int:
    return sum(1 for m, p, q in cluster.server.requests if p == path and "watch" not in q)


def wait_for(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_dripping_watch_is_cut_past_its_heartbeat_and_reopened(monkeypatch):
    monkeypatch.setattr(watch, "WATCH_TIMEOUT_S", 1)
    monkeypatch.setattr(watch, "HEARTBEAT_MARGIN_S", 1)
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        cluster.server.fault = watch_of("/api/v1/nodes", lambda: Response(200, stream=drip_forever()))
        source.collect(5.0)
        nodes = source._caches["nodes"]
        assert wait_for(lambda: not nodes.watching(), 2 + MARGIN_S)
        assert "watch of /api/v1/nodes" in nodes.failure and "past its 2s heartbeat" in nodes.failure
        cluster.server.fault = None
        lists_before = list_requests(cluster, "/api/v1/nodes")
        data = source.collect(5.0)
        assert list_requests(cluster, "/api/v1/nodes") == lists_before + 1  # listed again
        assert nodes.watching() and nodes.synced
    assert len(data.nodes) == SMALL.nodes


def test_stopping_the_collector_cuts_a_watch_the_server_never_answers():
    def never() -> Response | None:
        time.sleep(30)
        return None

    with running(SMALL, token=TOKEN) as cluster:
        source = KubernetesCollector(config_for(cluster.url))
        cluster.server.fault = watch_of("/api/v1/pods", never)
        source.collect(5.0)
        pods = source._caches["pods"]
        assert pods.watching()
        started = time.monotonic()
        source.close()
        took = time.monotonic() - started
    assert not pods.watching() and took < MARGIN_S


def test_a_watch_event_over_the_ceiling_is_refused():
    def endless_event() -> Iterator[bytes]:
        yield b'{"type":"MODIFIED","object":"'
        for _ in range(64):
            yield b"x" * (64 * 1024)

    with running(SMALL, token=TOKEN) as cluster:
        cluster.server.fault = watch_of("/api/v1/nodes", lambda: Response(200, stream=endless_event()))
        source = KubernetesCollector(config_for(cluster.url, max_answer_mib=1))
        try:
            source.collect(5.0)
            nodes = source._caches["nodes"]
            assert wait_for(lambda: not nodes.watching(), 5.0)
        finally:
            source.close()
    assert "watch of /api/v1/nodes" in nodes.failure and "answer larger than 1 MiB refused" in nodes.failure


def watches_of(cluster, path: str) -> int:
    return sum(1 for m, p, q in cluster.server.requests if p == path and "watch" in q)


def test_a_watch_hung_up_on_before_it_opens_is_opened_again_without_a_relist(monkeypatch):
    """After the server ends a watch, the next one goes out at once, often on a kept-alive connection
    the server (or a proxy) is closing: one such hang-up costs a second try, not a relist."""
    monkeypatch.setattr(watch, "WATCH_TIMEOUT_S", 1)
    hung_up: list[Request] = []

    def hang_up_once(request: Request) -> Response | None:
        if request.path == "/api/v1/nodes" and request.param("watch") == "1" and not hung_up:
            hung_up.append(request)
            return Response(hang_up=True)
        return None

    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        source.collect(5.0)
        nodes = source._caches["nodes"]
        lists_before = list_requests(cluster, "/api/v1/nodes")
        cluster.server.fault = hang_up_once
        assert wait_for(lambda: bool(hung_up), 2 + MARGIN_S)
        watches_after = watches_of(cluster, "/api/v1/nodes")
        assert wait_for(lambda: watches_of(cluster, "/api/v1/nodes") > watches_after, 2 + MARGIN_S)
        assert nodes.watching() and nodes.synced and nodes.failure is None
        source.collect(5.0)
        assert list_requests(cluster, "/api/v1/nodes") == lists_before  # kept fresh by the watch alone


def test_a_watch_hung_up_on_twice_in_a_row_is_listed_again_next_round(monkeypatch):
    monkeypatch.setattr(watch, "WATCH_TIMEOUT_S", 1)
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        source.collect(5.0)
        nodes = source._caches["nodes"]
        cluster.server.fault = watch_of("/api/v1/nodes", lambda: Response(hang_up=True))
        assert wait_for(lambda: not nodes.watching(), 2 + MARGIN_S)
        assert not nodes.synced and "closed the connection without answering" in nodes.failure
        cluster.server.fault = None
        lists_before = list_requests(cluster, "/api/v1/nodes")
        source.collect(5.0)
        assert list_requests(cluster, "/api/v1/nodes") == lists_before + 1
        assert nodes.watching() and nodes.synced
