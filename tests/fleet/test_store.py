"""The snapshot history on SQLite and on a real PostgreSQL: round trips, trends, retention, crashes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from fleet.config import FleetConfig, Settings, load_config
from fleet.store import HistoryRecorder, Retention, StoreError, open_postgres, open_sqlite, open_store
from tests.fleet.postgres_server import PASSWORD
from tests.fleet.snapshot_builder import T0, ClusterBuilder, snapshot

ROOT = Path(__file__).resolve().parents[2]


def moment(minutes: int, nodes_ready: int = 2):
    builder = ClusterBuilder(name="prod").nodes_named(*[f"n{i}" for i in range(nodes_ready)])
    builder.node("sick", status="not_ready").workload("web", on=["n0"], cpu=1)
    return snapshot(builder.build(), taken_at=T0 + timedelta(minutes=minutes))


def test_saved_snapshot_loads_back_equal(backend):
    store = backend.open()
    original = moment(0)
    snapshot_id = store.save(original)
    assert store.load(snapshot_id) == original
    assert store.latest() == original


def test_snapshots_are_listed_oldest_first(backend):
    store = backend.open()
    for minutes in (2, 0, 1):
        store.save(moment(minutes))
    assert [s.taken_at for s in store.list_snapshots()] == [T0 + timedelta(minutes=m) for m in (0, 1, 2)]


def test_trends_give_one_point_per_snapshot_for_a_cluster(backend):
    store = backend.open()
    store.save(moment(0, nodes_ready=2))
    store.save(moment(1, nodes_ready=3))
    points = store.trends("prod")
    assert [(p.nodes_ready, p.nodes_total) for p in points] == [(2, 3), (3, 4)]
    assert points[0].instances_by_state == {"running": 1} and points[0].cpu_allocated_cores == 1.0
    assert store.clusters() == ["prod"]


def test_retention_keeps_only_the_newest_snapshots(backend):
    store = backend.open(Retention(max_snapshots=3), clock=lambda: T0)
    for minutes in range(5):
        store.save(moment(minutes))
    assert [s.taken_at.minute for s in store.list_snapshots()] == [2, 3, 4]
    assert len(store.trends("prod")) == 3


def test_retention_drops_snapshots_older_than_the_age_limit(backend):
    store = backend.open(Retention(max_age_days=1), clock=lambda: T0 + timedelta(days=1, minutes=30))
    for minutes in (0, 20, 40, 60):
        store.save(moment(minutes))
    assert [s.taken_at.minute for s in store.list_snapshots()] == [40, 0]


def test_empty_store_has_no_latest_snapshot(backend):
    store = backend.open()
    assert store.latest() is None and store.list_snapshots() == []


def test_the_newest_rounds_this_process_saved_load_without_a_rebuild(backend):
    """The History page compares the two newest rounds by default: at the seed fleet's size rebuilding
    each takes about a second, and this process still holds them."""
    writer = backend.open(Retention(max_snapshots=3), clock=lambda: T0)
    rounds = [moment(minutes, nodes_ready=minutes + 1) for minutes in range(4)]
    ids = [writer.save(r) for r in rounds]
    assert writer.load(ids[3]) is rounds[3] and writer.load(ids[2]) is rounds[2]
    older = writer.load(ids[1])
    assert older == rounds[1] and older is not rounds[1]  # rebuilt from what was written
    reader = backend.open(Retention(max_snapshots=3), clock=lambda: T0)  # another process
    assert reader.load(ids[3]) == rounds[3] and reader.load(ids[3]) is not rounds[3]
    for minutes in (4, 5, 6):  # the writer's own rounds retired by another writer's retention
        reader.save(moment(minutes))
    with pytest.raises(KeyError):
        writer.load(ids[3])


def test_unknown_id_is_a_key_error(backend):
    with pytest.raises(KeyError):
        backend.open().load(12345)


CRASHING_WRITER = textwrap.dedent("""
    import sys, time
    from fleet import store as history
    from tests.fleet.test_store import moment
    open_store = history.open_sqlite if sys.argv[1] == "sqlite" else history.open_postgres
    store = open_store(sys.argv[2], clock=lambda: moment(0).taken_at)
    for minutes in range(3):
        store.save(moment(minutes))
    original = history.SnapshotStore._insert_points
    def insert_then_hang(self, *args):
        original(self, *args)
        print("mid-write", flush=True)
        time.sleep(600)
    history.SnapshotStore._insert_points = insert_then_hang
    store.save(moment(3))
""")


def test_process_killed_mid_write_leaves_every_earlier_snapshot_readable(backend, tmp_path):
    store = backend.open()  # creates the schema; the child writes to the same place
    child = subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, backend.name, backend.where], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "mid-write"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    survivors = backend.open().list_snapshots()
    assert [s.taken_at.minute for s in survivors] == [0, 1, 2]
    assert all(store.load(s.id) == moment(s.taken_at.minute) for s in survivors)
    store.save(moment(4))  # nothing left locked
    assert len(store.list_snapshots()) == 4


def test_open_store_defaults_to_sqlite_beside_the_config(tmp_path):
    config = FleetConfig(path=tmp_path / "clusters.yaml", settings=Settings(), clusters=[])
    store = open_store(config, environ={})
    store.save(moment(0))
    assert (tmp_path / ".podium" / "history" / "history.sqlite3").exists()
    assert store.describe().startswith("sqlite: ")


def test_the_settings_bound_the_history_by_age_count_and_mebibytes(tmp_path):
    config_file = tmp_path / "clusters.yaml"
    config_file.write_text("settings:\n  history_max_age_days: 2\n  history_max_snapshots: 900\n"
                           "  history_max_mib: 1.5\nclusters: []\n")
    store = open_store(load_config(config_file), environ={})
    assert (store.retention.max_age_days, store.retention.max_snapshots, store.retention.max_bytes) == \
        (2.0, 900, 1_572_864)
    defaults = open_store(FleetConfig(path=tmp_path / "clusters.yaml", settings=Settings(), clusters=[]), environ={})
    assert defaults.retention.max_snapshots >= 7 * 24 * 3600 // 15  # a week of rounds at the default interval
    assert defaults.retention.max_bytes == 4096 * 2**20


def test_open_store_uses_postgres_from_the_named_variable_and_never_shows_the_password(postgres_url, tmp_path):
    settings = Settings(history_db_url_env="PODIUM_TEST_HISTORY_URL")
    config = FleetConfig(path=tmp_path / "clusters.yaml", settings=settings, clusters=[])
    store = open_store(config, environ={"PODIUM_TEST_HISTORY_URL": postgres_url})
    store.save(moment(0))
    assert store.describe().startswith("postgresql: postgresql://127.0.0.1:")
    assert PASSWORD not in store.describe()


def test_named_url_variable_that_is_not_set_is_an_error(tmp_path):
    settings = Settings(history_db_url_env="PODIUM_TEST_UNSET_URL")
    config = FleetConfig(path=tmp_path / "clusters.yaml", settings=settings, clusters=[])
    with pytest.raises(StoreError, match="PODIUM_TEST_UNSET_URL is not set"):
        open_store(config, environ={})


def test_wrong_password_is_a_store_error_without_the_password(postgres, postgres_url):
    wrong = postgres_url.replace(PASSWORD, "not-the-password")
    with pytest.raises(StoreError) as failure:
        open_postgres(wrong)
    assert "not-the-password" not in str(failure.value) and "password authentication failed" in str(failure.value)


def test_stored_body_is_compressed_json_of_the_snapshot(tmp_path):
    import sqlite3
    import zlib

    store = open_sqlite(tmp_path / "h.sqlite3", clock=lambda: T0)
    store.save(moment(0))
    [(body,)] = sqlite3.connect(tmp_path / "h.sqlite3").execute("SELECT body FROM podium_snapshots").fetchall()
    assert msgspec.json.decode(zlib.decompress(body))["schema"] == "podium.snapshot/v1"


def test_recorder_keeps_each_round_once_and_skips_rounds_with_nothing_collected(tmp_path):
    store = open_sqlite(tmp_path / "h.sqlite3", clock=lambda: T0)
    record = HistoryRecorder(store)
    nothing_yet = msgspec.structs.replace(moment(0), clusters=[
        msgspec.structs.replace(c, collected_at=None) for c in moment(0).clusters])
    for round_ in (nothing_yet, moment(1), moment(1), moment(2)):
        record(round_)
    assert [s.taken_at.minute for s in store.list_snapshots()] == [1, 2]


def test_recorder_survives_a_broken_store_and_says_why(tmp_path):
    store = open_sqlite(tmp_path / "h.sqlite3", clock=lambda: T0)
    (tmp_path / "h.sqlite3").unlink()
    (tmp_path / "h.sqlite3").mkdir()  # the file is now a folder: every save fails
    record = HistoryRecorder(store)
    record(moment(0))
    assert record.last_error.startswith("saving to the history (sqlite: ")
