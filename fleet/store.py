"""Snapshot history: every poll round kept, in SQLite (default) or PostgreSQL (shared by replicas).

A round is stored as a keyframe (the whole snapshot, zlib-compressed v1 JSON, as every earlier
version stored each round) or as a delta: what changed since the round before it
(fleet/history_codec.py), so the bytes kept grow with churn, not fleet size. A delta names its
parent round and the keyframe that starts its chain; a keyframe is written every
`ChainPolicy.keyframe_every` rounds, when the deltas since the last one outweigh it, and whenever
this process has no parent to build on. Reading a moment rebuilds it from its keyframe exactly.

A second table holds small per-cluster numbers for trends, so charts never decode snapshots. Each
save is one transaction (insert, then retention by age, count and bytes): a process killed mid-write
leaves every earlier snapshot readable and no half round. Retention retires a moment (it is no
longer listed, its trend points are gone) and deletes a chain's bodies once none of its moments is
live, so a delta never loses its keyframe. A connection is opened per operation, so the poller's
thread and the pages' threads never share one.

The last few rounds this process saved are read back as the objects it saved (published rounds are
never changed afterwards), not rebuilt: the History page's default comparison is of the two newest,
and rebuilding one at the seed fleet's size takes ~1 s.

The PostgreSQL URL may carry a password: it is read from the environment variable named in
settings (`history_db_url_env`), never logged, and `describe()` shows it without credentials.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar

import msgspec

from fleet import history_codec as codec
from fleet.history_schema import CHAIN_COLUMNS, DELTA, FULL, POSTGRES, SCHEMA_LOCK_ID, SQLITE, Dialect
from fleet.config import FleetConfig, Settings, strip_userinfo
from fleet.gcpause import paused_gc
from fleet.model import Snapshot, utc_now

log = logging.getLogger(__name__)

SQLITE_FILE = "history.sqlite3"
SAVED_KEPT_IN_MEMORY = 2  # the rounds load() answers without rebuilding: the History page's default pair


class StoreError(Exception):
    """The history store cannot be opened or used; the message says why, without credentials."""


MIB = 1024 * 1024


@dataclass(frozen=True)
class Retention:
    """What is kept: moments younger than max_age_days, at most max_snapshots of them, and at most
    max_bytes of stored bodies (None: no bound), the oldest chains going first."""

    max_age_days: float = 7.0
    max_snapshots: int = 50_000  # a week of 15 s rounds is 40,320
    max_bytes: int | None = 4096 * MIB  # a week of the seed fleet at 1% churn a round is ~3.5 GB
    # the bytes kept are summed (a pass over every round's row: ~80-130 ms over a week of rounds in SQLite)
    # at a process's first round and then every this many; between two sums the history may outgrow
    # max_bytes by that many rounds' bodies
    bytes_checked_every: int = 100


class StoredSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    taken_at: datetime
    clusters: int


class TrendPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One cluster at one stored moment: what the History page charts."""

    taken_at: datetime
    cluster: str
    status: str
    nodes_total: int
    nodes_ready: int
    instances_by_state: dict[str, int]
    cpu_allocated_cores: float
    cpu_allocatable_cores: float
    mem_allocated_bytes: int
    mem_allocatable_bytes: int


class Footprint(msgspec.Struct, frozen=True, kw_only=True):
    keyframes: int
    deltas: int
    body_bytes: int







@dataclass(frozen=True)
class ChainPolicy:
    # rounds per chain at most (4 hours of 15 s rounds). The weight rule below bounds what a read
    # applies (deltas worth one keyframe at most); this bounds the rows it fetches, and how long a
    # retired moment's body waits for its chain. A quiet fleet's chain ends here: a 20 MB keyframe
    # every 100 rounds was over 1 GB a day of keyframes alone at the seed's scale.
    keyframe_every: int = 960
    max_weight: float = 1.0  # a chain ends once its deltas' bytes pass this share of its keyframe's


@dataclass(frozen=True)
class Head:
    """The last round this store wrote, equal to what a reader rebuilds: what the next delta is against."""

    id: int
    keyframe_id: int
    depth: int  # deltas since the keyframe
    chain_bytes: int  # their bytes
    keyframe_bytes: int
    rebuilt: Snapshot  # this store's own copy: no caller holds a reference into it


Connect = Callable[[], Any]  # a DB-API connection in autocommit mode; transactions are explicit


def epoch_s(when: datetime) -> float:
    return when.timestamp()


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class SnapshotStore:
    def __init__(self, connect: Connect, dialect: Dialect, retention: Retention, *, where: str,
                 clock: Callable[[], datetime] = utc_now, chain: ChainPolicy = ChainPolicy()):
        self._connect = connect
        self.dialect = dialect
        self.retention = retention
        self.chain = chain
        self._head: Head | None = None
        self._where = where
        self._clock = clock
        self._saved_lock = threading.Lock()
        self._saved: OrderedDict[int, Snapshot] = OrderedDict()  # the newest rounds this process saved, by id
        self._rounds_since_size_check = retention.bytes_checked_every
        self._create_schema()

    @property
    def connector(self) -> Connect:
        """New connections to the same database (replicas coordinate through it: fleet/ha)."""
        return self._connect

    def describe(self) -> str:
        """Where the history lives, safe to show: no credentials."""
        return f"{self.dialect.name}: {self._where}"

    # -- plumbing ------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        connection = self._open()
        try:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if self.dialect is SQLITE else "BEGIN")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        finally:
            connection.close()

    def _open(self) -> Any:
        try:
            return self._connect()
        except Exception as exc:
            raise StoreError(f"cannot open the history store ({self.describe()}): {type(exc).__name__}: "
                             f"{strip_userinfo(str(exc))}") from None

    def _query(self, text: str, params: tuple = ()) -> list[tuple]:
        connection = self._open()
        try:
            cursor = connection.cursor()
            cursor.execute(self.dialect.sql(text), params)
            return list(cursor.fetchall())
        finally:
            connection.close()

    def _create_schema(self) -> None:
        with self._transaction() as cursor:
            if self.dialect is POSTGRES:
                cursor.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")
            for statement in self.dialect.schema():
                cursor.execute(statement)
            present = self.dialect.existing_columns(cursor)
            for name, definition in CHAIN_COLUMNS.items():
                if name not in present:
                    cursor.execute(f"ALTER TABLE podium_snapshots ADD COLUMN {name} {definition}")
            cursor.execute("CREATE INDEX IF NOT EXISTS podium_snapshots_by_chain ON podium_snapshots (keyframe_id)")
            # covers the History page's listing of a week of moments (40,000) without reading their rows
            cursor.execute("CREATE INDEX IF NOT EXISTS podium_snapshots_listing ON podium_snapshots "
                           "(retired, taken_at_s, id, clusters)")

    # -- writing -------------------------------------------------------------------------------------

    def forget_head(self) -> None:
        """The next round starts a keyframe (another writer may have written since our last round)."""
        self._head = None

    def save(self, snapshot: Snapshot, *, inside: Callable[[Any], None] | None = None) -> int:
        """Keep one snapshot and apply retention, in one transaction. Returns the new id.

        `inside(cursor)` runs first in that transaction: a replica's fencing check (raising refuses
        the round) and its NOTIFY to the others.
        """
        with paused_gc():  # a round builds ~10^5 acyclic objects: no full collection over the caller's heap mid-write
            snapshot_id = self._save(snapshot, inside)
        with self._saved_lock:
            self._saved[snapshot_id] = snapshot
            while len(self._saved) > SAVED_KEPT_IN_MEMORY:
                self._saved.popitem(last=False)
        return snapshot_id

    def _save(self, snapshot: Snapshot, inside: Callable[[Any], None] | None) -> int:
        head, body = self._head, None  # body: the delta, else the keyframe
        if head is not None and head.depth + 1 < self.chain.keyframe_every:
            body = codec.delta_body(codec.diff_snapshot(head.rebuilt, snapshot))
            if head.chain_bytes + len(body) > head.keyframe_bytes * self.chain.max_weight:
                body = None  # the chain now weighs more than a keyframe: start a new one
        keyframe = codec.keyframe(snapshot) if body is None else None  # made before the transaction: shorter
        taken_s = epoch_s(snapshot.taken_at)
        with self._transaction() as cursor:
            if inside is not None:
                inside(cursor)
            if body is not None and head is not None and self._is_live(cursor, head.id):
                snapshot_id = self._insert_round(cursor, snapshot, DELTA, body, head)
            else:
                keyframe = keyframe or codec.keyframe(snapshot)
                head, body = None, keyframe.body
                snapshot_id = self._insert_round(cursor, snapshot, FULL, body, None)
            self._insert_points(cursor, snapshot_id, taken_s, snapshot)
            self._apply_retention(cursor)
        self._head = None  # until the next head is built: should that fail, the next round is a keyframe
        if head is None:
            self._head = Head(snapshot_id, snapshot_id, 0, 0, len(body), keyframe.copy)  # type: ignore[union-attr]
        else:  # rebuilt from what was written, as a reader does (reusing and changing the previous head)
            rebuilt = codec.apply_delta(head.rebuilt, codec.read_delta(body))
            self._head = Head(snapshot_id, head.keyframe_id, head.depth + 1, head.chain_bytes + len(body),
                              head.keyframe_bytes, rebuilt)
        return snapshot_id

    def _is_live(self, cursor: Any, snapshot_id: int) -> bool:
        cursor.execute(self.dialect.sql("SELECT retired FROM podium_snapshots WHERE id = ?"), (snapshot_id,))
        row = cursor.fetchone()
        return row is not None and row[0] == 0

    def _insert_round(self, cursor: Any, snapshot: Snapshot, kind: int, body: bytes, parent: Head | None) -> int:
        chain = (parent.id, parent.keyframe_id, parent.depth + 1, parent.chain_bytes + len(body)) if parent else \
            (None, None, 0, 0)
        cursor.execute(self.dialect.sql(
            "INSERT INTO podium_snapshots (taken_at, taken_at_s, clusters, body, kind, parent_id, keyframe_id, depth, "
            "chain_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"),
            (iso(snapshot.taken_at), epoch_s(snapshot.taken_at), len(snapshot.clusters), body, kind, *chain))
        return int(cursor.fetchone()[0])

    def _insert_points(self, cursor: Any, snapshot_id: int, taken_s: float, snapshot: Snapshot) -> None:
        rows = [(snapshot_id, taken_s, c.name, c.status, c.summary.nodes_total, c.summary.nodes_ready,
                 msgspec.json.encode(c.summary.instances_by_state).decode(), c.summary.cpu_allocated_cores,
                 c.summary.cpu_allocatable_cores, c.summary.mem_allocated_bytes, c.summary.mem_allocatable_bytes)
                for c in snapshot.clusters]
        if rows:
            cursor.executemany(self.dialect.sql(
                "INSERT INTO podium_cluster_points (snapshot_id, taken_at_s, cluster, status, nodes_total, "
                "nodes_ready, instances_by_state, cpu_allocated, cpu_allocatable, mem_allocated, mem_allocatable) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), rows)

    def _apply_retention(self, cursor: Any) -> None:
        """Retire what is too old or too many, then, now and then, the oldest chains while the kept
        bodies weigh more than allowed. Each query reads an index, not every row, but the byte count."""
        self._retire(cursor, self._expired(cursor))
        self._rounds_since_size_check += 1
        if self._rounds_since_size_check >= self.retention.bytes_checked_every:
            self._rounds_since_size_check = 0
            self._retire(cursor, self._over_size(cursor))

    def _expired(self, cursor: Any) -> list[tuple[int, int]]:
        """(id, chain) of the live moments older than max_age_days, and of the oldest beyond max_snapshots."""
        oldest_s = epoch_s(self._clock() - timedelta(days=self.retention.max_age_days))
        cursor.execute(self.dialect.sql("SELECT id, COALESCE(keyframe_id, id) FROM podium_snapshots "
                                        "WHERE retired = 0 AND taken_at_s < ?"), (oldest_s,))
        expired = [tuple(row) for row in cursor.fetchall()]
        cursor.execute("SELECT COUNT(*) FROM podium_snapshots WHERE retired = 0")
        too_many = int(cursor.fetchone()[0]) - len(expired) - self.retention.max_snapshots
        if too_many > 0:
            cursor.execute(self.dialect.sql(
                "SELECT id, COALESCE(keyframe_id, id) FROM podium_snapshots WHERE retired = 0 AND taken_at_s >= ? "
                "ORDER BY taken_at_s, id LIMIT ?"), (oldest_s, too_many))
            expired += [tuple(row) for row in cursor.fetchall()]
        return expired

    def _over_size(self, cursor: Any) -> list[tuple[int, int]]:
        """(id, chain) of the live moments of the oldest chains whose bodies take the history over
        max_bytes. A chain's bodies only go all together, so whole chains go; the newest always stays."""
        if self.retention.max_bytes is None:
            return []
        cursor.execute("SELECT COALESCE(keyframe_id, id), SUM(LENGTH(body)) FROM podium_snapshots "
                       "GROUP BY COALESCE(keyframe_id, id) ORDER BY MAX(taken_at_s), COALESCE(keyframe_id, id)")
        chains = cursor.fetchall()
        total, doomed = sum(int(size) for _, size in chains), []
        for chain, size in chains[:-1]:
            if total <= self.retention.max_bytes:
                break
            doomed += [(moment_id, chain) for moment_id, retired in self._chain_rows(cursor, chain) if not retired]
            total -= int(size)
        return doomed

    def _retire(self, cursor: Any, moments: list[tuple[int, int]]) -> None:
        """The moments are no longer listed and their trend points are gone; a chain's bodies go
        together, once none of its moments is live, so no delta outlives its keyframe."""
        if not moments:
            return
        ids = [(moment_id,) for moment_id, _ in moments]
        cursor.executemany(self.dialect.sql("DELETE FROM podium_cluster_points WHERE snapshot_id = ?"), ids)
        cursor.executemany(self.dialect.sql("UPDATE podium_snapshots SET retired = 1 WHERE id = ?"), ids)
        for chain in sorted({chain for _, chain in moments}):
            if all(retired for _, retired in self._chain_rows(cursor, chain)):
                cursor.execute(self.dialect.sql("DELETE FROM podium_snapshots WHERE keyframe_id = ? OR id = ?"),
                               (chain, chain))

    def _chain_rows(self, cursor: Any, chain: int) -> list[tuple[int, int]]:
        """(id, retired) of a chain's rounds. (With `retired = 0` in the query, SQLite would walk every
        live round's entry in the listing index instead of the chain's few rows.)"""
        cursor.execute(self.dialect.sql("SELECT id, retired FROM podium_snapshots WHERE keyframe_id = ? OR id = ?"),
                       (chain, chain))
        return [(int(moment_id), int(retired)) for moment_id, retired in cursor.fetchall()]

    # -- reading -------------------------------------------------------------------------------------

    def list_snapshots(self, most: int | None = None) -> list[StoredSnapshot]:
        """Every kept snapshot, oldest first (ids and times only); with `most`, at most that many, evenly
        thinned (a week of rounds is 40,000), always with the two newest."""
        rows = self._query("SELECT id, taken_at_s, clusters FROM podium_snapshots WHERE retired = 0 "
                           "ORDER BY taken_at_s, id")
        return [StoredSnapshot(id=r[0], taken_at=from_epoch(r[1]), clusters=r[2]) for r in evenly(rows, most, 2)]

    def span(self) -> tuple[int, datetime | None, datetime | None]:
        """How many snapshots are kept, the oldest's and the newest's times."""
        count, first, last = self._query("SELECT COUNT(*), MIN(taken_at_s), MAX(taken_at_s) FROM podium_snapshots "
                                         "WHERE retired = 0")[0]
        return int(count), from_epoch(first) if first is not None else None, from_epoch(last) if last is not None else None

    def load(self, snapshot_id: int) -> Snapshot:
        """One kept moment, exactly as saved: one of the newest this process saved as it is, any other
        rebuilt from its keyframe and each delta from there to it."""
        with self._saved_lock:
            saved = self._saved.get(snapshot_id)
        if saved is not None and self._query("SELECT 1 FROM podium_snapshots WHERE id = ? AND retired = 0",
                                             (snapshot_id,)):
            return saved
        rows = self._query("SELECT kind, keyframe_id, body FROM podium_snapshots WHERE id = ? AND retired = 0",
                           (snapshot_id,))
        if not rows:
            raise KeyError(f"no stored snapshot with id {snapshot_id}")
        kind, keyframe_id, body = rows[0]
        if kind == FULL:
            return codec.read_full(bytes(body))
        chain = self._query("SELECT id, parent_id, body FROM podium_snapshots WHERE (id = ? OR keyframe_id = ?) "
                            "AND id <= ?", (keyframe_id, keyframe_id, snapshot_id))
        return rebuild(snapshot_id, keyframe_id, {r[0]: (r[1], bytes(r[2])) for r in chain})

    def latest(self) -> Snapshot | None:
        rows = self._query("SELECT id FROM podium_snapshots WHERE retired = 0 ORDER BY taken_at_s DESC, id DESC "
                           "LIMIT 1")
        return self.load(rows[0][0]) if rows else None

    def footprint(self) -> Footprint:
        """What the kept history occupies: rounds by kind (retired ones still needed included) and body bytes."""
        rows = self._query("SELECT kind, COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM podium_snapshots GROUP BY kind")
        counts = {kind: (int(n), int(size)) for kind, n, size in rows}
        keyframes, deltas = counts.get(FULL, (0, 0)), counts.get(DELTA, (0, 0))
        return Footprint(keyframes=keyframes[0], deltas=deltas[0], body_bytes=keyframes[1] + deltas[1])

    def clusters(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT cluster FROM podium_cluster_points ORDER BY cluster")]

    def trends(self, cluster: str, since: datetime | None = None, most: int | None = None) -> list[TrendPoint]:
        """One point per kept snapshot for one cluster, oldest first; with `most`, at most that many,
        evenly thinned, always with the newest (only their rows are read in full)."""
        columns = ("taken_at_s, cluster, status, nodes_total, nodes_ready, instances_by_state, cpu_allocated, "
                   "cpu_allocatable, mem_allocated, mem_allocatable")
        where = "cluster = ? AND taken_at_s >= ?"
        params = (cluster, epoch_s(since) if since else 0.0)
        if most is None:
            rows = self._query(f"SELECT {columns} FROM podium_cluster_points WHERE {where} "
                               "ORDER BY taken_at_s, snapshot_id", params)
        else:
            ids = self._query(f"SELECT snapshot_id FROM podium_cluster_points WHERE {where} "
                              "ORDER BY taken_at_s, snapshot_id", params)
            picked = [row[0] for row in evenly(ids, most, 1)]
            rows = []
            for start in range(0, len(picked), 500):  # bounded statement size
                part = picked[start:start + 500]
                rows += self._query(f"SELECT {columns}, snapshot_id FROM podium_cluster_points WHERE cluster = ? AND "
                                    f"snapshot_id IN ({', '.join('?' * len(part))})", (cluster, *part))
            order = {snapshot_id: index for index, snapshot_id in enumerate(picked)}
            rows.sort(key=lambda row: order[row[-1]])
        return [TrendPoint(taken_at=from_epoch(r[0]), cluster=r[1], status=r[2], nodes_total=r[3], nodes_ready=r[4],
                           instances_by_state=msgspec.json.decode(r[5]), cpu_allocated_cores=r[6],
                           cpu_allocatable_cores=r[7], mem_allocated_bytes=r[8], mem_allocatable_bytes=r[9])
                for r in rows]


Row = TypeVar("Row")


def evenly(rows: list[Row], most: int | None, keep_newest: int) -> list[Row]:
    """At most `most` of `rows` (all when None): the `keep_newest` last, and evenly spaced ones before them."""
    if most is None or len(rows) <= most:
        return rows
    keep = min(keep_newest, most)
    older, room = rows[:len(rows) - keep], most - keep
    step = len(older) / room if room else 0
    return [older[int(i * step)] for i in range(room)] + rows[len(rows) - keep:]


def rebuild(snapshot_id: int, keyframe_id: int, chain: dict[int, tuple[int | None, bytes]]) -> Snapshot:
    """A delta's moment from its chain's rows (id -> (parent id, body)); the rows may hold other branches."""
    path = [snapshot_id]
    while path[-1] != keyframe_id:
        parent = chain[path[-1]][0]
        if parent is None or parent not in chain:
            raise StoreError(f"stored snapshot {snapshot_id} cannot be rebuilt: round {path[-1]} has no parent")
        path.append(parent)
    snapshot = codec.read_full(chain[keyframe_id][1])
    for round_id in reversed(path[:-1]):
        snapshot = codec.apply_delta(snapshot, codec.read_delta(chain[round_id][1]))
    return snapshot


class HistoryRecorder:
    """Keeps every published round: call it with each Snapshot the poller publishes.

    Skips rounds in which no cluster has been collected yet and the same round twice; a failing
    store is logged and shown (`last_error`), never raised into the poller.
    """

    def __init__(self, store: SnapshotStore):
        self.store = store
        self.last_error: str | None = None
        self._last_taken_at: datetime | None = None

    def __call__(self, snapshot: Snapshot) -> None:
        if snapshot.taken_at == self._last_taken_at or not any(c.collected_at for c in snapshot.clusters):
            return
        try:
            self.store.save(snapshot)
        except Exception as exc:  # the store must never stop the polling
            self.last_error = f"saving to the history ({self.store.describe()}) failed: {type(exc).__name__}"
            log.warning("%s", self.last_error)
            return
        self._last_taken_at = snapshot.taken_at
        self.last_error = None


# -- opening -------------------------------------------------------------------------------------------


def sqlite_connector(path: Path) -> Connect:
    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection
    return connect


def postgres_connector(url: str) -> Connect:
    try:
        import psycopg  # only needed when a database URL is configured
    except ImportError:
        raise StoreError("a PostgreSQL history needs the psycopg package: pip install -r requirements.txt") from None

    def connect() -> Any:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    return connect


def open_sqlite(path: Path | str, retention: Retention = Retention(), **kwargs: Any) -> SnapshotStore:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the history folder {path.parent}: {exc.strerror}") from None
    return SnapshotStore(sqlite_connector(path), SQLITE, retention, where=str(path), **kwargs)


def open_postgres(url: str, retention: Retention = Retention(), **kwargs: Any) -> SnapshotStore:
    if not url.startswith(("postgresql://", "postgres://")):
        raise StoreError("the history database URL must start with postgresql://")
    return SnapshotStore(postgres_connector(url), POSTGRES, retention, where=strip_userinfo(url), **kwargs)


def retention_of(settings: Settings) -> Retention:
    return Retention(max_age_days=settings.history_max_age_days, max_snapshots=settings.history_max_snapshots,
                     max_bytes=round(settings.history_max_mib * MIB))


def open_store(config: FleetConfig, environ: Mapping[str, str] | None = None) -> SnapshotStore:
    """The history store the settings describe: PostgreSQL when a URL variable is named, else SQLite.

    A relative `history_dir` is relative to the config file's folder, like every path in it.
    """
    settings = config.settings
    environ = os.environ if environ is None else environ
    if settings.history_db_url_env:
        url = environ.get(settings.history_db_url_env, "").strip()
        if not url:
            raise StoreError(f"settings.history_db_url_env: environment variable {settings.history_db_url_env} "
                             "is not set (or empty)")
        return open_postgres(url, retention_of(settings))
    folder = Path(os.path.expanduser(settings.history_dir))
    if not folder.is_absolute():
        folder = config.path.parent.resolve() / folder
    return open_sqlite(folder / SQLITE_FILE, retention_of(settings))
