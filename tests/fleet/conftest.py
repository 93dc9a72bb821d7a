"""Fixtures shared by the history tests: a real PostgreSQL per session, a fresh database per test."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from fleet.store import Retention, SnapshotStore, open_postgres, open_sqlite
from tests.fleet.postgres_server import PostgresServer
from tests.fleet.snapshot_builder import T0


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres, request):
    """A fresh database per test, so tests never see each other's snapshots."""
    import psycopg

    name = f"t_{abs(hash(request.node.nodeid)) % 10**12}"
    admin = postgres.url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return admin.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Backend:
    name: str
    where: str  # SQLite file or PostgreSQL URL

    def open(self, retention: Retention = Retention(), clock=lambda: T0 + timedelta(hours=1),
             **kwargs) -> SnapshotStore:
        opener = open_sqlite if self.name == "sqlite" else open_postgres
        return opener(self.where, retention, clock=clock, **kwargs)

    def reset(self) -> None:
        """An empty history again."""
        store = self.open()
        with store._transaction() as cursor:
            cursor.execute("DELETE FROM podium_cluster_points")
            cursor.execute("DELETE FROM podium_snapshots")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "history" / "history.sqlite3"))
    return Backend("postgresql", request.getfixturevalue("postgres_url"))
