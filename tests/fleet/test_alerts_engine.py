"""The engine and its senders without a network: what each destination is sent, when, and how a
failing one is retried, bounded and reported."""
from __future__ import annotations

import threading
from datetime import timedelta

from fleet.alerts import dispatch
from fleet.alerts.dispatch import Dispatcher, Message, SendError
from fleet.alerts.engine import ALERTMANAGER_PATH, AlertEngine
from fleet.alerts.payloads import MIN_VALID_S, ZERO_TIME
from fleet.alerts.settings import AlertsConfig, DestinationConfig
from fleet.config import Secret
from fleet.model import Snapshot
from tests.fleet.snapshot_builder import T0, ClusterBuilder

SECRET = "Bearer alerts-canary-7d1f"


class Recorder:
    def __init__(self, fail: Exception | None = None):
        self.calls: list[tuple[str, object, dict, float]] = []
        self.fail = fail

    def __call__(self, url, body, headers, timeout_s):
        self.calls.append((url, body, headers, timeout_s))
        if self.fail is not None:
            raise self.fail


def snapshot(node_ok: bool, *, status: str = "ok") -> Snapshot:
    cluster = ClusterBuilder(name="prod").node("n1").node("n2", status="ready" if node_ok else "down").build()
    cluster.status = status  # type: ignore[assignment]
    return Snapshot(taken_at=T0, clusters=[cluster])


def engine_for(*destinations: DestinationConfig, post=None, resend_interval_s: float = 60.0) -> AlertEngine:
    clock = iter(T0 + timedelta(seconds=15 * i) for i in range(1000))
    return AlertEngine(AlertsConfig(destinations=destinations, resend_interval_s=resend_interval_s,
                                    external_url="https://podium.example"),
                       clock=lambda: next(clock), post=post or Recorder(), first_retry_s=0.01)


def run(engine: AlertEngine, *pattern: bool) -> None:
    for node_ok in pattern:
        engine.evaluate(snapshot(node_ok))
    assert engine.wait_sent(10)


def test_a_webhook_gets_one_firing_and_one_resolved_body_shaped_like_alertmanagers():
    post = Recorder()
    engine = engine_for(DestinationConfig(name="hook", kind="webhook", url="http://hook.test/x",
                                          auth_header=Secret(SECRET)), post=post)
    run(engine, False, False, False, False, True, True)
    assert [body["status"] for _, body, _, _ in post.calls] == ["firing", "resolved"]
    url, firing, headers, _ = post.calls[0]
    assert url == "http://hook.test/x" and headers == {"Authorization": SECRET}
    assert firing["version"] == "4" and firing["receiver"] == "hook"
    [alert] = firing["alerts"]
    assert alert["labels"] == {"alertname": "PodiumNodeNotReady", "cluster": "prod", "orchestrator": "kubernetes",
                               "severity": "warning", "node": "n2"}
    assert alert["endsAt"] == ZERO_TIME and alert["generatorURL"] == "https://podium.example/alerts"
    assert alert["annotations"]["summary"] == "node n2 of Kubernetes cluster prod is down"
    resolved = post.calls[1][1]["alerts"][0]
    assert resolved["status"] == "resolved" and resolved["endsAt"] != ZERO_TIME
    assert resolved["fingerprint"] == alert["fingerprint"]
    engine.stop()


def test_alertmanager_gets_active_alerts_again_each_resend_interval_and_the_resolve_with_its_end():
    post = Recorder()
    engine = engine_for(DestinationConfig(name="am", kind="alertmanager", url="http://am.test:9093/"),
                        post=post, resend_interval_s=30)
    run(engine, False, False, False, False, False, True)  # fires on round 2 (t=15s); rounds 15 s apart
    urls = {url for url, _, _, _ in post.calls}
    assert urls == {"http://am.test:9093" + ALERTMANAGER_PATH}
    sent_at = [len(body) for _, body, _, _ in post.calls]
    assert sent_at == [1, 1, 1]  # fired (t=15), re-sent at t=45 (30 s later), resolved at t=75
    fired, resent, resolved = (body[0] for _, body, _, _ in post.calls)
    assert fired["startsAt"] == "2026-01-01T12:00:00Z"
    assert fired["endsAt"] == (T0 + timedelta(seconds=15 + MIN_VALID_S)).isoformat().replace("+00:00", "Z")
    assert resolved["endsAt"] == "2026-01-01T12:01:15Z"
    engine.stop()


def test_destination_filters_pick_conditions_and_severities():
    post = Recorder()
    engine = engine_for(DestinationConfig(name="crit", kind="webhook", url="http://hook.test",
                                          severities=frozenset({"critical"})), post=post)
    run(engine, False, False, False)  # a node alert is a warning by default
    assert post.calls == []
    engine.evaluate(snapshot(True, status="unreachable"))
    engine.evaluate(snapshot(True, status="unreachable"))
    assert engine.wait_sent(10)
    assert [body["alerts"][0]["labels"]["alertname"] for _, body, _, _ in post.calls] == ["PodiumClusterDown"]
    engine.stop()


def test_a_failing_destination_is_retried_a_bounded_number_of_times_and_reported_without_its_secret():
    post = Recorder(fail=SendError(f"HTTP 401: bad credentials {SECRET}"))
    destination = DestinationConfig(name="am", kind="alertmanager", url="http://am.test", max_attempts=3,
                                    auth_header=Secret(SECRET))
    sender = Dispatcher(destination, post=post, first_retry_s=0.01)
    sender.send(Message(ALERTMANAGER_PATH, [], "test"))
    assert sender.wait_idle(10)
    assert len(post.calls) == 3
    health = sender.health
    assert (health.sent, health.failed) == (0, 1) and health.failing_since is not None
    assert "HTTP 401" in health.last_error and SECRET not in health.last_error
    sender.stop()


def test_a_full_queue_drops_its_oldest_message_and_counts_it(monkeypatch):
    monkeypatch.setattr(dispatch, "QUEUE_SIZE", 2)
    gate = threading.Event()
    post = Recorder()
    destination = DestinationConfig(name="slow", kind="webhook", url="http://slow.test")
    sender = Dispatcher(destination, post=lambda *args: gate.wait(10) and post(*args))
    for index in range(5):
        sender.send(Message("", {"n": index}, f"message {index}"))
    gate.set()
    assert sender.wait_idle(10)
    assert sender.health.dropped >= 2
    assert post.calls[-1][1] == {"n": 4}  # the newest always survives
    sender.stop()


def test_the_poller_hook_returns_at_once_while_judging_is_held_up():
    release = threading.Event()

    def slow_analysis(snap):
        release.wait(10)
        from fleet.analysis import analyze
        return analyze(snap)

    engine = AlertEngine(AlertsConfig(), analysis=slow_analysis)
    for _ in range(5):
        engine.on_round(snapshot(False))  # would hang here if the hook judged on the caller's thread
    release.set()
    assert engine.wait_judged(10)
    assert 1 <= engine.view().rounds <= 5  # rounds that piled up while judging were skipped, not queued
    engine.stop()
