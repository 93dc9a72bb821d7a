"""The alert state machine (pure): pending → firing → resolved, one step per evaluated round.

- An alert fires once its condition has held `for_rounds` consecutive rounds (per condition, default
  2); a round where it does not hold drops a pending alert, so a resolved alert re-fires only after
  `for_rounds` holding rounds again.
- A firing alert resolves on the first round its condition no longer holds — unless it is flapping:
  it already changed state (fired or resolved) FLAP_CHANGES times within the last
  `flap_window_rounds`. A flapping alert stays firing (its description says so) and resolves only
  after `flap_window_rounds` consecutive clear rounds. So an alert that keeps flapping notifies
  FLAP_CHANGES times, then once more (resolved) when it settles; in any `flap_window_rounds`
  consecutive rounds it sends at most FLAP_CHANGES + 1 notifications (docs/alerts.md).
- A frozen cluster (unreadable or stale this round) neither advances nor resolves its objects' alerts.
- An alert whose condition is switched off, or whose cluster left the config, resolves at once.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from fleet.alerts.catalog import CLUSTER_CONDITIONS
from fleet.alerts.conditions import AlertKey, Evaluation, Finding
from fleet.alerts.settings import AlertsConfig

FLAP_CHANGES = 3
RECENT_RESOLVED = 200

AlertState = Literal["pending", "firing", "resolved"]


@dataclass
class Alert:
    key: AlertKey
    name: str
    cluster: str
    orchestrator: str
    severity: str
    object_labels: tuple[tuple[str, str], ...]
    summary: str
    description: str
    since: datetime  # the first round of this episode in which the condition held
    state: AlertState = "pending"
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    held: int = 0  # consecutive rounds the condition held
    cleared: int = 0  # consecutive rounds it did not (while firing)
    flapping: bool = False

    @property
    def labels(self) -> dict[str, str]:
        return {"alertname": self.name, "cluster": self.cluster, "orchestrator": self.orchestrator,
                "severity": self.severity, **dict(self.object_labels)}

    @property
    def annotations(self) -> dict[str, str]:
        description = self.description
        if self.flapping:
            description += " (flapping: held firing until the condition stays clear)"
        return {"summary": self.summary, "description": description}


@dataclass
class Transitions:
    fired: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fired or self.resolved)


class AlertBook:
    """Every pending and firing alert, the recently resolved ones, and each alert's recent changes."""

    def __init__(self) -> None:
        self.alerts: dict[AlertKey, Alert] = {}
        self.resolved: deque[Alert] = deque(maxlen=RECENT_RESOLVED)
        self.round = 0
        self._changes: dict[AlertKey, deque[int]] = {}

    def firing(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.state == "firing"]

    def pending(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.state == "pending"]

    def step(self, evaluation: Evaluation, config: AlertsConfig, now: datetime) -> Transitions:
        self.round += 1
        done = Transitions()
        seen: set[AlertKey] = set()
        for finding in evaluation.findings:
            seen.add(finding.key)
            self._holds(finding, config, now, done)
        enabled = config.enabled()
        for key, alert in list(self.alerts.items()):
            if key in seen:
                continue
            if alert.name not in enabled or alert.cluster not in evaluation.clusters:
                self._end(alert, now, done)
            elif alert.cluster in evaluation.frozen and alert.name not in CLUSTER_CONDITIONS:
                continue  # judged again when the cluster answers
            else:
                self._clear(alert, config, now, done)
        for key in list(self._changes):
            self._prune(key, config)
        return done

    def _holds(self, finding: Finding, config: AlertsConfig, now: datetime, done: Transitions) -> None:
        alert = self.alerts.get(finding.key)
        severity = config.condition(finding.name).severity
        if alert is None:
            alert = self.alerts[finding.key] = Alert(
                finding.key, finding.name, finding.cluster, finding.orchestrator, severity, finding.object_labels,
                finding.summary, finding.description, since=now)
        alert.severity, alert.summary, alert.description = severity, finding.summary, finding.description
        alert.held += 1
        alert.cleared = 0
        if alert.state == "pending" and alert.held >= config.for_rounds_of(finding.name):
            alert.state, alert.fired_at = "firing", now
            self._changed(alert.key, config)
            done.fired.append(alert)

    def _clear(self, alert: Alert, config: AlertsConfig, now: datetime, done: Transitions) -> None:
        alert.held = 0
        if alert.state == "pending":
            del self.alerts[alert.key]
            return
        alert.cleared += 1
        if alert.flapping:
            if alert.cleared >= config.flap_window_rounds:
                self._end(alert, now, done)
        elif self._recent_changes(alert.key, config) >= FLAP_CHANGES:
            alert.flapping = True
        else:
            self._end(alert, now, done)

    def _end(self, alert: Alert, now: datetime, done: Transitions) -> None:
        del self.alerts[alert.key]
        if alert.state != "firing":
            return
        self._changes.setdefault(alert.key, deque()).append(self.round)
        ended = replace(alert, state="resolved", resolved_at=now)
        self.resolved.appendleft(ended)
        done.resolved.append(ended)

    def _changed(self, key: AlertKey, config: AlertsConfig) -> None:
        self._changes.setdefault(key, deque()).append(self.round)

    def _recent_changes(self, key: AlertKey, config: AlertsConfig) -> int:
        self._prune(key, config)
        return len(self._changes.get(key, ()))

    def _prune(self, key: AlertKey, config: AlertsConfig) -> None:
        changes = self._changes.get(key)
        oldest = self.round - config.flap_window_rounds
        while changes and changes[0] <= oldest:
            changes.popleft()
        if changes is not None and not changes:
            del self._changes[key]
