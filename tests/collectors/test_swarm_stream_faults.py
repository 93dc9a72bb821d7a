"""The Swarm event stream behind proxies that hold it back: no headers within the round's timeout,
or events that arrive late by the engine's clock. Either way the collector polls, and says why.
A loopback server answers the listing like a (tiny, empty) engine and misbehaves on /events."""
from __future__ import annotations

import json
import socket
import time
from email.utils import formatdate
from typing import Callable

import pytest

from collectors.swarm import live
from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig
from tests.collectors.test_swarm_bounds import VERSION, answer, read_request, serving
from tests.engines import wait_for

LISTS = {"/nodes": [], "/services": [], "/tasks": [], "/containers/json": []}


def engine_with_events(events: Callable[[socket.socket], None]) -> Callable[[socket.socket], None]:
    def serve(conn: socket.socket) -> None:
        while (path := read_request(conn)) is not None:
            route = path.split("?")[0]
            if route.endswith("/version"):
                conn.sendall(answer("200 OK", json.dumps(VERSION).encode(), f"Date: {formatdate(usegmt=True)}\r\n"))
            elif route.endswith("/events"):
                events(conn)
                return
            else:
                conn.sendall(answer("200 OK", json.dumps(LISTS["/" + route.split("/", 2)[-1]]).encode()))
    return serve


def silent(conn: socket.socket) -> None:
    time.sleep(5)


def late_event(conn: socket.socket) -> None:
    opened = time.time()
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: {formatdate(opened, usegmt=True)}\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n".encode())
    time.sleep(2.5)  # what a buffering proxy does: the event happened 0.3 s after the stream opened
    event = json.dumps({"Type": "node", "Action": "update", "Actor": {"ID": "n1"}, "scope": "swarm",
                        "time": int(opened), "timeNano": int((opened + 0.3) * 1e9)}).encode() + b"\n"
    conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
    time.sleep(5)


@pytest.mark.parametrize(("events", "said"), [
    (silent, "gave no answer within 1s (a proxy that holds streamed answers back?)"),
    (late_event, "s late (a proxy that buffers the stream?)"),
], ids=["no-headers", "late-events"])
def test_a_held_back_stream_leaves_the_collector_polling_and_says_why(events, said, monkeypatch, tmp_path):
    monkeypatch.setattr(live, "LATE_S", 1.0)
    with serving(engine_with_events(events), "tcp", tmp_path) as url:
        collector = SwarmCollector(ClusterConfig(name="held-back", orchestrator="swarm", url=url))
        try:
            assert collector.collect(timeout_s=1.0).degraded_reason is None
            data = wait_for(lambda: (d := collector.collect(timeout_s=1.0)) and d.degraded_reason and d,
                            timeout_s=20, interval_s=0.2, what="the collector to fall back to polling")
            assert data.degraded_reason.startswith(f"live updates off, polling each round: GET /events on {url}")
            assert said in data.degraded_reason
            listings = collector.listings
            collector.collect(timeout_s=1.0)
            assert collector.listings == listings + 1  # polling: every round lists
        finally:
            collector.close()


def headers_then_silence(conn: socket.socket) -> None:
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: {formatdate(usegmt=True)}\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n".encode())
    time.sleep(10)  # an engine ends the stream at `until`; this one never does


def test_a_stream_silent_past_its_heartbeat_is_cut_and_reopened(monkeypatch, tmp_path):
    monkeypatch.setattr(live, "WINDOW_S", 0.3)
    monkeypatch.setattr(live, "MARGIN_S", 0.3)
    with serving(engine_with_events(headers_then_silence), "tcp", tmp_path) as url:
        collector = SwarmCollector(ClusterConfig(name="silent", orchestrator="swarm", url=url))
        try:
            collector.collect(timeout_s=1.0)
            wait_for(lambda: collector.feed.connections >= 3, timeout_s=20, what="the stream to be reopened twice")
            assert collector.feed.blocked is None  # a silent stream is reopened, not given up
        finally:
            collector.close()


def test_a_quiet_live_round_reuses_its_last_result(tmp_path):
    with serving(engine_with_events(headers_then_silence), "tcp", tmp_path) as url:
        collector = SwarmCollector(ClusterConfig(name="quiet", orchestrator="swarm", url=url))
        try:
            collector.collect(timeout_s=1.0)
            wait_for(lambda: collector.feed.live(), timeout_s=10, what="the stream to open")
            first = collector.collect(timeout_s=1.0)
            assert collector.collect(timeout_s=1.0) is first  # nothing changed: not normalized again
            collector.feed.state.put_node("n1", None)  # what an event's re-read does
            assert collector.collect(timeout_s=1.0) is not first
            assert collector.listings == 1
        finally:
            collector.close()
