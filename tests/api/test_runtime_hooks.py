"""The runtime's per-round subscriptions that the API, /metrics and alerts hang on."""
from __future__ import annotations

import threading

from fleet.config import Settings
from fleet.poller import Poller
from fleet.runtime import FleetRuntime, shared_runtime
from fleet.source import Unreachable
from tests.engines import wait_for
from tests.fleet.fakes import ScriptedSource, small_cluster

CONFIG = "settings:\n  poll_interval_s: 60\n  demo: false\nclusters:\n  - name: a\n    orchestrator: swarm\n" \
         "    url: tcp://a:2376\n"


def test_round_hooks_hear_every_round_and_a_failing_hook_stops_nothing(tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text(CONFIG)
    heard, timed = [], []
    runtime = FleetRuntime(config, lambda c: ScriptedSource(c.name, [small_cluster()]))
    runtime.on_round(lambda snapshot: 1 / 0)
    runtime.on_round(heard.append)
    runtime.on_cluster(lambda cluster, seconds: timed.append((cluster.name, seconds)))
    runtime.start()
    try:
        wait_for(lambda: heard, timeout_s=10, what="the first round")
        assert heard[0] is runtime.snapshot() and runtime.last_round_at == heard[0].taken_at
        assert [name for name, _ in timed] == ["a"] and timed[0][1] >= 0
        runtime.reload()  # hooks survive a restart of polling
        wait_for(lambda: len(heard) == 2, timeout_s=10, what="the first round after the reload")
    finally:
        runtime.stop()


def test_a_cluster_backing_off_reports_no_collection_time():
    timed = []
    poller = Poller([ScriptedSource("down", [Unreachable("no route")]), ScriptedSource("up", [small_cluster()])],
                    Settings(poll_interval_s=10, timeout_s=1), on_cluster=lambda c, s: timed.append(c.name))
    try:
        poller.poll_once()
        poller.poll_once()  # "down" waits for its back-off: not collected in this round
        assert timed == ["down", "up", "up"]
    finally:
        poller.stop()


def test_the_shared_runtime_is_one_per_config_path(tmp_path):
    made = []

    def create(path):
        made.append(path)
        return FleetRuntime(path, lambda c: ScriptedSource(c.name, [small_cluster()]))

    first = shared_runtime(tmp_path / "clusters.yaml", create)
    assert shared_runtime(tmp_path / "." / "clusters.yaml", create) is first and len(made) == 1


def runtime_storing_with(store, tmp_path, monkeypatch, **options) -> FleetRuntime:
    """A runtime with a history whose writes are `store(snapshot)`."""
    import fleet.runtime

    class Recorder:
        last_error = None

        def __init__(self, _store) -> None:
            pass

        def __call__(self, snapshot) -> None:
            store(snapshot)

    monkeypatch.setattr(fleet.runtime, "HistoryRecorder", Recorder)
    config = tmp_path / "clusters.yaml"
    config.write_text(CONFIG.replace("demo: false\n", f"demo: false\n  history_dir: {tmp_path / 'history'}\n"))
    return FleetRuntime(config, lambda c: ScriptedSource(c.name, [small_cluster()]), **options)


def test_the_round_reaches_the_pages_without_waiting_for_the_history_store(tmp_path, monkeypatch):
    """Keeping a large fleet's first round (a 20 MB keyframe) takes seconds: the pages' tables start
    on the round meanwhile."""
    writing, stored = threading.Event(), threading.Event()

    def slow_store(snapshot) -> None:
        writing.set()
        stored.wait(10)

    runtime = runtime_storing_with(slow_store, tmp_path, monkeypatch)
    heard = []
    runtime.on_round(heard.append)
    runtime.start()
    try:
        wait_for(lambda: writing.is_set(), timeout_s=10, what="the round being stored")
        assert heard and heard[0] is runtime.snapshot()  # heard while the store is still writing
    finally:
        stored.set()
        runtime.stop()


def test_the_round_is_stored_after_the_work_pages_wait_for(tmp_path, monkeypatch):
    """The dashboard's tables first, then the history's write of the round: sharing one interpreter
    lock, the two would each take about twice as long (the seed fleet's first keyframe is 19.5 MB)."""
    order: list[str] = []
    tables_done = threading.Event()

    def before_storing(snapshot) -> None:
        order.append("waits")
        assert tables_done.wait(10)
        order.append("tables done")

    runtime = runtime_storing_with(lambda snapshot: order.append("stored"), tmp_path, monkeypatch,
                                   before_storing=before_storing)
    heard = []
    runtime.on_round(heard.append)
    runtime.start()
    try:
        wait_for(lambda: order == ["waits"], timeout_s=10, what="the store waiting")
        assert heard  # the pages heard the round meanwhile
        tables_done.set()
        wait_for(lambda: order == ["waits", "tables done", "stored"], timeout_s=10, what="the round stored")
    finally:
        tables_done.set()
        runtime.stop()
