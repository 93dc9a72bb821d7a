"""Every page rendered by AppTest from one hand-built snapshot file with known problems."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import msgspec
import pytest
from streamlit.testing.v1 import AppTest

from fleet.export import csv_tables, to_csv_zip, to_json
from fleet.model import decode_snapshot
from fleet.problems import fleet_problems, object_problems
from views.snapshots import load_upload

SNAPSHOT = Path(__file__).parent / "snapshots" / "small-fleet.json"


def page_script(page: str, snapshot_file: str) -> None:
    import importlib
    from pathlib import Path

    from fleet.model import decode_snapshot
    from views.context import PageContext

    snapshot = decode_snapshot(Path(snapshot_file).read_bytes())
    importlib.import_module(f"views.{page}").render(PageContext(snapshot, "live"))


def render(page: str) -> AppTest:
    app = AppTest.from_function(page_script, args=(page, str(SNAPSHOT)), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def multiselect(app: AppTest, key: str):
    return next(m for m in app.multiselect if m.key == key)


def test_overview_shows_totals_worst_problems_and_every_cluster():
    app = render("overview")
    first = {}
    for metric in app.metric:
        first.setdefault(metric.label, metric.value)
    assert first["Clusters ok"] == "1 / 2"
    assert first["Nodes ready"] == "4 / 5"
    text = "\n".join(m.value for m in app.markdown)
    assert "edge-swarm" in text and "batch-nomad" in text
    assert "Worst problems now" in text
    assert app.error[0].value == "cannot connect to http://nomad.service:4646: connection refused"


def test_unreachable_cluster_keeps_its_stale_numbers_on_its_card():
    app = render("overview")
    assert any("stale data" in m.value for m in app.markdown)
    nodes_ready = [m.value for m in app.metric if m.label == "Nodes ready"]
    assert nodes_ready == ["4 / 5", "3 / 4", "1 / 1"]  # fleet, edge-swarm, batch-nomad (stale)


def test_nodes_filter_by_cluster_and_text_narrows_the_table():
    app = render("nodes")
    assert len(app.dataframe[0].value) == 5
    multiselect(app, "nodes-cluster").select("edge-swarm").run()
    assert set(app.dataframe[0].value["cluster"]) == {"edge-swarm"} and len(app.dataframe[0].value) == 4
    app.text_input(key="nodes-text").input("swarm-3").run()
    assert list(app.dataframe[0].value["name"]) == ["swarm-3"]
    assert list(app.dataframe[0].value["status"]) == ["down"]


def test_node_detail_lists_what_runs_on_it():
    app = render("nodes")
    app.selectbox(key="nodes-detail").select("edge-swarm / swarm-1").run()
    detail = app.dataframe[1].value
    assert sorted(detail["name"]) == ["agent.sw1", "api.2", "ghost.1", "web.1"]


def test_workloads_status_filter_and_detail():
    app = render("workloads")
    assert len(app.dataframe[0].value) == 5
    multiselect(app, "workloads-status").select("failed").select("degraded").run()
    assert sorted(app.dataframe[0].value["name"]) == ["api", "ghost"]
    app.selectbox(key="workloads-detail").select("edge-swarm / ghost").run()
    assert list(app.dataframe[1].value["reason"]) == ["No such image: shop/ghost:0.1"]
    assert len(app.dataframe[2].value) == 2  # its two rejection events


def test_instances_problems_only_keeps_the_troubled_ones():
    app = render("instances")
    assert len(app.dataframe[0].value) == 9
    app.toggle(key="instances-problems-only").set_value(True).run()
    assert sorted(app.dataframe[0].value["name"]) == ["api.2", "ghost.1"]


def test_health_feed_puts_the_unreachable_cluster_first():
    app = render("health")
    feed = app.dataframe[0].value
    assert feed.iloc[0]["object"] == "batch-nomad" and feed.iloc[0]["kind"] == "Cluster"
    assert {"swarm-3", "Task/ghost.1"} <= set(feed["object"])
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Critical"] == "1"


def test_problem_ranking_is_severity_then_newest():
    problems = fleet_problems(decode_snapshot(SNAPSHOT.read_bytes()))
    ranks = [p.rank for p in problems]
    assert ranks == sorted(ranks)
    ghost_events = [p for p in problems if p.kind == "Event"]
    assert ghost_events[0].time > ghost_events[1].time


def test_a_failed_workload_that_wants_no_count_says_how_many_run_without_a_question_mark():
    snapshot = decode_snapshot(SNAPSHOT.read_bytes())
    cluster = snapshot.clusters[0]
    failed = msgspec.structs.replace(cluster.workloads[0], status="failed", desired=None, running=0, healthy=0)
    counted = msgspec.structs.replace(failed, name="counted", desired=2)
    cluster = msgspec.structs.replace(cluster, workloads=[failed, counted])
    messages = {p.object: p.summary for p in object_problems(cluster) if p.kind == "Workload"}
    assert messages[f"{failed.kind}/{failed.name}"] == "failed: 0 running, 0 healthy"
    assert messages[f"{counted.kind}/counted"] == "failed: 0 of 2 running, 0 healthy"


def test_capacity_charts_are_aggregated():
    app = render("capacity")
    charts = app.get("vega_lite_chart")
    # CPU, memory, heat map, busiest nodes, and usage (batch-nomad measures it)
    assert len(charts) == 5
    assert "Measured usage" in [h.value for h in app.subheader]


def test_heat_map_cells_are_bands_not_nodes():
    from views.capacity import HEATMAP_LABELS, heatmap_counts
    from views.tables import fleet_tables

    nodes = fleet_tables(decode_snapshot(SNAPSHOT.read_bytes())).nodes
    cells = heatmap_counts(nodes)
    assert len(cells) == 2 * len(HEATMAP_LABELS)
    swarm = cells[cells["cluster"] == "edge-swarm"].set_index("band")["nodes"]
    assert (swarm["80–90%"], swarm["20–30%"], swarm["10–20%"], swarm["0–10%"]) == (1, 1, 1, 1)


def test_a_node_holding_more_than_it_offers_is_shown_over_100_percent_not_hidden_at_100():
    """Static pods, or a node that shrank after its work was placed: requests over allocatable."""
    from tests.fleet.snapshot_builder import ClusterBuilder, snapshot
    from views.capacity import heatmap_counts
    from views.tables import fleet_tables

    cluster = (ClusterBuilder(name="prod").node("small", cpu=4, mem_gib=8).node("idle", cpu=4, mem_gib=8)
               .workload("web", on=["small"] * 4, cpu=2, mem_gib=1).build())
    nodes = fleet_tables(snapshot(cluster)).nodes.set_index("name")
    assert nodes.loc["small", "cpu_alloc_ratio"] == 2.0 and nodes.loc["small", "mem_alloc_ratio"] == 0.5
    bands = heatmap_counts(fleet_tables(snapshot(cluster)).nodes).set_index("band")["nodes"]
    assert bands["over 100%"] == 1 and bands["0–10%"] == 1 and bands.sum() == 2


def test_snapshot_json_export_round_trips():
    snapshot = decode_snapshot(SNAPSHOT.read_bytes())
    loaded, problem = load_upload("fleet.json", to_json(snapshot))
    assert problem is None and loaded == snapshot


def test_csv_zip_export_has_the_five_tables_with_every_row():
    snapshot = decode_snapshot(SNAPSHOT.read_bytes())
    archive = zipfile.ZipFile(io.BytesIO(to_csv_zip(snapshot)))
    assert sorted(archive.namelist()) == ["clusters.csv", "events.csv", "instances.csv", "nodes.csv", "services.csv",
                                          "workloads.csv"]
    assert archive.read("instances.csv").decode().count("\n") == 1 + 9
    assert csv_tables(snapshot)["nodes.csv"].splitlines()[1].startswith("edge-swarm,swarm,sw0,swarm-0,ready,true")


@pytest.mark.parametrize("payload, message", [
    (b"{not json", "is not valid JSON"),
    (b'{"schema": "podium.snapshot/v1", "clusters": []}', "is not a Podium v1 snapshot"),
    (b'{"schema": "other/v9", "taken_at": "2026-01-01T00:00:00Z", "clusters": []}', "is not a Podium v1 snapshot"),
])
def test_bad_upload_gets_a_clear_message(payload, message):
    loaded, problem = load_upload("bad.json", payload)
    assert loaded is None and problem.startswith(f"bad.json {message}")


def test_snapshots_page_offers_both_downloads():
    app = render("snapshots")
    buttons = app.get("download_button")
    assert len(buttons) == 2


def test_overview_cards_carry_the_n_plus_1_verdict():
    app = render("overview")
    badges = [m.value for m in app.markdown if "N+1" in m.value]
    assert len(badges) == 2 and all("ok" in b or "unreachable" in b for b in badges)


def test_a_cluster_still_being_collected_is_shown_as_collecting_not_as_a_critical_outage(tmp_path):
    """In the first round of a large fleet the clusters come in one by one: one not in yet is neither
    unreachable nor a problem."""
    import msgspec

    from fleet.model import NOT_COLLECTED_YET, Cluster, encode_snapshot

    snapshot = decode_snapshot(SNAPSHOT.read_bytes())
    collected, failed = snapshot.clusters
    waiting = Cluster(name="big-marathon", orchestrator="marathon", endpoint="http://marathon:8080",
                      status="unreachable", error=NOT_COLLECTED_YET)
    partial = msgspec.structs.replace(snapshot, clusters=[collected, failed, waiting])
    assert [p.object for p in fleet_problems(partial) if p.kind == "Cluster"] == [failed.name]
    path = tmp_path / "partial.json"
    path.write_bytes(encode_snapshot(partial))
    app = AppTest.from_function(page_script, args=("overview", str(path)), default_timeout=30).run()
    assert not app.exception, app.exception
    text = "\n".join(m.value for m in app.markdown)
    assert "collecting]" in text and "big-marathon" in text
    assert "not collected yet" not in text  # no "critical … unreachable" line among the worst problems
    assert [i.value for i in app.info if "Collecting" in i.value] == ["Collecting… the first round is under way."]
