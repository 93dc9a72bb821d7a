"""One replica's part in a PostgreSQL-coordinated group: lead or follow, poll what it owns.

Every replica runs the same loop (every third of a poll interval): heartbeat, try to take or renew
the leader lease, work out which clusters it should poll (fleet/ha/assign.py) and take or hand back
their leases. The leader assembles each round from its own collections and the rows other owners
wrote, stores it fenced, and NOTIFYs; followers LISTEN and serve the latest stored round. A leader
that cannot renew within its lease steps down by itself (its own clock), and the database refuses
its writes anyway (fencing), so a paused or cut-off leader never writes a stale round.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from fleet.ha.assign import SPLIT_FROM, owners
from fleet.ha.leases import LEADER, FencedOut, LeaseTable, check_fence, cluster_lease
from fleet.ha.rounds import NOTIFY_CHANNEL, ClusterRows, announce
from fleet.model import Cluster, Snapshot
from fleet.store import SnapshotStore, epoch_s

log = logging.getLogger(__name__)

REPLICA_ENV = "PODIUM_REPLICA"
MIN_LEASE_S = 3.0


def replica_id() -> str:
    return os.environ.get(REPLICA_ENV) or f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class Status:
    """What GET /api/v1/status answers (contract: http-api.md)."""

    replica: str
    role: str  # "leader" | "follower"
    leader: str | None
    last_round_at: datetime | None


class TooSoon(Exception):
    """A round within half an interval of the latest stored one: that period is already kept."""


class Coordinator:
    def __init__(self, connect: Callable, store: SnapshotStore, clusters: list[str], interval_s: float, *,
                 replica: str | None = None, on_lead: Callable[[], None] | None = None,
                 on_loaded: Callable[[Snapshot], None] | None = None):
        self.replica = replica or replica_id()
        self.interval_s = float(interval_s)
        self.lease_s = max(MIN_LEASE_S, self.interval_s)
        self.store = store
        self.clusters = list(clusters)
        self.leases = LeaseTable(connect)
        self.rows = ClusterRows(connect)
        self._connect = connect
        self._on_lead = on_lead
        self._on_loaded = on_loaded  # a newer stored round read (followers: the leader's latest)
        self._lock = threading.Lock()
        self._leader_fence: int | None = None
        self._leader_until = 0.0  # monotonic: past it this replica no longer believes it leads
        self._leader: str | None = None
        self._owned: dict[str, int] = {}  # cluster -> fence of its lease
        self._served: Snapshot | None = None
        self._last_round_at: datetime | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.problem: str | None = None  # the last coordination failure, shown on the pages

    def reconfigure(self, store: SnapshotStore, clusters: list[str], interval_s: float) -> None:
        """After a config reload: same replica and leases, new cluster list (owned ones are recomputed next tick)."""
        with self._lock:
            self.store, self.clusters = store, list(clusters)
            self.interval_s = float(interval_s)
            self.lease_s = max(MIN_LEASE_S, self.interval_s)
        self._wake.set()

    # -- what the rest of the process asks ---------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        return self._leader_fence is not None and time.monotonic() < self._leader_until

    @property
    def split(self) -> bool:
        return len(self.clusters) >= SPLIT_FROM

    def collects(self, cluster: str) -> bool:
        """Whether this replica polls `cluster` now (the poller asks before each collection)."""
        with self._lock:
            return cluster in self._owned and (self.split or self.is_leader)

    def status(self) -> Status:
        with self._lock:
            leader = self.replica if self.is_leader else self._leader
            return Status(self.replica, "leader" if self.is_leader else "follower", leader, self._last_round_at)

    def snapshot(self) -> Snapshot | None:
        with self._lock:
            return self._served

    # -- hooks the poller calls --------------------------------------------------------------------

    def cluster_collected(self, cluster: Cluster, _seconds: float = 0.0) -> None:
        """Share a polled cluster with the leader (only needed when the clusters are split)."""
        fence = self._owned.get(cluster.name)
        if fence is None or not self.split:
            return
        try:
            self.rows.publish(cluster, self.replica, fence)
        except FencedOut as exc:
            log.info("%s", exc)
        except Exception as exc:
            self._failed("sharing a polled cluster", exc)

    def round_finished(self, local: Snapshot) -> Snapshot | None:
        """The poller's round: the leader assembles, stores (fenced) and announces it, and returns what
        it stored; followers ignore it (None)."""
        fence = self._leader_fence
        if fence is None or not self.is_leader:
            return None
        try:
            snapshot = self._assemble(local)
            if not any(c.collected_at for c in snapshot.clusters):
                return None

            def inside(cursor: Any) -> None:
                check_fence(cursor, LEADER, self.replica, fence)
                cursor.execute("SELECT MAX(taken_at_s) FROM podium_snapshots")
                (last,) = cursor.fetchone()
                if last is not None and epoch_s(snapshot.taken_at) - last < self.interval_s / 2:
                    raise TooSoon()
                announce(cursor)
            self.store.save(snapshot, inside=inside)
        except FencedOut as exc:
            log.warning("%s", exc)
            self._step_down()
            return None
        except TooSoon:
            return None  # the previous leader stored this period's round just before it went
        except Exception as exc:
            self._failed("storing the round", exc)
            return None
        with self._lock:
            self._served, self._last_round_at = snapshot, snapshot.taken_at
        return snapshot

    def _assemble(self, local: Snapshot) -> Snapshot:
        """This replica's own collections plus, for clusters another replica polls, the rows it shared."""
        with self._lock:
            mine = set(self._owned)
        others = [c.name for c in local.clusters if c.name not in mine]
        shared = self.rows.read(others) if others and self.split else {}
        return Snapshot(taken_at=local.taken_at,
                        clusters=[shared.get(c.name, c) if c.name not in mine else c for c in local.clusters])

    # -- the loop ----------------------------------------------------------------------------------

    def start(self) -> "Coordinator":
        self._load_latest()
        for target, name in ((self._run, "ha-leases"), (self._listen, "ha-listen")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, *, leave: bool = True) -> None:
        """Stop taking part; `leave` hands leadership and clusters over at once rather than at lease expiry."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if leave:
            try:
                self.leases.leave(self.replica)
            except Exception:
                log.debug("leaving the replica group failed", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:
                self._failed("coordinating with the other replicas", exc)
            self._wake.wait(self.lease_s / 3)
            self._wake.clear()

    def tick(self) -> None:
        """One pass: heartbeat, leadership, cluster ownership."""
        started = time.monotonic()
        self.leases.heartbeat(self.replica, self.lease_s)
        fence = self.leases.acquire(LEADER, self.replica, self.lease_s)
        became_leader = fence is not None and (fence != self._leader_fence or not self.is_leader)
        if fence is not None:
            self._leader_fence, self._leader_until = fence, started + self.lease_s * 0.9
            self._leader = self.replica
        else:
            self._step_down()
            holder = self.leases.holder(LEADER)
            self._leader = holder.holder if holder else None
        self._own_clusters()
        self.problem = None
        if became_leader:
            log.info("replica %s leads now (fence %s)", self.replica, fence)
            self.store.forget_head()
            self._load_latest()
            if self._on_lead:
                self._on_lead()

    def _own_clusters(self) -> None:
        live = self.leases.live_replicas()
        wanted = {c for c, owner in owners(self.clusters, live, self._leader).items() if owner == self.replica}
        self.leases.release_many([cluster_lease(c) for c in self._owned if c not in wanted], self.replica)
        fences = self.leases.acquire_many([cluster_lease(c) for c in self.clusters if c in wanted], self.replica,
                                          self.lease_s)
        with self._lock:
            self._owned = {c: fences[cluster_lease(c)] for c in self.clusters if cluster_lease(c) in fences}

    def _step_down(self) -> None:
        if self._leader_fence is not None:
            log.info("replica %s no longer leads", self.replica)
        self._leader_fence, self._leader_until = None, 0.0

    def _failed(self, what: str, exc: Exception) -> None:
        self.problem = f"{what} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        log.warning("replica %s: %s", self.replica, self.problem)

    # -- followers: the latest stored round, woken by NOTIFY ---------------------------------------

    def _load_latest(self) -> None:
        try:
            latest = self.store.latest()
        except Exception as exc:
            self._failed("reading the latest round", exc)
            return
        if latest is None:
            return
        with self._lock:
            newer = self._last_round_at is None or latest.taken_at > self._last_round_at
            if newer:
                self._served, self._last_round_at = latest, latest.taken_at
        if newer and self._on_loaded is not None:
            try:
                self._on_loaded(latest)
            except Exception:
                log.exception("a listener of stored rounds failed")

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._load_latest()  # what was stored while no one listened
                    while not self._stop.is_set():
                        heard = list(connection.notifies(timeout=1.0, stop_after=1))
                        if heard and not self.is_leader:
                            self._load_latest()
            except Exception as exc:
                self._failed("listening for new rounds", exc)
                self._stop.wait(1.0)
