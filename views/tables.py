"""Snapshot → pandas tables for the pages, built once per snapshot and filtered in Python.

Nothing here calls a cluster. Tables are built column-wise (fast at 150,000 rows) and cached on
the snapshot's identity: the poller publishes a new Snapshot object every round.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

import pandas as pd

from fleet.model import Cluster, Event, Instance, Node, Snapshot, Workload
from fleet.problems import Problem, fleet_problems, object_problems, standing_problems
from fleet.sameness import same_items
from views.format import autoscaler_text

MAX_ROWS_SHOWN = 5_000
# what pandas makes of the model's UTC datetimes; a column of only None would otherwise be of objects, and
# joining it to the other clusters' would turn all their times into objects (475,000 of them: ~0.5 s)
TIME = "datetime64[us, UTC]"
KEPT_SNAPSHOTS = 2  # the one a page shows and the one being prepared
KEPT_JOBS = 3
GIVE_WAY_MAX_S = 30.0  # the longest background work pauses for work pages wait for


@dataclass
class FleetTables:
    nodes: pd.DataFrame
    workloads: pd.DataFrame
    instances: pd.DataFrame
    events: pd.DataFrame


def _ratio(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole, 0 where there is no whole. Over 1 stays over 1: a node can hold more than it
    offers (static pods, a node that shrank after its work was placed), and that is worth seeing."""
    return (part / whole.where(whole > 0)).fillna(0.0).clip(lower=0)


def _nodes(snapshot: Snapshot) -> pd.DataFrame:
    rows = [(c.name, c.orchestrator, n.id, n.name, n.status, n.schedulable, ", ".join(n.roles), n.zone or "",
             n.region or "", n.address or "", n.cpu_allocated_cores, n.cpu_allocatable_cores, n.mem_allocated_bytes,
             n.mem_allocatable_bytes, n.cpu_used_cores, n.mem_used_bytes, n.version or "")
            for c in snapshot.clusters for n in c.nodes]
    frame = pd.DataFrame(rows, columns=["cluster", "orchestrator", "id", "name", "status", "schedulable", "roles",
                                        "zone", "region", "address", "cpu_allocated", "cpu_allocatable",
                                        "mem_allocated", "mem_allocatable", "cpu_used", "mem_used", "version"])
    frame["cpu_alloc_ratio"] = _ratio(frame["cpu_allocated"], frame["cpu_allocatable"])
    frame["mem_alloc_ratio"] = _ratio(frame["mem_allocated"], frame["mem_allocatable"])
    frame["mem_allocated_gib"] = frame["mem_allocated"] / 2**30
    frame["mem_allocatable_gib"] = frame["mem_allocatable"] / 2**30
    frame["mem_used_gib"] = frame["mem_used"].astype("float64") / 2**30
    return frame


def _workloads(snapshot: Snapshot) -> pd.DataFrame:
    rows = [(c.name, c.orchestrator, w.id, w.name, w.namespace, w.kind, w.status, w.desired, w.running, w.healthy,
             ", ".join(w.images), w.cpu_request_cores, w.mem_request_bytes / 2**20, autoscaler_text(w.autoscaler))
            for c in snapshot.clusters for w in c.workloads]
    return pd.DataFrame(rows, columns=["cluster", "orchestrator", "id", "name", "namespace", "kind", "status",
                                       "desired", "running", "healthy", "images", "cpu_request", "mem_request_mib",
                                       "autoscaler"])


def _instances(snapshot: Snapshot) -> pd.DataFrame:
    rows = []
    for cluster in snapshot.clusters:
        workloads = {w.id: w.name for w in cluster.workloads}
        nodes = {n.id: n.name for n in cluster.nodes}
        rows.extend((cluster.name, cluster.orchestrator, i.id, i.name, workloads.get(i.workload_id or "", ""),
                     i.workload_id or "", nodes.get(i.node_id or "", i.node_id or ""), i.node_id or "", i.state,
                     i.health, i.restarts, i.reason or "", i.started_at)
                    for i in cluster.instances)
    frame = pd.DataFrame(rows, columns=["cluster", "orchestrator", "id", "name", "workload", "workload_id", "node",
                                        "node_id", "state", "health", "restarts", "reason", "started_at"])
    return frame.astype({"started_at": TIME})


def _events(snapshot: Snapshot) -> pd.DataFrame:
    rows = [(c.name, c.orchestrator, e.time, e.severity, e.object, e.reason, e.message)
            for c in snapshot.clusters for e in c.events]
    frame = pd.DataFrame(rows, columns=["cluster", "orchestrator", "time", "severity", "object", "reason", "message"])
    frame = frame.astype({"time": TIME})
    return frame.sort_values("time", ascending=False, kind="stable") if len(frame) else frame


Result = TypeVar("Result")


Key = TypeVar("Key")


def per_object(compute: Callable[[Key], Result], kept: int) -> Callable[[Key], Result]:
    """Remember `compute` for the last `kept` objects it was given (by identity, never by value)."""
    lock = threading.Lock()
    remembered: list[tuple[Key, Result]] = []  # newest last

    def cached(key: Key) -> Result:
        with lock:
            for seen, result in remembered:
                if seen is key:
                    return result
        result = compute(key)
        with lock:
            if not any(seen is key for seen, _ in remembered):
                remembered.append((key, result))
                del remembered[:-kept]
        return result

    return cached


def per_snapshot(compute: Callable[[Snapshot], Result]) -> Callable[[Snapshot], Result]:
    """Remember `compute` for the latest KEPT_SNAPSHOTS snapshot objects: pages refresh often, snapshots
    change per round, and a page may still be showing the previous round while the next one is prepared."""
    return per_object(compute, KEPT_SNAPSHOTS)


class Foreground:
    """Work that pages wait for (a round's tables), and a place where background work that no page
    waits for (the analysis) pauses until the work running at that moment is done: under one
    interpreter lock the two would share the CPU, and the page would wait twice as long."""

    def __init__(self) -> None:
        self._started = 0
        self._finished = 0
        self._changed = threading.Condition()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._changed:
            self._started += 1
        try:
            yield
        finally:
            with self._changed:
                self._finished += 1
                self._changed.notify_all()

    def give_way(self, at_most_s: float = GIVE_WAY_MAX_S) -> None:
        """Return once the foreground work running now has finished, or after `at_most_s`. Work that
        starts later is not waited for: rounds prepared back to back never starve the background."""
        with self._changed:
            started = self._started
            self._changed.wait_for(lambda: self._finished >= started, at_most_s)


tables_being_prepared = Foreground()


class Job(Generic[Result]):
    """One computation over one snapshot, on its own thread; any session may wait on it."""

    def __init__(self, snapshot: Snapshot, compute: Callable[[Snapshot, Callable[[float], None]], Result],
                 on_done: Callable[["Job[Result]"], None] | None = None, number: int = 0) -> None:
        self.snapshot = snapshot
        self.number = number  # its place among its InBackground's jobs: newer jobs have higher numbers
        self._on_done = on_done
        self.progress = 0.0  # share done, as the computation reports it
        self._done = threading.Event()
        self._result: Result | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(compute,), name="podium-per-snapshot", daemon=True)
        self._thread.start()

    def _run(self, compute: Callable[[Snapshot, Callable[[float], None]], Result]) -> None:
        try:
            self._result = compute(self.snapshot, self._heard)
        except BaseException as error:  # handed to whoever reads the result, on the page's thread
            self._error = error
        finally:
            if self._on_done is not None:
                self._on_done(self)  # before waiters wake: they may ask who finished last
            self._done.set()

    def _heard(self, share: float) -> None:
        self.progress = share

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._done.wait(timeout_s)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def result(self) -> Result:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


class InBackground(Generic[Result]):
    """`compute` once per snapshot object, off the page's thread, shared by every session of the process.

    Pages ask for the latest snapshot's job and show progress until it is done; sessions that ask
    while it runs wait on the same job instead of starting their own. `finished` is the newest job
    that succeeded: what a page can show while the next snapshot's job runs.
    """

    def __init__(self, compute: Callable[[Snapshot, Callable[[float], None]], Result]) -> None:
        self.compute = compute
        self._lock = threading.Lock()
        self._jobs: list[Job[Result]] = []  # the newest few, newest last
        self._started = 0
        self._finished: Job[Result] | None = None
        self.last_started_at: float | None = None  # time.monotonic() when the newest job started

    def job(self, snapshot: Snapshot) -> Job[Result]:
        """The job for this snapshot object, started now unless one of the last few is for it (a
        session still showing the previous round must not restart its job)."""
        with self._lock:
            found = self._job_for(snapshot)
            if found is not None:
                return found
            self._started += 1
            self.last_started_at = time.monotonic()
            self._jobs.append(Job(snapshot, self.compute, self._heard_done, self._started))
            del self._jobs[:-KEPT_JOBS]
            return self._jobs[-1]

    def started_for(self, snapshot: Snapshot) -> Job[Result] | None:
        """The job for this snapshot object if one was started (none is started here)."""
        with self._lock:
            return self._job_for(snapshot)

    def _job_for(self, snapshot: Snapshot) -> Job[Result] | None:
        """Among the last few jobs, the one for this snapshot object (the caller holds the lock)."""
        return next((job for job in self._jobs if job.snapshot is snapshot), None)

    def _heard_done(self, job: Job[Result]) -> None:
        with self._lock:
            if not job.failed and (self._finished is None or job.number > self._finished.number):
                self._finished = job

    @property
    def finished(self) -> Job[Result] | None:
        with self._lock:
            return self._finished


@dataclass
class _Made:
    """One cluster's tables and what each was made of (held, so the objects' ids stay unique)."""

    tables: FleetTables
    nodes: list[Node]
    workloads: list[Workload]
    instances: list[Instance]
    events: list[Event]
    names: tuple[dict[str, str], dict[str, str]]  # workload and node names, as the instances table shows them


class ClusterTables:
    """Each cluster's tables, each reused while a round hands over the same objects it was made of
    (a collector whose round saw no change returns its last model, or lists of the same objects:
    fleet/sameness.py): a quiet cluster's rows are not built again every round, and a round that
    changed only the nodes' measured usage builds only the nodes' table again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], _Made] = {}

    def of(self, snapshot: Snapshot, cluster: Cluster) -> FleetTables:
        key = (cluster.name, cluster.orchestrator)
        with self._lock:
            kept = self._kept.get(key)
        alone = Snapshot(taken_at=snapshot.taken_at, clusters=[cluster])
        names = ({w.id: w.name for w in cluster.workloads}, {n.id: n.name for n in cluster.nodes})
        if kept is None:
            made = _Made(FleetTables(_nodes(alone), _workloads(alone), _instances(alone), _events(alone)),
                         cluster.nodes, cluster.workloads, cluster.instances, cluster.events, names)
        else:
            old = kept.tables
            made = _Made(FleetTables(
                old.nodes if same_items(kept.nodes, cluster.nodes) else _nodes(alone),
                old.workloads if same_items(kept.workloads, cluster.workloads) else _workloads(alone),
                old.instances if same_items(kept.instances, cluster.instances) and kept.names == names
                else _instances(alone),
                old.events if same_items(kept.events, cluster.events) else _events(alone)),
                cluster.nodes, cluster.workloads, cluster.instances, cluster.events, names)
            new = made.tables
            if (new.nodes is old.nodes and new.workloads is old.workloads and new.instances is old.instances
                    and new.events is old.events):
                made.tables = old  # nothing new: the very tables of the last round
        with self._lock:
            self._kept[key] = made
            forget_gone(self._kept, snapshot.clusters)
        return made.tables


cluster_tables = ClusterTables()


def forget_gone(kept: dict[tuple[str, str], object], clusters: list[Cluster]) -> None:
    """Drop what is kept for clusters (by name and orchestrator) no longer configured."""
    for gone in set(kept) - {(c.name, c.orchestrator) for c in clusters}:
        del kept[gone]


class Joined:
    """The clusters' tables of one kind as one table, reused while every cluster hands over the very
    table it did last time (the seed fleet's instances are 475,000 rows)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[list[pd.DataFrame], pd.DataFrame]] = {}  # the parts held: their ids stay unique

    def of(self, kind: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
        with self._lock:
            last = self._last.get(kind)
        if last is not None and same_items(last[0], parts):
            return last[1]
        frame = pd.concat(parts, ignore_index=True)
        if kind == "events" and len(frame):
            frame = frame.sort_values("time", ascending=False, kind="stable")
        with self._lock:
            self._last[kind] = (parts, frame)
        return frame


joined = Joined()


@per_snapshot
def fleet_tables(snapshot: Snapshot) -> FleetTables:
    if not snapshot.clusters:
        return FleetTables(_nodes(snapshot), _workloads(snapshot), _instances(snapshot), _events(snapshot))
    parts = [cluster_tables.of(snapshot, cluster) for cluster in snapshot.clusters]
    return FleetTables(*(joined.of(kind, [getattr(p, kind) for p in parts])
                         for kind in ("nodes", "workloads", "instances", "events")))


class PerCluster(Generic[Result]):
    """`compute(cluster)` per cluster, reused while a round hands over the very objects of the lists it
    was made of (`made_of`; fleet/sameness.py): a quiet round of the seed fleet does not walk its
    475,000 instances again."""

    def __init__(self, compute: Callable[[Cluster], Result], made_of: Callable[[Cluster], tuple[list, ...]]) -> None:
        self._compute, self._made_of = compute, made_of
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], tuple[tuple[list, ...], Result]] = {}  # the lists held: ids stay unique

    def of(self, cluster: Cluster) -> Result:
        key, made_of = (cluster.name, cluster.orchestrator), self._made_of(cluster)
        with self._lock:
            kept = self._kept.get(key)
        if kept is None or not all(map(same_items, kept[0], made_of)):
            kept = (made_of, self._compute(cluster))
            with self._lock:
                self._kept[key] = kept
        return kept[1]

    def keep_only(self, clusters: list[Cluster]) -> None:
        with self._lock:
            forget_gone(self._kept, clusters)


# the problems drawn from a cluster's objects; its own state and its nodes' are listed every round
object_problems_of = PerCluster(object_problems, lambda c: (c.workloads, c.services, c.instances, c.events))


def problems_reusing_objects(cluster: Cluster) -> list[Problem]:
    """fleet.problems.cluster_problems, with the object problems of a quiet cluster reused."""
    return standing_problems(cluster) + object_problems_of.of(cluster)


@per_snapshot
def snapshot_problems(snapshot: Snapshot) -> list[Problem]:
    found = fleet_problems(snapshot, per_cluster=problems_reusing_objects)
    object_problems_of.keep_only(snapshot.clusters)
    return found


@per_snapshot
def problems_table(snapshot: Snapshot) -> pd.DataFrame:
    """The Health page's table of `snapshot_problems`, worst first."""
    return pd.DataFrame(
        [(p.severity, p.cluster, p.orchestrator, p.kind, p.object, p.summary, p.time)
         for p in snapshot_problems(snapshot)],
        columns=["severity", "cluster", "orchestrator", "kind", "object", "summary", "time"])


def filter_frame(frame: pd.DataFrame, selections: dict[str, list[str]], text: str = "",
                 text_columns: tuple[str, ...] = ("name",)) -> pd.DataFrame:
    """Rows matching every non-empty selection (column → allowed values) and the free text."""
    if not any(selections.values()) and not text.strip():
        return frame  # nothing to filter: no copy of 150,000 rows per rerun
    mask = pd.Series(True, index=frame.index)
    for column, allowed in selections.items():
        if allowed:
            mask &= frame[column].isin(allowed)
    needle = text.strip().lower()
    if needle:
        hit = pd.Series(False, index=frame.index)
        for column in text_columns:
            hit |= frame[column].astype(str).str.lower().str.contains(needle, regex=False)
        mask &= hit
    return frame[mask]
