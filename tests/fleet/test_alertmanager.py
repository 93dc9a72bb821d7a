"""Podium's alerts through a real Alertmanager to a webhook receiver, from a Nomad emulator whose
client node goes down and comes back; and a dead destination that must not hold collection up."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from collectors import build_collector
from fleet.alerts.engine import AlertEngine
from fleet.alerts.settings import AlertsConfig, DestinationConfig
from fleet.alerts.state import FLAP_CHANGES
from fleet.config import Settings, parse_cluster_entries
from fleet.poller import Poller
from sim.nomad import build, start
from tests.engines import wait_for
from tests.fleet.alertmanager_server import Alertmanager, Receiver

REGION = "eu-west"


@pytest.fixture
def nomad():
    with start(build(3, regions=1, datacenters=1, nodes=4, jobs=2, problems=())) as cluster:
        yield cluster


@pytest.fixture
def receiver():
    hook = Receiver().start()
    yield hook
    hook.stop()


@pytest.fixture
def alertmanager(receiver):
    server = Alertmanager(receiver.url).start()
    yield server
    server.stop()


def poller_for(nomad, engine: AlertEngine) -> Poller:
    [config] = parse_cluster_entries([{"name": "batch", "orchestrator": "nomad", "url": nomad.url}], "test")
    return Poller([build_collector(config)], Settings(poll_interval_s=1, timeout_s=5), on_round=engine.on_round)


def set_node(nomad, status: str) -> str:
    node = nomad.store.scenario.regions[REGION].nodes[0]
    nomad.store.update(REGION, ["nodes"], lambda region: setattr(region.nodes[0], "status", status))
    return node.name


def one_round(poller: Poller, engine: AlertEngine) -> None:
    snapshot = poller.poll_once(force=True)
    assert snapshot.clusters[0].status == "ok", snapshot.clusters[0].error
    assert engine.wait_judged() and engine.wait_sent()


def test_a_node_going_down_and_back_gives_one_firing_and_one_resolved_notification(nomad, receiver, alertmanager):
    destination = DestinationConfig(name="am", kind="alertmanager", url=alertmanager.url,
                                    conditions=frozenset({"PodiumNodeNotReady"}))
    engine = AlertEngine(AlertsConfig(destinations=(destination,), resend_interval_s=0.001,
                                      external_url="http://podium.test:8501"))
    poller = poller_for(nomad, engine)
    try:
        for _ in range(3):
            one_round(poller, engine)
        node = set_node(nomad, "down")
        for _ in range(6):  # fires on the 2nd, then re-sent to Alertmanager every round
            one_round(poller, engine)
        firing = wait_for(lambda: receiver.with_status("firing"), timeout_s=30, what="a firing notification")
        [alert] = firing[0]["alerts"]
        assert alert["labels"] == {"alertname": "PodiumNodeNotReady", "cluster": "batch", "orchestrator": "nomad",
                                   "severity": "warning", "node": node}
        assert alert["annotations"]["summary"] == f"client {node} of Nomad cluster batch is down"
        assert alert["generatorURL"] == "http://podium.test:8501/alerts"
        set_node(nomad, "ready")
        one_round(poller, engine)
        resolved = wait_for(lambda: receiver.with_status("resolved"), timeout_s=30, what="a resolved notification")
        assert [a["labels"]["node"] for a in resolved[0]["alerts"]] == [node]
        time.sleep(3)  # three group intervals: anything Alertmanager would still send has arrived
        assert len(receiver.with_status("firing")) == 1 and len(receiver.with_status("resolved")) == 1
    finally:
        poller.stop()
        engine.stop()


def test_fifty_flapping_rounds_cause_no_storm(nomad, receiver, alertmanager):
    direct = Receiver().start()  # Podium's own webhook: every notification Podium itself sends
    only_nodes = frozenset({"PodiumNodeNotReady"})
    engine = AlertEngine(AlertsConfig(resend_interval_s=0.001, destinations=(
        DestinationConfig(name="am", kind="alertmanager", url=alertmanager.url, conditions=only_nodes),
        DestinationConfig(name="hook", kind="webhook", url=direct.url, conditions=only_nodes))))
    poller = poller_for(nomad, engine)
    try:
        for index in range(50):  # 3 rounds down, 2 up: 20 notifications without damping
            set_node(nomad, "down" if index % 5 < 3 else "ready")
            one_round(poller, engine)
            time.sleep(0.3)  # let Alertmanager's 1s group interval pass now and then
        time.sleep(3)
        assert [b["status"] for b in direct.bodies] == ["firing", "resolved", "firing"]
        assert engine.view().firing[0].flapping
        through_alertmanager = receiver.with_status("firing") + receiver.with_status("resolved")
        assert 1 <= len(through_alertmanager) <= FLAP_CHANGES, [b["status"] for b in through_alertmanager]
    finally:
        poller.stop()
        engine.stop()
        direct.stop()


class Hang:
    """A destination that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_a_dead_destination_never_holds_collection_up_and_says_it_is_failing(nomad, receiver):
    hang = Hang()
    dead = DestinationConfig(name="dead", kind="alertmanager", url=hang.url, timeout_s=2, max_attempts=2)
    alive = DestinationConfig(name="hook", kind="webhook", url=receiver.url)
    engine = AlertEngine(AlertsConfig(destinations=(dead, alive), resend_interval_s=0.001), first_retry_s=0.1)
    poller = poller_for(nomad, engine)
    try:
        set_node(nomad, "down")
        for _ in range(5):
            snapshot = poller.poll_once(force=True)
            assert snapshot.clusters[0].status == "ok"
            assert engine.wait_judged()
        # every round finished while the dead destination still had its first message in hand
        dead_health = engine.view().destinations[0]
        assert dead_health.sent == 0 and dead_health.failed == 0
        # the other destination is not held up by it either
        wait_for(lambda: receiver.with_status("firing"), timeout_s=30, what="the webhook's firing notification")
        wait_for(lambda: engine.view().destinations[0].failing_since is not None, timeout_s=30,
                 what="the dead destination to be reported failing")
        health = engine.view().destinations[0]
        assert "timed out" in health.last_error.lower() or "timeout" in health.last_error.lower()
        assert poller.rounds == 5
    finally:
        poller.stop()
        engine.stop()
        hang.close()
