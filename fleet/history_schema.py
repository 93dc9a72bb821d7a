"""The history's tables in SQLite and PostgreSQL, and what the first version's tables gain (CHAIN_COLUMNS)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCHEMA_LOCK_ID = 727_7001  # advisory lock taken while several replicas create the tables


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL; SQL is written with `?` placeholders."""

    name: str
    id_column: str
    blob: str
    placeholder: str

    def sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    def schema(self) -> list[str]:
        return [
            f"""CREATE TABLE IF NOT EXISTS podium_snapshots (
                   id {self.id_column}, taken_at TEXT NOT NULL, taken_at_s DOUBLE PRECISION NOT NULL,
                   clusters INTEGER NOT NULL, body {self.blob} NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS podium_snapshots_by_time ON podium_snapshots (taken_at_s)",
            """CREATE TABLE IF NOT EXISTS podium_cluster_points (
                   snapshot_id BIGINT NOT NULL, taken_at_s DOUBLE PRECISION NOT NULL, cluster TEXT NOT NULL,
                   status TEXT NOT NULL, nodes_total INTEGER NOT NULL, nodes_ready INTEGER NOT NULL,
                   instances_by_state TEXT NOT NULL, cpu_allocated DOUBLE PRECISION NOT NULL,
                   cpu_allocatable DOUBLE PRECISION NOT NULL, mem_allocated BIGINT NOT NULL,
                   mem_allocatable BIGINT NOT NULL, PRIMARY KEY (snapshot_id, cluster))""",
            "CREATE INDEX IF NOT EXISTS podium_points_by_cluster ON podium_cluster_points (cluster, taken_at_s)",
            # covers the History page's thinning of a week of points: their ids in order, without the rows
            "CREATE INDEX IF NOT EXISTS podium_points_in_order ON podium_cluster_points (cluster, taken_at_s, snapshot_id)",
        ]

    def existing_columns(self, cursor: Any) -> set[str]:
        if self is SQLITE:
            cursor.execute("PRAGMA table_info(podium_snapshots)")
            return {row[1] for row in cursor.fetchall()}
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'podium_snapshots' "
                       "AND table_schema = current_schema()")
        return {row[0] for row in cursor.fetchall()}


# Added to the first version's one-row-per-snapshot table; its rows read as live keyframes (defaults).
CHAIN_COLUMNS = {
    "kind": "INTEGER NOT NULL DEFAULT 0",  # FULL or DELTA
    "parent_id": "BIGINT",  # a delta's parent round
    "keyframe_id": "BIGINT",  # the keyframe starting a delta's chain; NULL on a keyframe (its own id)
    "depth": "INTEGER NOT NULL DEFAULT 0",  # deltas since the keyframe
    "chain_bytes": "BIGINT NOT NULL DEFAULT 0",  # body bytes of those deltas
    "retired": "INTEGER NOT NULL DEFAULT 0",  # 1: gone for readers, body kept while its chain is needed
}
FULL, DELTA = 0, 1  # podium_snapshots.kind

SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB", "?")
POSTGRES = Dialect("postgresql", "BIGSERIAL PRIMARY KEY", "BYTEA", "%s")
