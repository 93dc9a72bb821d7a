"""The dashboard's one fleet per process: its config, its poller, and the demo fleet when shown.

Built by the entry point (app.py), which injects the collector factory and the demo starter, so
the core still knows no orchestrator.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from fleet.alerts.engine import AlertEngine, SharedAnalysis
from fleet.alerts.settings import AlertsConfig
from fleet.config import (DEFAULT_CONFIG_PATH, ClusterConfig, ConfigError, FleetConfig, Secret, Settings,
                          load_config, parse_cluster_entries)
from fleet.freed_memory import release_freed_memory
from fleet.gcpause import report_slow_passes
from fleet.ha.coordinator import Coordinator, Status, replica_id
from fleet.history_schema import POSTGRES
from fleet.model import Cluster, Snapshot
from fleet.poller import Poller
from fleet.source import Source
from fleet.store import HistoryRecorder, SnapshotStore, StoreError, open_store

log = logging.getLogger(__name__)

CONFIG_ENV = "PODIUM_CONFIG"


CONFIG_WATCH_S = 2.0


def config_stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def config_path_from_env() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def polled_as(config: ClusterConfig) -> tuple:
    """What a cluster's collector is built from: its entry, its credentials, and the files it reads
    (by modification time and size), compared on a reload."""
    files = (config.ca_file, config.token_file, config.tls.ca_file, config.tls.cert_file, config.tls.key_file,
             *(value for key, value in sorted(config.options.items()) if key.endswith("_file") and isinstance(value, str)))
    return config, config.token, dict(config.secrets), tuple(config_stamp(Path(f)) if f else None for f in files)


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
    coordinator: Coordinator | None = None
    # the analysis of a snapshot shared with the pages, when the entry point has one (alerts use it)
    analysis: SharedAnalysis | None = None
    # waits while the entry point does the round's work that pages wait for (the dashboard's tables):
    # the history's write of the round comes after it rather than sharing the interpreter lock with it
    before_storing: OnRound | None = None
    alerts: AlertEngine | None = None
    # when the latest round this process serves was collected (kept across reloads)
    last_round_at: datetime | None = None
    _polled: dict[str, tuple] = field(default_factory=dict, repr=False)  # polled_as per cluster polled
    _round_hooks: list[OnRound] = field(default_factory=list, repr=False)
    _cluster_hooks: list[OnCluster] = field(default_factory=list, repr=False)
    _config_stamp: tuple[int, int] | None = field(default=None, repr=False)
    _watcher: threading.Thread | None = field(default=None, repr=False)
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
        if self.coordinator is not None:
            served = self.coordinator.snapshot()
            if served is not None:
                return served
        return self.poller.snapshot() if self.poller else None

    def start(self) -> "FleetRuntime":
        """Load the config and start polling in the background; a broken config is reported, not raised."""
        report_slow_passes()
        with self._lock:
            self.config, self.config_error = None, None
            if self.config_path.exists():
                try:
                    self.config = load_config(self.config_path)
                except ConfigError as exc:
                    log.error("invalid config %s:\n%s", self.config_path, exc)
                    self.config_error = exc
            demo_unwanted = not self.demo_wanted and self.demo is not None
            if self.demo_wanted and self.demo is None:
                self.demo = self.start_demo()  # type: ignore[misc]
            demo_clusters = self.demo.clusters if self.demo is not None and not demo_unwanted else []
            clusters = (self.config.clusters if self.config else []) + demo_clusters
            carried = self._stop_polling(keep=clusters)  # a reload: unchanged clusters go on as they were
            if demo_unwanted:
                self.demo.stop()  # type: ignore[union-attr]
                self.demo = None
            self._configure_alerts()
            if clusters:
                self._open_history()
                self.coordinator = self._coordinate([c.name for c in clusters])
                sources = [carried[c.name].source if c.name in carried else self.build(c) for c in clusters]
                self._polled = {c.name: polled_as(c) for c in clusters}
                self.poller = Poller(sources, self.settings, carried=carried, **self._hooks()).start()
            self._config_stamp = config_stamp(self.config_path)
            if self.coordinator is not None and self._watcher is None:
                self._watcher = threading.Thread(target=self._follow_config, name="config-watch", daemon=True)
                self._watcher.start()
            return self

    # -- per-round subscriptions (API cache, metrics, alerts) ------------------------------------

    def on_round(self, hook: OnRound) -> None:
        """Call `hook(snapshot)` with every round this process serves (its own, or with replicas the
        leader's stored ones), on the poller's thread: keep it quick, hand heavy work to a thread of
        your own. Survives reloads; a failing hook is logged and stops nothing."""
        self._round_hooks.append(hook)

    def on_cluster(self, hook: OnCluster) -> None:
        """Call `hook(cluster, seconds)` for each cluster this process collected in a round."""
        self._cluster_hooks.append(hook)

    def _round_finished(self, snapshot: Snapshot) -> None:
        """One process: tell the subscribers, then keep the round in the history. The subscribers only
        hand the round to their own threads, so the pages start on it without waiting for the store
        (the seed fleet's first round is a 19.5 MB keyframe: 2.4 s), and the store waits for what
        pages wait for (`before_storing`). The next round starts after both."""
        self._tell_subscribers(snapshot)
        if self.recorder is not None:
            if self.before_storing is not None:
                try:
                    self.before_storing(snapshot)
                except Exception:
                    log.exception("waiting for the round's foreground work failed")
            self.recorder(snapshot)  # never raises: a failing store is shown, not thrown
        release_freed_memory()  # the round's decoded payloads are gone by now

    def _tell_subscribers(self, snapshot: Snapshot) -> None:
        self.last_round_at = snapshot.taken_at
        for hook in list(self._round_hooks):
            try:
                hook(snapshot)
            except Exception:  # one subscriber's failure must not keep the others from hearing the round
                log.exception("a per-round hook failed")

    def _collected(self, cluster: Cluster, seconds: float) -> None:
        if self.coordinator is not None:
            self.coordinator.cluster_collected(cluster, seconds)
        for hook in list(self._cluster_hooks):
            try:
                hook(cluster, seconds)
            except Exception:
                log.exception("a per-cluster hook failed")

    def _configure_alerts(self) -> None:
        """One alerts engine per runtime, kept across reloads (raised alerts survive a Settings save)."""
        config = self.config.alerts if self.config else AlertsConfig()
        if self.alerts is None:
            self.alerts = AlertEngine(config, analysis=self.analysis)
            self.on_round(self._judge_alerts)
        else:
            self.alerts.configure(config)

    def _judge_alerts(self, snapshot: Snapshot) -> None:
        """Only the replica that stores the rounds raises alerts: followers would send each one again."""
        if self.alerts is not None and self.status().role != "follower":
            self.alerts.on_round(snapshot)

    def _coordinate(self, clusters: list[str]) -> Coordinator | None:
        """Replicas sharing a PostgreSQL history coordinate by themselves; SQLite means one process."""
        if self.store is None or self.store.dialect is not POSTGRES:
            if self.coordinator is not None:
                self.coordinator.stop()
            return None
        if self.coordinator is not None:  # a reload: keep the leases, follow the new cluster list
            self.coordinator.reconfigure(self.store, clusters, self.settings.poll_interval_s)
            return self.coordinator
        try:
            return Coordinator(self.store.connector, self.store, clusters, self.settings.poll_interval_s,
                               on_lead=lambda: self.poller.refresh_now() if self.poller else None,
                               on_loaded=self._tell_subscribers).start()
        except Exception as exc:
            log.error("replicas cannot coordinate: %s", exc)
            self.store_problem = f"replicas cannot coordinate through {self.store.describe()}: {type(exc).__name__}"
            self.recorder = None
            return None

    def _hooks(self) -> dict[str, Any]:
        if self.coordinator is None:
            return {"on_round": self._round_finished, "on_cluster": self._collected}
        return {"on_round": self._lead_round, "on_cluster": self._collected, "collects": self.coordinator.collects}

    def _lead_round(self, local: Snapshot) -> None:
        """A replica's own round: stored (and served) only when it leads; followers hear stored rounds."""
        stored = self.coordinator.round_finished(local) if self.coordinator else None
        if stored is not None:
            self._tell_subscribers(stored)
        release_freed_memory()

    def status(self) -> Status:
        """This process's part among replicas (GET /api/v1/status)."""
        if self.coordinator is not None:
            return self.coordinator.status()
        return Status(replica_id(), "single", None, self.last_round_at)

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
        if self.coordinator is not None and self.coordinator.problem:
            return self.coordinator.problem
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
        """Re-read the config (after a save) and restart polling with it. A cluster whose entry,
        credentials and files did not change keeps its collector (watches, event streams, what it
        remembers) and its last data: saving one cluster does not collect the whole fleet afresh, nor
        blank it meanwhile."""
        return self.start()

    def _stop_polling(self, keep: Sequence[ClusterConfig] = ()) -> dict[str, Any]:
        """Stop the poller; the states of the clusters in `keep` polled as before are handed back."""
        if not self.poller:
            return {}
        unchanged = [c.name for c in keep if self._polled.get(c.name) == polled_as(c)]
        carried = self.poller.stop(keep=unchanged)
        self.poller = None
        return carried

    def _follow_config(self) -> None:
        """Replicas share the config file: a save made through any replica reaches all of them."""
        while self.coordinator is not None:
            time.sleep(CONFIG_WATCH_S)
            if config_stamp(self.config_path) != self._config_stamp:
                log.info("%s changed: reloading", self.config_path)
                try:
                    self.reload()
                except Exception:
                    log.exception("reloading the changed config failed")

    def stop(self) -> None:
        with self._lock:
            self._stop_polling()
            if self.coordinator:
                coordinator, self.coordinator = self.coordinator, None
                coordinator.stop()
            if self.demo:
                self.demo.stop()
                self.demo = None
            if self.alerts:
                self.alerts.stop()
                self._round_hooks.remove(self._judge_alerts)
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
