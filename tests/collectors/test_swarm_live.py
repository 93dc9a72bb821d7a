"""Live updates against a real engine: after the first listing, `/events` keeps the model fresh
(a scaled service, a killed container) without listing again; the stream comes back after the
engine restarts; a proxy that refuses `/events` leaves the collector polling, and the cluster says so."""
from __future__ import annotations

import socket
from contextlib import contextmanager
from typing import Callable, Iterator

import docker
import pytest

from collectors.swarm import live
from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig
from tests.collectors.test_swarm_bounds import serving
from tests.collectors.test_swarm_engine import create_service, workload
from tests.engines import Dockerd, wait_for

pytestmark = [pytest.mark.swarm, pytest.mark.timeout(600)]
TIMEOUT_S = 10


@pytest.fixture(autouse=True)
def no_background_relisting(monkeypatch):
    # the periodic full relist would hide whether a change came by the stream: only events remain
    monkeypatch.setattr(live, "RESYNC_MIN_S", 3600.0)


@contextmanager
def live_collector(url: str) -> Iterator[SwarmCollector]:
    collector = SwarmCollector(ClusterConfig(name="swarm-live", orchestrator="swarm", url=url))
    try:
        collector.collect(TIMEOUT_S)
        wait_for(lambda: collector.feed.live(), timeout_s=30, what="the event stream to open")
        yield collector
    finally:
        collector.close()


def scale(client: docker.APIClient, service_id: str, replicas: int) -> None:
    current = client.inspect_service(service_id)
    spec = current["Spec"]
    spec["Mode"] = {"Replicated": {"Replicas": replicas}}
    client._raise_for_status(client._post_json(client._url("/services/{0}/update", service_id), data=spec,
                                               params={"version": current["Version"]["Index"]}))


@pytest.fixture
def service(swarm_engine):
    client = swarm_engine.client
    service_id = create_service(client, "live-web", replicas=1)
    wait_for(lambda: any(t["Status"]["State"] == "running" for t in client.tasks({"service": service_id})),
             timeout_s=60, what="live-web to run")
    yield service_id
    client.remove_service(service_id)


def test_a_scaled_service_reaches_the_model_by_the_stream(swarm_engine, service):
    with live_collector(swarm_engine.url) as collector:
        scale(swarm_engine.client, service, 3)
        data = wait_for(lambda: (d := collector.collect(TIMEOUT_S)) and workload(d, "live-web").running == 3 and d,
                        timeout_s=60, interval_s=0.1, what="three running replicas in the model")
        assert workload(data, "live-web").desired == 3
        assert collector.listings == 1 and collector.feed.rereads > 0


def test_a_killed_container_is_in_the_model_by_the_stream(swarm_engine, service):
    client = swarm_engine.client
    with live_collector(swarm_engine.url) as collector:
        [container] = client.containers(filters={"label": f"com.docker.swarm.service.id={service}"})
        client.kill(container["Id"])

        def replaced():
            data = collector.collect(TIMEOUT_S)
            [instance] = [i for i in data.instances if i.workload_id == service]
            failed = [e for e in data.events if e.object.startswith("Task/live-web.1")]
            return data if instance.restarts >= 1 and failed else None
        data = wait_for(replaced, timeout_s=60, interval_s=0.1, what="the killed task in the model")
        assert any("137" in e.message for e in data.events if e.object.startswith("Task/live-web.1"))
        assert collector.listings == 1


def test_the_stream_reconnects_after_the_engine_restarts():
    engine = Dockerd("restart").start().init_swarm()
    try:
        with live_collector(engine.url) as collector:
            feed = collector.feed
            engine.stop()
            wait_for(lambda: not feed.connected, timeout_s=60, what="the stream to notice the engine is gone")
            engine.start()
            wait_for(lambda: feed.connected and feed.connections >= 2, timeout_s=120, interval_s=0.5,
                     what="the stream to reconnect")
            wait_for(lambda: collector.collect(TIMEOUT_S) and feed.live(), timeout_s=60, what="live again")
            listings = collector.listings
            service_id = create_service(engine.client, "after-restart", replicas=0)
            data = wait_for(lambda: (d := collector.collect(TIMEOUT_S)) and
                            any(w.id == service_id for w in d.workloads) and d,
                            timeout_s=60, interval_s=0.1, what="the new service in the model")
            assert workload(data, "after-restart").status == "stopped"
            assert collector.listings == listings  # by the stream, not by listing again
    finally:
        engine.remove()


def refusing_proxy(socket_path: str) -> Callable[[socket.socket], None]:
    """An HTTP proxy in front of the engine's unix socket that answers 403 on /events."""
    def relay(conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(65536)
            if not chunk:
                return
            head += chunk
        path = head.split(b" ", 2)[1]
        if path.split(b"?")[0].endswith(b"/events"):
            body = b'{"message":"forbidden by proxy policy"}'
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(body), body))
            return
        with socket.socket(socket.AF_UNIX) as engine:
            engine.connect(socket_path)
            engine.sendall(b"GET %s HTTP/1.0\r\nHost: docker\r\n\r\n" % path)
            while chunk := engine.recv(65536):
                conn.sendall(chunk)
    return relay


def test_a_proxy_that_refuses_events_leaves_the_collector_polling_and_says_so(swarm_engine, service, tmp_path):
    with serving(refusing_proxy(str(swarm_engine.socket)), "tcp", tmp_path) as url:
        collector = SwarmCollector(ClusterConfig(name="behind-proxy", orchestrator="swarm", url=url))
        try:
            first = collector.collect(TIMEOUT_S)
            assert workload(first, "live-web").running == 1
            data = wait_for(lambda: (d := collector.collect(TIMEOUT_S)) and d.degraded_reason and d,
                            timeout_s=30, what="the cluster to say it polls")
            assert data.degraded_reason == (f"live updates off, polling each round: GET /events on {url}: "
                                            "HTTP 403: forbidden by proxy policy")
            scale(swarm_engine.client, service, 2)
            wait_for(lambda: workload(collector.collect(TIMEOUT_S), "live-web").running == 2, timeout_s=60,
                     what="the scaled service, by polling")
            assert collector.listings >= 3
        finally:
            collector.close()
