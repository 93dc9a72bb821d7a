"""The dashboard's one fleet per process: its config, its poller, and the demo fleet when shown.

Built by the entry point (app.py), which injects the collector factory and the demo starter, so
the core still knows no orchestrator.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

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
OnRound = Callable[[Snapshot], None]
OnCluster = Callable[[Cluster, float], None]  # a cluster collected this round, and how long it took (s)


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
    # when the latest round of any poller of this runtime was stored (kept across reloads)
    last_round_at: datetime | None = None
    _round_hooks: list[OnRound] = field(default_factory=list, repr=False)
    _cluster_hooks: list[OnCluster] = field(default_factory=list, repr=False)
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
            if clusters:
                self._open_history()
                self.poller = Poller([self.build(c) for c in clusters], self.settings, on_round=self._round,
                                     on_cluster=self._collected).start()
            return self

    # -- per-round subscriptions (API cache, metrics, alerts) ------------------------------------

    def on_round(self, hook: OnRound) -> None:
        """Call `hook(snapshot)` after every collection round, on the poller's thread (keep it quick:
        hand heavy work to a thread of your own). Survives reloads; a failing hook is logged."""
        self._round_hooks.append(hook)

    def on_cluster(self, hook: OnCluster) -> None:
        """Call `hook(cluster, seconds)` for each cluster collected in a round, with its collection time."""
        self._cluster_hooks.append(hook)

    def _round(self, snapshot: Snapshot) -> None:
        self.last_round_at = snapshot.taken_at
        hooks: list[OnRound] = [self.recorder] if self.recorder is not None else []
        for hook in hooks + self._round_hooks:  # history first, then the subscribers
            try:
                hook(snapshot)
            except Exception:
                log.exception("a per-round hook failed")

    def _collected(self, cluster: Cluster, seconds: float) -> None:
        for hook in list(self._cluster_hooks):
            try:
                hook(cluster, seconds)
            except Exception:
                log.exception("a per-cluster hook failed")

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

    def reload_auth(self) -> "FleetRuntime":
        """Re-read only `settings.auth` (API tokens created or revoked): polling goes on undisturbed."""
        with self._lock:
            if self.config is None:
                return self.reload()
            try:
                fresh = load_config(self.config_path)
            except ConfigError as exc:
                log.error("invalid config %s:\n%s", self.config_path, exc)
                return self
            settings = replace(self.config.settings, auth=fresh.settings.auth)
            self.config = replace(self.config, settings=settings)
            return self

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


_shared: dict[Path, FleetRuntime] = {}
_shared_lock = threading.Lock()


def shared_runtime(path: Path, create: Callable[[Path], FleetRuntime]) -> FleetRuntime:
    """The one started runtime per process and config path. The server's start-up hook and the pages
    both ask here: `streamlit run` imports app.py as a module for the server and runs it again as
    `__main__` for each page view, so a cache keyed on their functions would not be shared."""
    key = path.resolve()
    with _shared_lock:
        if key not in _shared:
            _shared[key] = create(path)
        return _shared[key]
