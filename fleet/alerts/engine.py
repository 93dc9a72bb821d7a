"""The alerts engine: hears each finished collection round, judges it on its own thread, keeps the
alert book, and hands notifications to each destination's dispatcher.

The poller's hook only drops the round's Snapshot into a one-slot mailbox, so judging (which may run
the failure-impact analysis on a big fleet) never delays collection. When judging is slower than
collecting, the rounds in between are skipped: `for_rounds` counts judged rounds.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

from fleet import analysis as impact
from fleet.alerts.catalog import ANALYSIS_CONDITIONS
from fleet.alerts.conditions import evaluate
from fleet.alerts.dispatch import DestinationHealth, Dispatcher, Message, Post, http_post
from fleet.alerts.payloads import alertmanager_alerts, webhook_body
from fleet.alerts.settings import AlertsConfig, DestinationConfig
from fleet.alerts.state import Alert, AlertBook, Transitions
from fleet.analysis import ClusterAnalysis, SnapshotAnalysis
from fleet.model import Cluster, Snapshot, utc_now

log = logging.getLogger(__name__)

ALERTMANAGER_PATH = "/api/v2/alerts"
SharedAnalysis = Callable[[Snapshot], SnapshotAnalysis]


@dataclass(frozen=True)
class AlertsView:
    """What the Alerts page shows, copied under the engine's lock."""

    firing: list[Alert]
    pending: list[Alert]
    resolved: list[Alert]
    destinations: list[DestinationHealth]
    rounds: int
    last_round_at: datetime | None
    config: AlertsConfig


class AlertEngine:
    def __init__(self, config: AlertsConfig | None = None, *, analysis: SharedAnalysis | None = None,
                 clock: Callable[[], datetime] = utc_now, post: Post = http_post, first_retry_s: float = 1.0):
        self.config = config or AlertsConfig()
        self.book = AlertBook()
        self._analysis = analysis
        self._clock = clock
        self._post = post
        self._first_retry_s = first_retry_s
        self._lock = threading.Lock()
        self._dispatchers: list[Dispatcher] = []
        self._last_resend: dict[str, datetime] = {}
        self._last_round_at: datetime | None = None
        self._round_gap_s = 0.0
        self._mailbox: Snapshot | None = None
        self._wake = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.configure(self.config)

    # -- configuration -------------------------------------------------------------------------------

    def configure(self, config: AlertsConfig) -> None:
        """New settings and destinations (after a config reload); alerts already raised are kept."""
        with self._lock:
            old = {d.destination: d for d in self._dispatchers}
            keep = [old.pop(dest) for dest in config.destinations if dest in old]
            fresh = [self._dispatcher(dest) for dest in config.destinations if dest not in {d.destination for d in keep}]
            self.config = config
            self._dispatchers = [d for d in keep + fresh]
        for stale in old.values():
            stale.stop(wait=False)  # a sender mid-request must not hold up a Settings save

    def _dispatcher(self, destination: DestinationConfig) -> Dispatcher:
        return Dispatcher(destination, post=self._post, clock=self._clock, first_retry_s=self._first_retry_s)

    # -- rounds -----------------------------------------------------------------------------------------

    def on_round(self, snapshot: Snapshot) -> None:
        """The poller's per-round hook: constant time, never blocks on judging or sending."""
        with self._wake:
            if self._stopped:
                return
            self._mailbox = snapshot
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alerts-judge", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._mailbox is None and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                snapshot, self._mailbox, self._busy = self._mailbox, None, True
            try:
                self.evaluate(snapshot)
            except Exception:
                log.exception("judging a round for alerts failed")
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def wait_judged(self, timeout_s: float = 30.0) -> bool:
        """Until the last round handed over has been judged (tests)."""
        with self._wake:
            return self._wake.wait_for(lambda: self._mailbox is None and not self._busy, timeout_s)

    def evaluate(self, snapshot: Snapshot) -> Transitions:
        """Judge one round and queue what it changed (synchronously: tests call this directly)."""
        config = self.config
        analysis = self._analysis_of(snapshot, config)
        evaluation = evaluate(snapshot, config.enabled(), analysis)
        now = self._clock()
        with self._lock:
            done = self.book.step(evaluation, config, now)
            self._round_gap_s = (now - self._last_round_at).total_seconds() if self._last_round_at else 0.0
            self._last_round_at = now
            firing = self.book.firing()
            dispatchers = list(self._dispatchers)
        for dispatcher in dispatchers:
            self._notify(dispatcher, done, firing, now, config)
        return done

    def _analysis_of(self, snapshot: Snapshot, config: AlertsConfig) -> Callable[[Cluster], ClusterAnalysis | None]:
        """The shared analysis of this snapshot when the runtime has one, else each readable cluster's own,
        computed at most once per round and only when a condition needs it."""
        if not config.enabled() & ANALYSIS_CONDITIONS:
            return lambda cluster: None
        if self._analysis is not None:
            shared = self._analysis
            by_name: dict[str, ClusterAnalysis] | None = None

            def from_shared(cluster: Cluster) -> ClusterAnalysis | None:
                nonlocal by_name
                if by_name is None:
                    by_name = {a.cluster: a for a in shared(snapshot).clusters}
                return by_name.get(cluster.name)

            return from_shared
        return impact.analyze_cluster

    def _notify(self, dispatcher: Dispatcher, done: Transitions, firing: list[Alert], now: datetime,
                config: AlertsConfig) -> None:
        dest = dispatcher.destination
        fired = [a for a in done.fired if dest.wants(a.name, a.severity)]
        resolved = [a for a in done.resolved if dest.wants(a.name, a.severity)]
        if dest.kind == "webhook":
            if fired:
                dispatcher.send(Message("", webhook_body("firing", fired, dest.name, config.external_url),
                                        f"{len(fired)} firing"))
            if resolved:
                dispatcher.send(Message("", webhook_body("resolved", resolved, dest.name, config.external_url),
                                        f"{len(resolved)} resolved"))
            return
        last = self._last_resend.get(dest.name)
        resend_due = last is None or now - last >= timedelta(seconds=config.resend_interval_s)
        if not (fired or resolved or resend_due):
            return
        # every firing alert it wants, each time: re-sent while active so Alertmanager never expires it
        active = [a for a in firing if dest.wants(a.name, a.severity)]
        if not (active or resolved):
            return
        self._last_resend[dest.name] = now
        resend_every_s = max(config.resend_interval_s, self._round_gap_s)
        body = alertmanager_alerts(active + resolved, now, resend_every_s, config.external_url)
        dispatcher.send(Message(ALERTMANAGER_PATH, body, f"{len(active)} firing, {len(resolved)} resolved"))

    # -- reading --------------------------------------------------------------------------------------

    def view(self) -> AlertsView:
        with self._lock:
            order = {name: i for i, name in enumerate(self.config.conditions)}

            def rank(alert: Alert) -> tuple:
                return (alert.severity != "critical", order.get(alert.name, 99), alert.cluster, alert.object_labels)

            # copies: the judge thread goes on updating the book's alerts while a page reads these
            return AlertsView(firing=sorted(map(replace, self.book.firing()), key=rank),
                              pending=sorted(map(replace, self.book.pending()), key=rank),
                              resolved=list(self.book.resolved), config=self.config,
                              destinations=[DestinationHealth(**vars(d.health)) for d in self._dispatchers],
                              rounds=self.book.round, last_round_at=self._last_round_at)

    def wait_sent(self, timeout_s: float = 30.0) -> bool:
        """Until every destination's queue is empty (tests)."""
        return all(d.wait_idle(timeout_s) for d in list(self._dispatchers))

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        with self._lock:
            dispatchers, self._dispatchers = self._dispatchers, []
        for dispatcher in dispatchers:
            dispatcher.stop()
