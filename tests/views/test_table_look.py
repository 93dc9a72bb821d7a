"""What a user sees in tables and charts: a dash for absent values, status colours like the badges,
24-hour UTC times on the History charts, every troubled cluster among the Overview's worst problems."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import msgspec
from streamlit.testing.v1 import AppTest

from fleet.model import encode_snapshot
from fleet.problems import Problem
from fleet.store import TrendPoint, open_sqlite
from tests.fleet.snapshot_builder import T0, ClusterBuilder, snapshot
from views.format import INSTANCE_STATE_COLOURS, NODE_STATUS_COLOURS, SEVERITY_COLOURS, WORKLOAD_STATUS_COLOURS
from views.history import STATE_COLOURS, allocation_frame, gap_times, instances_frame, nodes_frame, thinned
from views.overview import WORST_SHOWN, worst_per_cluster

SMALL_FLEET = Path(__file__).parent / "snapshots" / "small-fleet.json"


def page_script(page: str, snapshot_file: str) -> None:
    import importlib
    from pathlib import Path

    from fleet.model import decode_snapshot
    from views.context import PageContext

    importlib.import_module(f"views.{page}").render(PageContext(decode_snapshot(Path(snapshot_file).read_bytes()),
                                                                "live"))


def history_script(where: str) -> None:
    from fleet.store import open_sqlite
    from views import history

    history.render(open_sqlite(where))


def run(script, *args) -> AppTest:
    app = AppTest.from_function(script, args=args, default_timeout=30).run()
    assert not app.exception, app.exception
    return app


def render(page: str, snapshot_file: Path = SMALL_FLEET) -> AppTest:
    return run(page_script, page, str(snapshot_file))


def column_colours(table, column: str) -> dict[str, str]:
    """The colour each value of `column` gets in the browser, from the table's column config."""
    config = json.loads(table.proto.columns)[column]
    assert config["type_config"]["type"] == "multiselect"
    return {option["value"]: option["color"] for option in config["type_config"]["options"]}


def written(tmp_path: Path, *clusters) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_bytes(encode_snapshot(snapshot(*clusters)))
    return path


def test_workload_without_a_desired_count_shows_a_dash_not_none(tmp_path):
    cluster = ClusterBuilder(name="prod").nodes_named("n1").workload("agent", on=["n1"], kind="DaemonSet").build()
    daemon = msgspec.structs.replace(cluster.workloads[0], desired=None)
    app = render("workloads", written(tmp_path, msgspec.structs.replace(cluster, workloads=[daemon])))
    table = app.dataframe[0]
    assert table.value["desired"].isna().all()
    assert table.proto.placeholder == "—"


def test_every_table_of_every_page_shows_absent_values_as_a_dash():
    for page in ("nodes", "workloads", "instances", "health"):
        app = render(page)
        assert app.dataframe, page
        assert {table.proto.placeholder for table in app.dataframe} == {"—"}, page


def test_status_columns_take_the_badge_colours():
    assert column_colours(render("nodes").dataframe[0], "status") == NODE_STATUS_COLOURS
    assert column_colours(render("workloads").dataframe[0], "status") == WORKLOAD_STATUS_COLOURS
    instances = render("instances").dataframe[0]
    assert column_colours(instances, "state") == INSTANCE_STATE_COLOURS
    assert column_colours(instances, "health")["unhealthy"] == "red"
    assert column_colours(render("health").dataframe[0], "severity") == SEVERITY_COLOURS


def test_health_table_still_shouts_critical():
    config = json.loads(render("health").dataframe[0].proto.columns)["severity"]
    labels = {o["value"]: o["label"] for o in config["type_config"]["options"]}
    assert labels["critical"] == "CRITICAL" and labels["warning"] == "warning"


def history_charts(tmp_path, offsets: list[timedelta]) -> list[dict]:
    """The History page's four charts over one cluster's rounds taken at T0 + each offset."""
    store = open_sqlite(tmp_path / "h.sqlite3", clock=lambda: T0 + offsets[-1])
    for offset in offsets:
        store.save(snapshot(ClusterBuilder(name="prod").nodes_named("n1").build(), taken_at=T0 + offset))
    app = run(history_script, str(tmp_path / "h.sqlite3"))
    charts = [json.loads(element.proto.spec) for element in app.get("vega_lite_chart")]
    assert len(charts) == 4
    return charts


def test_history_charts_label_time_in_24_hour_utc(tmp_path):
    for chart in history_charts(tmp_path, [timedelta(minutes=0), timedelta(minutes=264)]):  # 12:00 and 16:24 UTC
        x = chart["encoding"]["x"]
        assert x["scale"]["type"] == "utc"
        assert "utcFormat(datum.value, '%H:%M')" in x["axis"]["labelExpr"] and "%I" not in x["axis"]["labelExpr"]
        time_tip = next(t for t in chart["encoding"]["tooltip"] if t["field"] == "time")
        assert time_tip["formatType"] == "utc" and time_tip["format"] == "%Y-%m-%d %H:%M:%S"


def test_history_charts_over_a_week_label_one_tick_a_day_with_its_date(tmp_path):
    for chart in history_charts(tmp_path, [timedelta(hours=hours) for hours in range(0, 7 * 24, 6)]):
        axis = chart["encoding"]["x"]["axis"]
        assert axis["tickCount"] == "day" and axis["labelExpr"] == "utcFormat(datum.value, '%b %d')"


def point(minutes: float, by_state: dict[str, int] | None = None) -> TrendPoint:
    return TrendPoint(taken_at=T0 + timedelta(minutes=minutes), cluster="prod", status="ok", nodes_total=1,
                      nodes_ready=1, instances_by_state=by_state or {"running": 1}, cpu_allocated_cores=0.0,
                      cpu_allocatable_cores=1.0, mem_allocated_bytes=0, mem_allocatable_bytes=1)


def test_a_state_missing_from_some_rounds_is_charted_as_none_then_not_as_a_slope():
    """A round's counts leave out the states it had none of; the stacked chart must drop to 0 there,
    not draw a line from the round before to the round after."""
    frame = instances_frame([point(0, {"running": 5, "failed": 3}), point(1, {"running": 8}),
                             point(2, {"running": 6, "failed": 2})])
    failed = frame[frame["state"] == "failed"]["instances"].tolist()
    assert failed == [3, 0, 2]
    assert set(frame["state"]) == set(STATE_COLOURS) and len(frame) == 3 * len(STATE_COLOURS)


def test_an_hour_without_rounds_is_a_gap_in_every_series_and_steady_rounds_have_none():
    rounds = [point(n / 4) for n in range(8)] + [point(60 + n / 4) for n in range(8)]  # 15 s apart, then an hour off
    middle = T0 + timedelta(minutes=1.75 + (60 - 1.75) / 2)
    assert gap_times(rounds) == [middle]
    for frame, series in ((nodes_frame(rounds), "nodes"), (instances_frame(rounds), "state"),
                          (allocation_frame(rounds), "measure")):
        empty = frame[frame.iloc[:, -1].isna()]
        assert set(empty["time"]) == {middle} and set(empty[series]) == set(frame[series])
        assert list(frame["time"]) == sorted(frame["time"])  # drawn in time order
    # steady rounds, a late round or two, and a week thinned evenly: no gap
    assert gap_times([point(n / 4) for n in range(20)]) == []
    assert gap_times([point(0), point(0.25), point(0.75), point(1), point(1.25)]) == []
    assert gap_times([point(0), point(60)]) == []  # two points: no usual spacing to tell a pause by
    assert gap_times(thinned([point(n / 4) for n in range(7 * 24 * 60 * 4)])) == []


def problem(cluster: str, severity: str, index: int = 0) -> Problem:
    return Problem(severity, cluster, "kubernetes", "Instance", f"{cluster}-{index}", "failed")


def test_worst_problems_keep_the_worst_of_every_troubled_cluster():
    noisy = [problem("noisy", "error", i) for i in range(20)]
    problems = noisy + [problem("quiet", "warning"), problem("calm", "info")]
    shown = worst_per_cluster(problems)
    assert len(shown) == WORST_SHOWN
    assert {p.cluster for p in shown} == {"noisy", "quiet", "calm"}
    assert shown[:WORST_SHOWN - 2] == noisy[:WORST_SHOWN - 2]  # still worst first
    assert shown[-2:] == problems[-2:]


def test_worst_problems_show_every_troubled_cluster_even_beyond_ten():
    problems = [problem(f"c{i:02d}", "warning") for i in range(WORST_SHOWN + 3)]
    assert worst_per_cluster(problems) == problems


def test_overview_lists_a_quiet_cluster_beside_a_noisy_one(tmp_path):
    noisy = ClusterBuilder(name="noisy").nodes_named("n1").workload("crash", on=["n1"] * 15, state="failed",
                                                                    reason="Error")
    quiet = ClusterBuilder(name="quiet").nodes_named("q1").node("q2", status="unknown")
    app = render("overview", written(tmp_path, noisy.build(), quiet.build()))
    lines = [m.value for m in app.markdown if "-badge[" in m.value and " · " in m.value]
    assert len(lines) == WORST_SHOWN
    assert any("**quiet**" in line and "`q2`" in line for line in lines)
