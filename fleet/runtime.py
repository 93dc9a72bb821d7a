"""The dashboard's one fleet per process: its config, its poller, and the demo fleet when shown.

Built by the entry point (app.py), which injects the collector factory and the demo starter, so
the core still knows no orchestrator.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from fleet.alerts.engine import AlertEngine, SharedAnalysis
from fleet.alerts.settings import AlertsConfig
from fleet.config import (DEFAULT_CONFIG_PATH, ClusterConfig, ConfigError, FleetConfig, Secret, Settings,
                          load_config, parse_cluster_entries)
from fleet.model import Cluster, Snapshot
from fleet.poller import Poller
from fleet.source import Source
from fleet.store import HistoryRecorder, SnapshotStore, StoreError, open_store

log = logging.getLogger(__name__)

CONFIG_ENV = "PODIUM_CONFIG"


def config_path_from_env() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


@dataclass
class DemoFleet:
    """Emulated clusters running in this process: their configs, and how to stop them."""

    clusters: list[ClusterConfig]
    stop: Callable[[], None]


BuildSource = Callable[[ClusterConfig], Source]
StartDemo = Callable[[], DemoFleet]


@dataclass
class FleetRuntime:
    config_path: Path
    build: BuildSource
    start_demo: StartDemo | None = None
    config: FleetConfig | None = None
    config_error: ConfigError | None = None
    poller: Poller | None = None
    demo: DemoFleet | None = None
    store: SnapshotStore | None = None
    store_problem: str | None = None
    recorder: HistoryRecorder | None = None
    # the analysis of a snapshot shared with the pages, when the entry point has one (alerts use it)
    analysis: SharedAnalysis | None = None
    alerts: AlertEngine | None = None
    # called with every finished round's Snapshot, after the history recorder (see subscribe)
    round_listeners: list[Callable[[Snapshot], None]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def configured(self) -> bool:
        return self.config is not None and bool(self.config.clusters)

    @property
    def settings(self) -> Settings:
        return self.config.settings if self.config else Settings()

    @property
    def demo_wanted(self) -> bool:
        if self.start_demo is None or self.config_error is not None:
            return False
        choice = self.settings.demo
        return (not self.configured) if choice is None else choice

    def snapshot(self) -> Snapshot | None:
        return self.poller.snapshot() if self.poller else None

    def start(self) -> "FleetRuntime":
        """Load the config and start polling in the background; a broken config is reported, not raised."""
        with self._lock:
            self.config, self.config_error = None, None
            if self.config_path.exists():
                try:
                    self.config = load_config(self.config_path)
                except ConfigError as exc:
                    log.error("invalid config %s:\n%s", self.config_path, exc)
                    self.config_error = exc
            if self.demo_wanted and self.demo is None:
                self.demo = self.start_demo()  # type: ignore[misc]
            elif not self.demo_wanted and self.demo is not None:
                self.demo.stop()
                self.demo = None
            clusters = (self.config.clusters if self.config else []) + (self.demo.clusters if self.demo else [])
            self._configure_alerts()
            if clusters:
                self._open_history()
                self.poller = Poller([self.build(c) for c in clusters], self.settings, on_round=self._round_finished).start()
            return self

    def subscribe(self, listener: Callable[[Snapshot], None]) -> None:
        """Hear every finished round (on the poller's thread: return quickly, hand heavy work off)."""
        self.round_listeners.append(listener)

    def _round_finished(self, snapshot: Snapshot) -> None:
        for listener in ([self.recorder] if self.recorder else []) + list(self.round_listeners):
            try:
                listener(snapshot)
            except Exception:  # one listener's failure must not keep the others from hearing the round
                log.exception("a per-round listener failed")

    def _configure_alerts(self) -> None:
        """One alerts engine per runtime, kept across reloads (raised alerts survive a Settings save)."""
        config = self.config.alerts if self.config else AlertsConfig()
        if self.alerts is None:
            self.alerts = AlertEngine(config, analysis=self.analysis)
            self.subscribe(self.alerts.on_round)
        else:
            self.alerts.configure(config)

    def _open_history(self) -> None:
        """Every round is kept in the history store; a store that cannot open is reported, not fatal."""
        config = self.config or FleetConfig(path=self.config_path, settings=Settings(), clusters=[])
        try:
            self.store, self.store_problem = open_store(config), None
        except StoreError as exc:
            log.error("history is not kept: %s", exc)
            self.store, self.store_problem = None, str(exc)
        self.recorder = HistoryRecorder(self.store) if self.store else None

    @property
    def history_problem(self) -> str | None:
        if self.store_problem:
            return self.store_problem
        return self.recorder.last_error if self.recorder else None

    def reload(self) -> "FleetRuntime":
        """Re-read the config (after a save) and restart polling with it."""
        with self._lock:
            if self.poller:
                self.poller.stop()
                self.poller = None
            return self.start()

    def stop(self) -> None:
        with self._lock:
            if self.poller:
                self.poller.stop()
                self.poller = None
            if self.demo:
                self.demo.stop()
                self.demo = None
            if self.alerts:
                self.alerts.stop()
                self.round_listeners.remove(self.alerts.on_round)
                self.alerts = None

    def test_connection(self, entry: dict[str, Any], *, token: str | None = None) -> Cluster:
        """Validate one cluster entry and collect it once, outside the running poller; `token` is one
        typed into a form and not saved yet. Raises ConfigError when the entry itself is invalid."""
        [cluster] = parse_cluster_entries([entry], str(self.config_path), environ=dict(os.environ))
        if token:
            cluster = replace(cluster, token=Secret(token))
        poller = Poller([self.build(cluster)], self.settings)
        try:
            return poller.poll_once(force=True).clusters[0]
        finally:
            poller.stop()
