"""The fault matrix: every collector against every way a cluster's API misbehaves.

One table: for each fault, how it is injected (through the emulators' fault knobs; Swarm through
a front of the real engine), the status the cluster must get and what the message must say. Each
case collects once healthy, then with the fault, beside a healthy bystander in the same round:
the bystander is unaffected, and the faulty cluster keeps its last good data, marked stale.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import pytest

from collectors import build_collector
from fleet.config import Settings
from fleet.model import Cluster
from fleet.poller import Poller
from sim.httpserver import Request, Response, json_response, status
from tests.fleet.fakes import ScriptedSource, small_cluster
from tests.trust.conftest import kind_params
from tests.trust.pki import Authority
from tests.trust.targets import Target, running

SETTINGS = Settings(poll_interval_s=30.0, timeout_s=1.0)
GENEROUS = Settings(poll_interval_s=30.0, timeout_s=10.0)
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class World:
    """What an injection may use: the target, the CAs, the event that frees waiting handlers."""

    target: Target
    authority: Authority
    impostor: Authority
    release: threading.Event


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[World], None]
    status: str
    says: str  # a regex: what went wrong, in words a human can act on
    tls: bool = False
    stale: bool = True

    def __str__(self) -> str:
        return self.name


def never_answers(world: World) -> None:
    def fault(request: Request) -> Response:
        world.release.wait(60)
        return json_response({"message": "too late"}, 504)
    knob(fault)(world)


def drip(release: threading.Event) -> Iterator[bytes]:
    while not release.wait(0.05):
        yield b" "


def slow_drip(world: World) -> None:
    knob(lambda request: Response(200, headers=JSON, stream=drip(world.release)))(world)


def optional_missing(world: World) -> None:
    optional = world.target.optional_api
    missing = json_response({"message": "404 page not found"}, 404)
    world.target.front.fault = lambda request: missing if optional(request.path) else None
    world.target.front.drop_connections()


def truncated(world: World) -> None:
    handler = world.target.front.handler

    def fault(request: Request) -> Response:
        response = handler(request)
        if response.stream is None:
            response.truncate_to = len(response.encoded()) // 2
        return response
    knob(fault)(world)


def impostor_certificate(world: World) -> None:
    """The server now presents a certificate from a CA nobody configured (a man in the middle)."""
    server = world.impostor.issue("impostor")
    world.target.front.present(server.cert_file, server.key_file)


def certificate_for_another_host(world: World) -> None:
    """The server now presents a certificate from the trusted CA, but for another name."""
    server = world.authority.issue("elsewhere", hosts=("elsewhere.example",))
    world.target.front.present(server.cert_file, server.key_file)


def knob(fault: Callable[[Request], Response | None]) -> Callable[[World], None]:
    def inject(world: World) -> None:
        world.target.front.fault = fault
        world.target.front.drop_connections()  # open watch streams reconnect into the fault too
    return inject


FAULTS = [
    Fault("connection refused", lambda w: w.target.front.stop(), "unreachable",
          r"(cannot connect|cannot reach).*connection refused"),
    Fault("accepts and never answers", never_answers, "unreachable",
          r"did not answer.* within 1s|timed out|did not finish within 1s"),
    Fault("slow drip", slow_drip, "unreachable", r"did not finish answering within 3s|did not finish within 1s"),
    Fault("untrusted CA", impostor_certificate, "unreachable", r"TLS failure.*certificate verify failed.*ca_file",
          tls=True),
    Fault("wrong host name", certificate_for_another_host, "unreachable", r"TLS failure.*not valid for 127\.0\.0\.1",
          tls=True),
    Fault("401", knob(status(401)), "unauthorized", r"401.*(token|credentials)"),
    Fault("403", knob(status(403)), "unauthorized", r"(forbidden|access denied) \(?403"),
    Fault("404 on an optional API", optional_missing, "ok", r"^$", stale=False),
    Fault("429 with Retry-After", knob(status(429, headers={"Retry-After": "120"})), "error",
          r"429.*next try in 120s"),
    Fault("500", knob(status(500, {"message": "internal error: etcd is down"})), "error", r"500"),
    Fault("malformed JSON", knob(lambda r: Response(200, b'{"items": [{"name": ', JSON)), "error",
          r"invalid JSON|not JSON|unexpected payload"),
    Fault("truncated body", truncated, "unreachable", r"broke|broken|incomplete|IncompleteRead"),
    Fault("valid JSON of the wrong shape", knob(lambda r: json_response({"podium": ["not", "this", "api"]})),
          "error", r"expected|unexpected|shape"),
]


@pytest.fixture
def world(request: pytest.FixtureRequest, kind: str, fault: Fault, authority: Authority, impostor: Authority,
          release: threading.Event, engine) -> Iterator[World]:
    server = authority.issue("server") if fault.tls else None
    with running(kind, server, authority.ca_file if fault.tls else None, engine) as target:
        yield World(target, authority, impostor, release)
        release.set()


def collect_through(world: World, fault: Fault) -> tuple[Cluster, Cluster, Cluster]:
    """A healthy round, then one with the fault, beside a bystander that is always fine."""
    poller = Poller([build_collector(world.target.config), ScriptedSource("bystander", [small_cluster()])],
                    GENEROUS)  # a loaded machine must not fail the healthy round
    try:
        healthy = poller.poll_once(force=True).clusters[0]
        assert healthy.status == "ok", healthy.error
        poller.settings = SETTINGS
        fault.inject(world)
        faulty, bystander = poller.poll_once(force=True).clusters
        return healthy, faulty, bystander
    finally:
        world.release.set()
        poller.stop()


@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("kind", kind_params())
def test_fault_gives_the_status_and_an_actionable_message_keeping_the_last_good_data(world: World, fault: Fault):
    healthy, faulty, bystander = collect_through(world, fault)
    assert (faulty.status, faulty.stale) == (fault.status, fault.stale), faulty.error
    assert re.search(fault.says, faulty.error or "", re.IGNORECASE | re.DOTALL), faulty.error
    if fault.stale:
        assert f"127.0.0.1:{world.target.front.port}" in faulty.error
        assert (faulty.nodes, faulty.workloads, faulty.collected_at) == \
               (healthy.nodes, healthy.workloads, healthy.collected_at)
    assert (bystander.status, bystander.stale, bystander.error) == ("ok", False, None)


@pytest.mark.parametrize("kind", kind_params())
def test_retry_after_is_honoured_before_trying_again(kind: str, engine) -> None:
    now = [1000.0]
    with running(kind, engine=engine) as target:
        poller = Poller([build_collector(target.config)], GENEROUS, clock=lambda: now[0])
        try:
            poller.poll_once()
            target.front.fault = status(429, headers={"Retry-After": "120"})
            poller.poll_once(force=True)
            asked = len(target.front.requests)
            now[0] += 119
            poller.poll_once()
            assert len(target.front.requests) == asked  # still waiting, as the server asked
            now[0] += 2
            poller.poll_once()
            assert len(target.front.requests) > asked
        finally:
            poller.stop()


MESOS_FAULTS = {"500": status(500), "401": status(401),
                "malformed JSON": lambda r: Response(200, b'{"slaves": [', JSON),
                "valid JSON of the wrong shape": lambda r: json_response({"podium": ["not", "this", "api"]})}


@pytest.mark.parametrize("fault", sorted(MESOS_FAULTS))
def test_a_failing_mesos_master_degrades_marathon_keeping_the_last_nodes(fault: str) -> None:
    with running("marathon") as target:
        poller = Poller([build_collector(target.config)], GENEROUS)
        try:
            healthy = poller.poll_once(force=True).clusters[0]
            target.mesos.fault = MESOS_FAULTS[fault]
            target.mesos.drop_connections()
            degraded = poller.poll_once(force=True).clusters[0]
        finally:
            poller.stop()
    assert (degraded.status, degraded.nodes) == ("degraded", healthy.nodes), degraded.error
    assert f"Mesos master GET /master/state-summary on {target.config.option('mesos_url')}" in degraded.error


def test_a_huge_retry_after_is_capped_at_ten_minutes() -> None:
    poller = Poller([], SETTINGS)
    assert poller.backoff_s(1, retry_after_s=86_400) == 600.0


def test_back_off_doubles_per_failure_up_to_ten_minutes() -> None:
    poller = Poller([], SETTINGS)
    assert [poller.backoff_s(n) for n in (1, 2, 3, 5, 9)] == [30.0, 60.0, 120.0, 480.0, 600.0]

