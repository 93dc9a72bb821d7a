"""Pages never block on a new round: they show the newest prepared round and the newest finished analysis."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import msgspec
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fleet.analysis import analyze
from fleet.model import Service, Snapshot, decode_snapshot
from views import live, overview, resilience
from views.tables import InBackground

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fleet" / "snapshots"
SHOWN: list[Snapshot] = []  # what the page script renders


def load(name: str) -> Snapshot:
    return decode_snapshot((SNAPSHOTS / name).read_bytes())


class Gate:
    """A computation that waits until released, for snapshots named in `held`."""

    def __init__(self, compute) -> None:
        self.compute, self.held, self.release, self.calls = compute, set(), threading.Event(), 0

    def __call__(self, snapshot: Snapshot, progress):
        self.calls += 1
        if id(snapshot) in self.held:
            assert self.release.wait(10)
        return self.compute(snapshot, progress)


@pytest.fixture
def gated_analysis(monkeypatch):
    gate = Gate(analyze)
    monkeypatch.setattr(resilience, "analyses", InBackground(gate))
    yield gate
    gate.release.set()
    SHOWN.clear()


def resilience_script() -> None:
    from tests.views.test_live_prepared import SHOWN
    from views import resilience

    resilience.render_snapshot(SHOWN[0])


def overview_script() -> None:
    from tests.views.test_live_prepared import SHOWN
    from views import overview

    overview.render_snapshot(SHOWN[0])


def run(script) -> AppTest:
    app = AppTest.from_function(script, default_timeout=30).run()
    assert not app.exception, app.exception
    return app


def test_resilience_shows_the_previous_rounds_analysis_while_the_newest_computes(gated_analysis, monkeypatch):
    monkeypatch.setattr(resilience, "FRESH_WAIT_S", 0.05)
    older = load("not-n-plus-1.json")
    resilience.analyses.job(older).wait(10)
    newer = msgspec.structs.replace(load("n-plus-1.json"), taken_at=older.taken_at.replace(year=2030))
    gated_analysis.held.add(id(newer))
    SHOWN[:] = [newer]
    app = run(resilience_script)
    assert any("Showing the analysis of the round taken at" in c.value for c in app.caption)
    assert any("not N+1" in m.value for m in app.markdown)  # the older round's verdict, labelled as such
    gated_analysis.release.set()
    resilience.analyses.job(newer).wait(10)
    app = run(resilience_script)
    assert not any("Showing the analysis of" in c.value for c in app.caption)
    assert not any("not N+1" in m.value for m in app.markdown)


def test_overview_says_computing_instead_of_waiting_for_the_analysis(gated_analysis):
    snapshot = load("not-n-plus-1.json")
    gated_analysis.held.add(id(snapshot))
    SHOWN[:] = [snapshot]
    app = run(overview_script)
    assert any("N+1 computing…" in m.value for m in app.markdown)
    gated_analysis.release.set()
    resilience.analyses.job(snapshot).wait(10)
    app = run(overview_script)
    assert any(":red-badge[not N+1]" in m.value for m in app.markdown)


def test_the_overview_reads_the_shared_analysis_rather_than_computing_its_own(gated_analysis):
    snapshot = load("not-n-plus-1.json")
    resilience.analyses.job(snapshot).wait(10)
    assert overview.n_plus_1_verdicts(snapshot) == {"edge": True, "prod": False}
    assert gated_analysis.calls == 1


def test_pages_keep_the_prepared_round_until_the_next_one_is_ready(monkeypatch):
    gate = Gate(live.prepare)
    monkeypatch.setattr(live, "preparing", InBackground(gate))
    monkeypatch.setattr(live, "PREPARE_WAIT_S", 0.05)
    first, second = load("n-plus-1.json"), load("not-n-plus-1.json")
    assert live.shown_snapshot(first) is first
    gate.held.add(id(second))
    assert live.shown_snapshot(second) is first
    gate.release.set()
    live.preparing.job(second).wait(10)
    assert live.shown_snapshot(second) is second


def test_a_session_still_on_the_previous_round_does_not_restart_its_job():
    calls: list[Snapshot] = []
    shared = InBackground(lambda snapshot, progress: calls.append(snapshot))
    first, second = load("n-plus-1.json"), load("not-n-plus-1.json")
    for snapshot in (first, second, first, second):
        shared.job(snapshot).wait(10)
    assert calls == [first, second] and shared.finished is shared.job(second)


def test_a_quiet_clusters_rows_are_reused_and_a_changed_one_is_rebuilt():
    from views.tables import ClusterTables, fleet_tables

    snapshot = load("not-n-plus-1.json")
    tables = ClusterTables()
    [first, second] = snapshot.clusters
    built = tables.of(snapshot, first)
    quiet = msgspec.structs.replace(first)  # a new Cluster over the very same lists
    assert tables.of(snapshot, quiet) is built
    changed = msgspec.structs.replace(first, instances=first.instances[:-1])
    rebuilt = tables.of(snapshot, changed)
    assert rebuilt is not built and len(rebuilt.instances) == len(built.instances) - 1
    whole = fleet_tables(snapshot)
    assert list(whole.nodes["cluster"].unique()) == [first.name, second.name]
    assert len(whole.instances) == len(first.instances) + len(second.instances)


def test_only_the_tables_whose_objects_changed_are_built_again():
    from views.tables import ClusterTables

    snapshot = load("not-n-plus-1.json")
    tables = ClusterTables()
    first = snapshot.clusters[0]
    built = tables.of(snapshot, first)
    # a collector that kept its objects: new lists of them, one node's usage measured anew
    busier = [msgspec.structs.replace(first.nodes[0], cpu_used_cores=1.5), *first.nodes[1:]]
    again = tables.of(snapshot, msgspec.structs.replace(first, nodes=busier, workloads=list(first.workloads),
                                                        instances=list(first.instances)))
    assert again.instances is built.instances and again.workloads is built.workloads
    assert again.nodes is not built.nodes and again.nodes["cpu_used"].iloc[0] == 1.5
    renamed = [msgspec.structs.replace(first.workloads[0], name="renamed"), *first.workloads[1:]]
    after = tables.of(snapshot, msgspec.structs.replace(first, nodes=busier, workloads=renamed))
    assert after.nodes is again.nodes
    assert "renamed" in set(after.workloads["name"]) and after.instances is not again.instances
    assert set(after.instances["workload"]) >= {"renamed"}


def test_the_fleet_tables_are_joined_again_only_when_a_clusters_table_changed(monkeypatch):
    from views import tables

    monkeypatch.setattr(tables, "cluster_tables", tables.ClusterTables())
    monkeypatch.setattr(tables, "joined", tables.Joined())
    snapshot = load("not-n-plus-1.json")
    first = tables.fleet_tables(snapshot)
    quiet = Snapshot(taken_at=snapshot.taken_at, clusters=[msgspec.structs.replace(c) for c in snapshot.clusters])
    again = tables.fleet_tables(quiet)
    assert all(getattr(again, kind) is getattr(first, kind) for kind in ("nodes", "workloads", "instances", "events"))
    one, other = snapshot.clusters
    fewer = Snapshot(taken_at=snapshot.taken_at, clusters=[msgspec.structs.replace(one, instances=one.instances[:-1]),
                                                           other])
    after = tables.fleet_tables(fewer)
    assert after.nodes is first.nodes and after.instances is not first.instances
    expected = pd.concat([tables._instances(Snapshot(taken_at=fewer.taken_at, clusters=[c])) for c in fewer.clusters],
                         ignore_index=True)
    pd.testing.assert_frame_equal(after.instances, expected)


def test_a_cluster_without_start_times_keeps_the_fleets_times_as_times():
    """Joined to a cluster whose instances have no start time, the others' start times stay times
    (sortable, shown as times), not 475,000 Python objects."""
    from views.tables import Joined, _instances

    snapshot = load("not-n-plus-1.json")
    one, other = snapshot.clusters
    timed = [msgspec.structs.replace(i, started_at=snapshot.taken_at) for i in one.instances]
    untimed = [msgspec.structs.replace(i, started_at=None) for i in other.instances]
    parts = [_instances(Snapshot(taken_at=snapshot.taken_at, clusters=[msgspec.structs.replace(c, instances=i)]))
             for c, i in ((one, timed), (other, untimed))]
    started = Joined().of("instances", parts)["started_at"]
    assert str(started.dtype) == "datetime64[us, UTC]"
    assert started.iloc[0] == pd.Timestamp(snapshot.taken_at) and started.iloc[-1] is pd.NaT


def test_a_quiet_clusters_problems_are_reused_and_equal_a_fresh_listing(monkeypatch):
    from fleet.problems import cluster_problems as fresh, fleet_problems
    from views import tables

    calls = []

    def walk(cluster):
        calls.append(cluster)
        return tables.object_problems(cluster)
    monkeypatch.setattr(tables, "object_problems_of",
                        tables.PerCluster(walk, lambda c: (c.workloads, c.services, c.instances, c.events)))
    listed = tables.problems_reusing_objects
    snapshot = load("not-n-plus-1.json")
    one = snapshot.clusters[0]
    broken = [msgspec.structs.replace(i, state="failed", reason="OOMKilled") for i in one.instances[:2]]
    one = msgspec.structs.replace(one, instances=broken + one.instances[2:])
    assert listed(one) == fresh(one) and any(p.kind == "Instance" for p in listed(one))
    assert calls == [one]
    down = [msgspec.structs.replace(one.nodes[0], status="down"), *one.nodes[1:]]
    quiet = msgspec.structs.replace(one, nodes=down, instances=list(one.instances))  # same objects, a node down
    assert listed(quiet) == fresh(quiet) and calls == [one]
    assert any(p.kind == "Node" and p.object == one.nodes[0].name for p in listed(quiet))
    healed = msgspec.structs.replace(quiet, instances=one.instances[2:])
    assert listed(healed) == fresh(healed) and calls == [one, healed]
    ranked = Snapshot(taken_at=snapshot.taken_at, clusters=[healed, snapshot.clusters[1]])
    assert fleet_problems(ranked, per_cluster=listed) == fleet_problems(ranked)


def services_of(cluster):
    return [Service(id=f"{cluster.name}/s{k}", name=f"svc-{k}", kind="ClusterIP", workload_ids=[w.id],
                    backends_total=2, backends_ready=2, status="ok") for k, w in enumerate(cluster.workloads[:3])]


def test_the_services_table_is_built_again_only_for_a_cluster_whose_services_changed(monkeypatch):
    from views import services, tables

    monkeypatch.setattr(services, "cluster_services",
                        tables.PerCluster(lambda c: services.services_frame([c]), lambda c: (c.services, c.workloads)))
    monkeypatch.setattr(tables, "joined", tables.Joined())
    monkeypatch.setattr(services, "joined", tables.joined)
    snapshot = load("not-n-plus-1.json")
    for_sure = [msgspec.structs.replace(c, services=services_of(c)) for c in snapshot.clusters]
    first = services.service_table(Snapshot(taken_at=snapshot.taken_at, clusters=for_sure))
    quiet = services.service_table(
        Snapshot(taken_at=snapshot.taken_at, clusters=[msgspec.structs.replace(c) for c in for_sure]))
    assert quiet is first and len(first) == sum(len(c.services) for c in for_sure)
    one, other = for_sure
    down = [msgspec.structs.replace(one.services[0], status="down"), *one.services[1:]]
    changed = Snapshot(taken_at=snapshot.taken_at, clusters=[msgspec.structs.replace(one, services=down), other])
    after = services.service_table(changed)
    pd.testing.assert_frame_equal(after, services.services_frame(changed.clusters))
    assert after.loc[0, "status"] == "down"


def test_a_round_arriving_while_the_last_is_prepared_reuses_its_tables(monkeypatch):
    """The next round of an unchanged fleet, arriving while the last round's tables are still being
    built, waits for them and reuses them instead of building the same rows beside them."""
    from views import tables

    real, started, release, built = tables._instances, threading.Event(), threading.Event(), []

    def slow_instances(snapshot: Snapshot):
        built.append(snapshot.clusters[0].name)
        started.set()
        assert release.wait(10)
        return real(snapshot)

    monkeypatch.setattr(tables, "_instances", slow_instances)
    monkeypatch.setattr(tables, "cluster_tables", tables.ClusterTables())
    monkeypatch.setattr(resilience, "analyses", InBackground(lambda snapshot, progress: None))
    first = load("n-plus-1.json")
    second = Snapshot(taken_at=first.taken_at, clusters=list(first.clusters))  # a quiet round: the same objects
    first_thread = threading.Thread(target=live.prepare, args=(first, lambda share: None))
    first_thread.start()
    assert started.wait(10)
    second_thread = threading.Thread(target=live.prepare, args=(second, lambda share: None))
    second_thread.start()
    time.sleep(0.3)  # room for the second round to build its own rows, were it allowed to
    release.set()
    first_thread.join(10)
    second_thread.join(10)
    assert built == [c.name for c in first.clusters]  # each cluster's instance rows built once
    assert tables.fleet_tables(second).instances is tables.fleet_tables(first).instances


def test_the_analysis_pauses_while_a_rounds_tables_are_prepared():
    """Pages wait for a round's tables, not for its analysis: under one interpreter lock the two would
    share the CPU, so the analysis waits at its next progress report until the tables are built."""
    from functools import partial

    from fleet.analysis import AnalysisMemo
    from views.tables import tables_being_prepared

    shared = InBackground(partial(resilience.analyze_giving_way, AnalysisMemo()))
    snapshot = load("n-plus-1.json")
    with tables_being_prepared.running():
        job = shared.job(snapshot)
        assert not job.wait(0.3)  # a small fleet's analysis takes milliseconds, were it not waiting
    assert job.wait(10)
    assert job.result() == analyze(snapshot)


def test_a_round_is_prepared_as_it_arrives_when_it_is_the_first_or_pages_were_viewed_lately(monkeypatch):
    started: list[Snapshot] = []
    monkeypatch.setattr(live, "preparing", InBackground(lambda snapshot, progress: started.append(snapshot)))
    monkeypatch.setattr(live, "_last_view", [])
    first, second, third, fourth = (load("n-plus-1.json") for _ in range(4))
    live.prepare_ahead(first)  # nothing prepared yet: the first visitor would wait for all of it
    live.preparing.job(first).wait(10)
    live.prepare_ahead(second)  # nobody has looked at a page: nothing is built for nobody
    assert started == [first]
    assert live.shown_snapshot(first) is first  # a page view
    live.prepare_ahead(third)
    live.preparing.job(third).wait(10)
    assert started == [first, third]
    monkeypatch.setattr(live, "VIEWED_LATELY_S", 0.0)  # that view is long ago now
    live.prepare_ahead(fourth)
    assert started == [first, third]


def test_left_alone_a_round_is_still_prepared_every_few_minutes(monkeypatch):
    """What is prepared for the next visitor holds the objects it was made of: left alone for hours, a
    cluster relisted meanwhile would keep its previous generation in memory. A round is prepared anyway
    once the last preparation is REFRESH_WHEN_LEFT_ALONE_S old, so the prepared round moves on."""
    started: list[Snapshot] = []
    monkeypatch.setattr(live, "preparing", InBackground(lambda snapshot, progress: started.append(snapshot)))
    monkeypatch.setattr(live, "_last_view", [])
    monkeypatch.setattr(live, "_refresh_rounds_left", [0])
    rounds = [load("n-plus-1.json") for _ in range(live.REFRESH_ROUNDS + 3)]
    live.prepare_ahead(rounds[0])
    live.preparing.job(rounds[0]).wait(10)
    live.prepare_ahead(rounds[1])  # moments later, nobody looking: not yet
    assert started == rounds[:1]
    monkeypatch.setattr(live, "REFRESH_WHEN_LEFT_ALONE_S", 0.0)  # the last preparation is that old now
    for snapshot in rounds[2:2 + live.REFRESH_ROUNDS]:
        live.prepare_ahead(snapshot)
        live.preparing.job(snapshot).wait(10)
        monkeypatch.setattr(live, "REFRESH_WHEN_LEFT_ALONE_S", 3600.0)  # the refresh goes on regardless
    live.prepare_ahead(rounds[-1])  # ... for REFRESH_ROUNDS rounds, then rests again
    assert started == [rounds[0], *rounds[2:2 + live.REFRESH_ROUNDS]]
    # the next visitor's round, and no job left of the rounds from before the refresh
    assert live.preparing.finished.snapshot is rounds[1 + live.REFRESH_ROUNDS]
    assert all(live.preparing.started_for(snapshot) is None for snapshot in rounds[:2])


def test_the_analysis_waits_only_for_the_tables_being_prepared_when_it_reaches_a_report():
    """Tables prepared back to back (a churning fleet) must not hold the analysis back for good: each
    pause lasts until the work running at that moment is done, not until none runs."""
    from views.tables import Foreground

    foreground, released = Foreground(), threading.Event()
    first_started, first_done, second_started = threading.Event(), threading.Event(), threading.Event()

    def prepare_twice() -> None:
        with foreground.running():
            first_started.set()
            assert released.wait(10)
        first_done.set()
        with foreground.running():  # the next round, right after
            second_started.set()
            assert released.wait(10)
            time.sleep(1.0)

    worker = threading.Thread(target=prepare_twice)
    worker.start()
    assert first_started.wait(10)
    waited = threading.Thread(target=foreground.give_way)
    waited.start()
    released.set()  # the first round's tables are done; the second round's start at once
    assert first_done.wait(10) and second_started.wait(10)
    waited.join(0.5)
    assert not waited.is_alive()  # it did not wait for the second round's tables
    worker.join(10)


def placeholder_of(snapshot: Snapshot) -> Snapshot:
    """What the poller publishes for `snapshot`'s clusters until its first round ends."""
    from fleet.model import Cluster
    from fleet.poller import NOT_COLLECTED_YET

    return Snapshot(taken_at=snapshot.taken_at, clusters=[
        Cluster(name=c.name, orchestrator=c.orchestrator, endpoint=c.endpoint, status="unreachable",
                error=NOT_COLLECTED_YET) for c in snapshot.clusters])


def test_once_the_first_round_is_in_pages_wait_for_it_instead_of_showing_the_collecting_placeholder(monkeypatch):
    """The placeholder says every cluster is still being collected: shown while the first round's tables
    are built, it would be wrong, and stay so until the page's next refresh."""
    gate = Gate(live.prepare)
    monkeypatch.setattr(live, "preparing", InBackground(gate))
    monkeypatch.setattr(live, "PREPARE_WAIT_S", 0.05)
    first_round = load("n-plus-1.json")
    placeholder = placeholder_of(first_round)
    assert live.shown_snapshot(placeholder) is placeholder  # while collecting: its progress is shown
    gate.held.add(id(first_round))
    shown: list[Snapshot] = []
    page = threading.Thread(target=lambda: shown.append(live.shown_snapshot(first_round)))
    page.start()
    page.join(0.5)
    assert shown == []  # waiting (with a spinner), not showing the placeholder
    gate.release.set()
    page.join(10)
    assert shown == [first_round]


def test_the_first_round_is_prepared_as_it_arrives_even_when_its_placeholder_was_prepared(monkeypatch):
    started: list[Snapshot] = []
    monkeypatch.setattr(live, "preparing", InBackground(lambda snapshot, progress: started.append(snapshot)))
    monkeypatch.setattr(live, "_last_view", [])
    first_round = load("n-plus-1.json")
    placeholder = placeholder_of(first_round)
    live.preparing.job(placeholder).wait(10)  # a session opened while the first round ran, long ago
    live.prepare_ahead(first_round)
    from tests.engines import wait_for
    wait_for(lambda: started == [placeholder, first_round], timeout_s=10, what="the first round prepared ahead")


def progress_script() -> None:
    import time

    from fleet.poller import RoundProgress
    from tests.views.test_live_prepared import SHOWN
    from views import live

    over = SHOWN[1:] == ["(the first round is over)"]
    progress = RoundProgress(total=len(SHOWN[0].clusters), started_at=time.monotonic() - 12, done=SHOWN[1:])
    live.first_round_progress(SHOWN[0], None if over else progress)


def test_the_first_rounds_progress_names_the_clusters_still_collected_and_moves_as_each_comes_in():
    placeholder = placeholder_of(load("not-n-plus-1.json"))
    names = [c.name for c in placeholder.clusters]
    SHOWN[:] = [placeholder]
    try:
        bar = run(progress_script).get("progress")[0]
        assert bar.value == 0 and f"0 of 2 clusters in after 12 s; waiting for {names[0]}, {names[1]}" in bar.proto.text
        SHOWN[:] = [placeholder, names[1]]
        bar = run(progress_script).get("progress")[0]
        assert bar.value == 50 and f"1 of 2 clusters in after 12 s; waiting for {names[0]}" in bar.proto.text
        SHOWN[:] = [placeholder, names[1], names[0]]
        bar = run(progress_script).get("progress")[0]
        assert bar.value == 100 and "Every cluster is collected" in bar.proto.text
        partial = msgspec.structs.replace(placeholder, clusters=[load("not-n-plus-1.json").clusters[0],
                                                                 placeholder.clusters[1]])
        SHOWN[:] = [partial, "(the first round is over)"]  # shown while the whole round's tables are built
        bar = run(progress_script).get("progress")[0]
        assert bar.value == 100 and "Every cluster is collected: building the fleet's tables" in bar.proto.text
        SHOWN[:] = [load("not-n-plus-1.json")]  # a collected round: no bar
        assert not run(progress_script).get("progress")
    finally:
        SHOWN.clear()


def test_the_history_write_waits_for_a_rounds_tables_only_when_they_are_being_prepared(monkeypatch):
    gate = Gate(live.prepare)
    monkeypatch.setattr(live, "preparing", InBackground(gate))
    being_prepared, nobody_looked = load("n-plus-1.json"), load("not-n-plus-1.json")
    gate.held.add(id(being_prepared))
    live.preparing.job(being_prepared)
    waited = threading.Thread(target=live.tables_first, args=(being_prepared,))
    waited.start()
    waited.join(0.3)
    assert waited.is_alive()  # the write waits for the tables
    gate.release.set()
    waited.join(10)
    assert not waited.is_alive()
    live.tables_first(nobody_looked)  # no tables being prepared: nothing to wait for, nothing started
    assert live.preparing.started_for(nobody_looked) is None


def test_pages_look_again_quickly_until_a_whole_round_is_prepared(monkeypatch):
    monkeypatch.setattr(live, "preparing", InBackground(lambda snapshot, progress: None))
    first_round = load("not-n-plus-1.json")
    placeholder = placeholder_of(first_round)
    partial = msgspec.structs.replace(first_round, clusters=[first_round.clusters[0], placeholder.clusters[1]])
    assert not live.whole_round_shown()  # nothing prepared yet
    for shown in (placeholder, partial):
        live.preparing.job(shown).wait(10)
        assert not live.whole_round_shown()
    live.preparing.job(first_round).wait(10)
    assert live.whole_round_shown()
