"""The alert state machine: for_rounds, resolve, flapping, frozen (stale / unreachable) clusters."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

import msgspec

from fleet.alerts.conditions import evaluate
from fleet.alerts.settings import AlertsConfig, ConditionSettings, default_conditions
from fleet.alerts.state import FLAP_CHANGES, AlertBook
from fleet.model import Cluster, Snapshot
from tests.fleet.snapshot_builder import T0, ClusterBuilder

CONFIG = AlertsConfig()


def cluster(*, node_ok: bool = True, status: str = "ok", stale: bool = False, name: str = "c1") -> Cluster:
    built = ClusterBuilder(name=name, orchestrator="kubernetes").node("n1").node(
        "n2", status="ready" if node_ok else "not_ready").build()
    return msgspec.structs.replace(built, status=status, stale=stale)


class Rounds:
    """Feeds snapshots to one AlertBook, a round apart, and counts notifications."""

    def __init__(self, config: AlertsConfig = CONFIG):
        self.book, self.config, self.round = AlertBook(), config, 0
        self.fired: list = []
        self.resolved: list = []

    def step(self, *clusters: Cluster):
        self.round += 1
        now = T0 + timedelta(seconds=15 * self.round)
        evaluation = evaluate(Snapshot(taken_at=now, clusters=list(clusters)), self.config.enabled(), lambda c: None)
        done = self.book.step(evaluation, self.config, now)
        self.fired += done.fired
        self.resolved += done.resolved
        return done

    @property
    def notifications(self) -> int:
        return len(self.fired) + len(self.resolved)


def test_a_condition_fires_only_after_for_rounds_consecutive_rounds():
    rounds = Rounds()
    assert not rounds.step(cluster(node_ok=False))
    assert rounds.book.pending()[0].name == "PodiumNodeNotReady"
    done = rounds.step(cluster(node_ok=False))
    assert [a.name for a in done.fired] == ["PodiumNodeNotReady"]
    assert done.fired[0].labels == {"alertname": "PodiumNodeNotReady", "cluster": "c1", "orchestrator": "kubernetes",
                                    "severity": "warning", "node": "n2"}


def test_a_single_bad_round_between_good_ones_never_fires():
    rounds = Rounds()
    for _ in range(10):
        rounds.step(cluster(node_ok=False))
        rounds.step(cluster())
    assert rounds.notifications == 0


def test_a_firing_alert_is_notified_once_while_it_holds_and_resolves_when_it_clears():
    rounds = Rounds()
    for _ in range(30):
        rounds.step(cluster(node_ok=False))
    assert len(rounds.fired) == 1 and not rounds.resolved
    done = rounds.step(cluster())
    assert [a.state for a in done.resolved] == ["resolved"]
    assert done.resolved[0].resolved_at is not None
    assert not rounds.book.firing() and rounds.book.resolved[0].name == "PodiumNodeNotReady"


def test_per_condition_for_rounds_and_severity_apply():
    conditions = default_conditions() | {"PodiumNodeNotReady": ConditionSettings(severity="critical", for_rounds=4)}
    rounds = Rounds(AlertsConfig(conditions=conditions))
    for _ in range(3):
        rounds.step(cluster(node_ok=False))
    assert not rounds.fired
    rounds.step(cluster(node_ok=False))
    assert rounds.fired[0].severity == "critical" and rounds.fired[0].labels["severity"] == "critical"


def test_a_resolved_alert_refires_only_after_for_rounds_again():
    rounds = Rounds()
    rounds.step(cluster(node_ok=False))
    rounds.step(cluster(node_ok=False))
    rounds.step(cluster())
    assert len(rounds.fired) == 1 and len(rounds.resolved) == 1
    rounds.step(cluster(node_ok=False))
    assert len(rounds.fired) == 1
    rounds.step(cluster(node_ok=False))
    assert len(rounds.fired) == 2


def test_an_unreachable_cluster_keeps_its_objects_alerts_without_resolving_them():
    rounds = Rounds()
    rounds.step(cluster(node_ok=False))
    rounds.step(cluster(node_ok=False))
    # the cluster stops answering: the poller shows its last data (node now looks ready in a
    # stale copy would be the same either way) — nothing about its nodes may be judged
    for _ in range(10):
        rounds.step(cluster(node_ok=True, status="unreachable", stale=True))
    assert [a.name for a in rounds.resolved] == []
    assert {a.name for a in rounds.book.firing()} == {"PodiumNodeNotReady", "PodiumClusterDown", "PodiumClusterStale"}
    rounds.step(cluster(node_ok=False))  # back, node still not ready
    assert {a.name for a in rounds.resolved} == {"PodiumClusterDown", "PodiumClusterStale"}
    assert [a.name for a in rounds.fired].count("PodiumNodeNotReady") == 1


def test_an_unreachable_cluster_does_not_raise_alerts_from_its_stale_data():
    rounds = Rounds()
    rounds.step(cluster())
    for _ in range(5):
        rounds.step(cluster(node_ok=False, status="unreachable", stale=True))
    assert "PodiumNodeNotReady" not in {a.name for a in rounds.fired}


def test_a_cluster_removed_from_the_config_resolves_its_alerts():
    rounds = Rounds()
    rounds.step(cluster(node_ok=False), cluster(name="c2"))
    rounds.step(cluster(node_ok=False), cluster(name="c2"))
    done = rounds.step(cluster(name="c2"))
    assert [a.cluster for a in done.resolved] == ["c1"]


def test_a_condition_switched_off_resolves_its_alerts_at_once():
    rounds = Rounds()
    rounds.step(cluster(node_ok=False))
    rounds.step(cluster(node_ok=False))
    rounds.config = AlertsConfig(conditions=default_conditions() | {
        "PodiumNodeNotReady": ConditionSettings(enabled=False)})
    done = rounds.step(cluster(node_ok=False))
    assert [a.name for a in done.resolved] == ["PodiumNodeNotReady"]


def test_fifty_flapping_rounds_send_a_bounded_number_of_notifications():
    rounds = Rounds()
    for index in range(50):  # 3 rounds down, 2 up: without damping, 20 notifications
        rounds.step(cluster(node_ok=index % 5 >= 3))
    assert rounds.notifications == FLAP_CHANGES
    assert rounds.book.firing()[0].flapping
    assert "flapping" in rounds.book.firing()[0].annotations["description"]
    for _ in range(CONFIG.flap_window_rounds):  # settles: one resolved, after the flap window
        rounds.step(cluster())
    assert rounds.notifications == FLAP_CHANGES + 1 and not rounds.book.firing()


def per_round_notifications(pattern: list[bool]) -> list[int]:
    rounds, counts = Rounds(), []
    for bad in pattern:
        done = rounds.step(cluster(node_ok=not bad))
        counts.append(len(done.fired) + len(done.resolved))
    return counts


def test_the_worst_fifty_rounds_send_two_flap_cycles():
    window = CONFIG.flap_window_rounds
    cycle = [True, True, False, True, True] + [False] * window  # fire, resolve, fire, hold, resolve after the window
    counts = per_round_notifications((cycle * 2)[:50])
    assert sum(counts) == 2 * (FLAP_CHANGES + 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=50, max_size=50))
def test_any_flap_window_of_rounds_notifies_at_most_flap_changes_plus_one(pattern):
    counts = per_round_notifications(pattern)
    window = CONFIG.flap_window_rounds
    assert max(sum(counts[i:i + window]) for i in range(len(counts) - window + 1)) <= FLAP_CHANGES + 1
    assert sum(counts) <= 2 * (FLAP_CHANGES + 1)
