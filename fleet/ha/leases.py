"""Leases with fencing numbers in PostgreSQL: who leads, who polls which cluster, who is alive.

A lease is a row (name, holder, fence, expires_at). Taking a lease someone else held — or held and
let expire — raises its fence; renewing one's own keeps it. Every write a holder makes checks, in the
same transaction and under a share lock on the lease row, that it still holds that lease with that
fence and that it has not expired: a replica that was paused past its lease (SIGSTOP, a VM freeze, a
cut network) and wakes up cannot write, because the check fails (Kleppmann's fencing tokens). Times
come from the database's clock, never a replica's, so replicas need no clock agreement.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS podium_leases (
           name TEXT PRIMARY KEY, holder TEXT NOT NULL, fence BIGINT NOT NULL,
           expires_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS podium_replicas (
           id TEXT PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL, seen_at TIMESTAMPTZ NOT NULL,
           expires_at TIMESTAMPTZ NOT NULL)""",
]
LEADER = "leader"
SCHEMA_LOCK_ID = 727_7002


def cluster_lease(cluster: str) -> str:
    return f"cluster:{cluster}"


class FencedOut(Exception):
    """A write by a replica that no longer holds the lease it wrote under."""


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    fence: int
    expires_at: datetime


Connect = Callable[[], Any]


class Connection:
    """One long-lived autocommit connection, reopened after a failure (a new one per query costs a SCRAM
    handshake: tens of milliseconds, times hundreds of cluster leases per pass)."""

    def __init__(self, connect: Connect):
        self._connect = connect
        self._connection: Any = None
        self._lock = threading.Lock()

    @contextmanager
    def use(self) -> Iterator[Any]:
        with self._lock:
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            try:
                yield self._connection
            except Exception:
                self.close_unlocked()
                raise

    def close_unlocked(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None


class LeaseTable:
    """The leases and the replicas' heartbeats."""

    def __init__(self, connect: Connect):
        self._db = Connection(connect)
        with self._db.use() as connection:
            with connection.transaction():
                connection.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")
                for statement in SCHEMA:
                    connection.execute(statement)

    def _one(self, text: str, params: tuple = ()) -> tuple | None:
        with self._db.use() as connection:
            return connection.execute(text, params).fetchone()

    def _all(self, text: str, params: tuple = ()) -> list[tuple]:
        with self._db.use() as connection:
            return list(connection.execute(text, params).fetchall())

    # -- replicas ----------------------------------------------------------------------------------

    def heartbeat(self, replica: str, ttl_s: float) -> None:
        self._one("""INSERT INTO podium_replicas (id, started_at, seen_at, expires_at)
                     VALUES (%s, now(), now(), now() + make_interval(secs => %s))
                     ON CONFLICT (id) DO UPDATE SET seen_at = now(), expires_at = EXCLUDED.expires_at
                     RETURNING id""", (replica, ttl_s))

    def live_replicas(self) -> list[str]:
        return [r[0] for r in self._all("SELECT id FROM podium_replicas WHERE expires_at > now() ORDER BY id")]

    def leave(self, replica: str) -> None:
        """A replica stopping on purpose: its heartbeat and leases go at once, nobody waits for them to expire."""
        with self._db.use() as connection:
            connection.execute("UPDATE podium_leases SET expires_at = now() WHERE holder = %s", (replica,))
            connection.execute("DELETE FROM podium_replicas WHERE id = %s", (replica,))

    # -- leases ------------------------------------------------------------------------------------

    def acquire(self, name: str, replica: str, ttl_s: float) -> int | None:
        """Take or renew the lease; its fence when held afterwards, None when another replica holds it."""
        return self.acquire_many([name], replica, ttl_s).get(name)

    def acquire_many(self, names: list[str], replica: str, ttl_s: float) -> dict[str, int]:
        """Take or renew each lease in one statement: name -> fence for those held afterwards."""
        if not names:
            return {}
        rows = self._all(
            """INSERT INTO podium_leases AS l (name, holder, fence, expires_at)
               SELECT wanted, %s, 1, now() + make_interval(secs => %s) FROM unnest(%s::text[]) AS wanted
               ON CONFLICT (name) DO UPDATE
                 SET fence = CASE WHEN l.holder = EXCLUDED.holder THEN l.fence ELSE l.fence + 1 END,
                     holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                 WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
               RETURNING name, fence""", (replica, ttl_s, list(names)))
        return {name: int(fence) for name, fence in rows}

    def release(self, name: str, replica: str) -> None:
        """Let the lease go now (an owner handing a cluster over); its fence is kept for the next holder."""
        self.release_many([name], replica)

    def release_many(self, names: list[str], replica: str) -> None:
        if names:
            self._one("UPDATE podium_leases SET expires_at = now() WHERE name = ANY(%s) AND holder = %s "
                      "RETURNING name", (list(names), replica))

    def holder(self, name: str) -> Lease | None:
        """The current, unexpired holder."""
        row = self._one("SELECT name, holder, fence, expires_at FROM podium_leases WHERE name = %s "
                        "AND expires_at > now()", (name,))
        return Lease(*row) if row else None

    def held(self, prefix: str) -> dict[str, Lease]:
        rows = self._all("SELECT name, holder, fence, expires_at FROM podium_leases WHERE name LIKE %s "
                         "AND expires_at > now()", (prefix.replace("%", r"\%") + "%",))
        return {r[0]: Lease(*r) for r in rows}


def check_fence(cursor: Any, name: str, replica: str, fence: int) -> None:
    """Inside a write's transaction: raise FencedOut unless `replica` still holds `name` with `fence`.

    FOR SHARE keeps a taker's UPDATE of the lease row waiting until this transaction ends, so the
    lease cannot change hands between this check and the write's commit.
    """
    cursor.execute("SELECT 1 FROM podium_leases WHERE name = %s AND holder = %s AND fence = %s "
                   "AND expires_at > clock_timestamp() FOR SHARE", (name, replica, fence))
    if cursor.fetchone() is None:
        raise FencedOut(f"replica {replica} no longer holds {name} (fence {fence}): the write is refused")
