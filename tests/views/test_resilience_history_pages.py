"""The Resilience and History pages through Streamlit's AppTest, on fixture snapshots and a real store."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from fleet.model import decode_snapshot
from fleet.store import open_sqlite
from tests.fleet.snapshot_builder import T0, ClusterBuilder, snapshot

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fleet" / "snapshots"


def resilience_page(path: str) -> None:
    from pathlib import Path

    from fleet.model import decode_snapshot
    from views import resilience

    resilience.render_snapshot(decode_snapshot(Path(path).read_bytes()))


def history_page(where: str | None) -> None:
    from datetime import datetime, timezone

    from fleet.store import open_sqlite
    from views import history

    store = open_sqlite(where, clock=lambda: datetime(2026, 1, 2, tzinfo=timezone.utc)) if where else None
    history.render(store)


def run(page, *args) -> AppTest:
    app = AppTest.from_function(page, args=args, default_timeout=30).run()
    assert not app.exception, app.exception
    return app


def markdown(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_resilience_page_shows_each_clusters_verdict_and_worst_node():
    app = run(resilience_page, str(SNAPSHOTS / "not-n-plus-1.json"))
    text = markdown(app)
    assert "#### edge :green-badge[:material/check_circle: N+1]" in text
    assert "#### prod :red-badge[:material/error: not N+1]" in text
    assert "Worst case: losing **a** strands 2 instance(s)" in text and "**2 fit nowhere**" in text


def test_resilience_summary_table_has_one_row_per_cluster():
    app = run(resilience_page, str(SNAPSHOTS / "not-n-plus-1.json"))
    summary = app.dataframe[0].value
    assert list(summary["cluster"]) == ["edge", "prod"] and list(summary["N+1"]) == ["yes", "NO"]


def test_resilience_page_says_when_a_cluster_has_one_zone():
    app = run(resilience_page, str(SNAPSHOTS / "n-plus-1.json"))
    assert any("No zone information" in i.value for i in app.info)


def test_resilience_page_shows_limit_warnings_with_their_source(tmp_path):
    managers = ClusterBuilder(name="swarm", orchestrator="swarm").nodes_named("m1", "m2", roles=("manager",))
    path = tmp_path / "snap.json"
    from fleet.model import encode_snapshot
    path.write_bytes(encode_snapshot(snapshot(managers.build())))
    app = run(resilience_page, str(path))
    assert any("2 managers" in w.value and "docs.docker.com" in w.value for w in app.warning)


def kept_history(path: Path) -> None:
    store = open_sqlite(path, clock=lambda: T0 + timedelta(days=1))
    for minutes, ready in ((0, 2), (10, 3)):
        builder = ClusterBuilder(name="prod").nodes_named(*[f"n{i}" for i in range(ready)])
        store.save(snapshot(builder.workload("web", on=["n0"], desired=ready, cpu=1, mem_gib=2).build(),
                            taken_at=T0 + timedelta(minutes=minutes)))


def test_history_page_charts_trends_and_diffs_the_two_latest_moments(tmp_path):
    kept_history(tmp_path / "h.sqlite3")
    app = run(history_page, str(tmp_path / "h.sqlite3"))
    assert "2 snapshots kept in sqlite:" in app.caption[0].value
    assert app.selectbox(key="history-cluster").value == "prod"
    diff = app.code[0].value
    assert "+ node n2" in diff and "~ workload scaled: web 2 → 3" in diff


def test_history_page_without_a_store_offers_uploads_only(tmp_path):
    app = run(history_page, None)
    assert "No history is kept" in app.info[0].value
    assert app.radio(key="history-compare-source").options == ["uploaded files"]


def test_history_page_with_an_empty_store_says_one_is_kept_each_round(tmp_path):
    app = run(history_page, str(tmp_path / "empty.sqlite3"))
    assert "No snapshot kept yet" in app.info[0].value


def test_fixture_snapshots_decode():
    assert decode_snapshot((SNAPSHOTS / "diff-new.json").read_bytes()).clusters
