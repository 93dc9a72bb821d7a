"""The latest collection of each cluster, shared through PostgreSQL when replicas split the clusters.

The replica that polls a cluster writes its latest Cluster here (fenced by the cluster's lease);
the leader assembles one Snapshot from these rows and its own collections, and stores it as a round.
"""
from __future__ import annotations

import zlib
from typing import Any

import msgspec

from fleet.ha.leases import SCHEMA_LOCK_ID, Connect, Connection, check_fence, cluster_lease
from fleet.model import Cluster

SCHEMA = """CREATE TABLE IF NOT EXISTS podium_cluster_latest (
                name TEXT PRIMARY KEY, holder TEXT NOT NULL, fence BIGINT NOT NULL,
                written_at TIMESTAMPTZ NOT NULL, body BYTEA NOT NULL)"""
NOTIFY_CHANNEL = "podium_rounds"  # the leader's NOTIFY after each stored round; followers LISTEN

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Cluster)


class ClusterRows:
    def __init__(self, connect: Connect):
        self._db = Connection(connect)
        with self._db.use() as connection, connection.transaction():
            connection.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")  # replicas start together
            connection.execute(SCHEMA)

    def publish(self, cluster: Cluster, replica: str, fence: int) -> None:
        """Write the cluster's latest state; FencedOut when `replica` no longer polls it."""
        body = zlib.compress(_encoder.encode(cluster), 1)
        with self._db.use() as connection:
            with connection.transaction():
                cursor = connection.cursor()
                check_fence(cursor, cluster_lease(cluster.name), replica, fence)
                cursor.execute("""INSERT INTO podium_cluster_latest (name, holder, fence, written_at, body)
                                  VALUES (%s, %s, %s, now(), %s)
                                  ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,
                                    fence = EXCLUDED.fence, written_at = now(), body = EXCLUDED.body""",
                               (cluster.name, replica, fence, body))

    def read(self, names: list[str]) -> dict[str, Cluster]:
        with self._db.use() as connection:
            rows = connection.execute("SELECT name, body FROM podium_cluster_latest WHERE name = ANY(%s)",
                                      (names,)).fetchall()
        return {name: _decoder.decode(zlib.decompress(bytes(body))) for name, body in rows}


def announce(cursor: Any) -> None:
    """Inside the round's transaction: followers hear of it when (and only if) it commits."""
    cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
