"""The Services page, the Workloads autoscaler column and the service/autoscaler problems, by AppTest
on a hand-built snapshot file (tests/views/snapshots/services-fleet.json)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from fleet.model import decode_snapshot
from fleet.problems import fleet_problems

from tests.views.test_pages import page_script

SNAPSHOT = Path(__file__).parent / "snapshots" / "services-fleet.json"


def render(page: str) -> AppTest:
    app = AppTest.from_function(page_script, args=(page, str(SNAPSHOT)), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def services_table(app: AppTest):
    return app.dataframe[0].value


def test_every_service_with_its_backends_and_workloads():
    table = services_table(render("services"))
    rows = {row.name: row for row in table.itertuples()}
    assert set(rows) == {"web-http", "checkout-http", "api-http", "shop"}
    assert (rows["checkout-http"].status, rows["checkout-http"].backends) == ("down", "0 / 0")
    assert (rows["shop"].kind, rows["shop"].ports, rows["shop"].addresses) == ("vip", "80/tcp (:30080)", "10.255.0.5")
    assert rows["web-http"].workloads == "web" and rows["shop"].backends == "1 / 2"


def test_filters_by_status_and_problems_only():
    app = render("services")
    next(m for m in app.multiselect if m.key == "services-status").set_value(["down"]).run()
    assert list(services_table(app)["name"]) == ["checkout-http"]
    app = render("services")
    next(t for t in app.toggle if t.key == "services-problems-only").set_value(True).run()
    assert sorted(services_table(app)["name"]) == ["checkout-http", "shop"]


def test_search_matches_the_workload_behind_a_service():
    app = render("services")
    next(t for t in app.text_input if t.key == "services-text").input("checkout").run()
    assert list(services_table(app)["name"]) == ["checkout-http"]


def test_detail_shows_the_workloads_and_instances_behind_the_service():
    app = render("services")
    next(s for s in app.selectbox if s.key == "services-detail").set_value("eu-nomad / default/checkout-http").run()
    assert not app.exception
    headers = [h.value for h in app.subheader]
    assert "Workloads behind eu-nomad / default/checkout-http" in headers
    workloads, instances = app.dataframe[1].value, app.dataframe[2].value
    assert list(workloads["name"]) == ["checkout"]
    assert sorted(instances["name"]) == ["checkout.checkout[0]", "checkout.checkout[1]"]
    assert set(instances["state"]) == {"failed"}


def test_workloads_show_the_autoscaler_and_its_limit():
    app = render("workloads")
    table = app.dataframe[0].value
    scalers = dict(zip(table["name"], table["autoscaler"]))
    assert scalers["web"] == "1 ≤ 3 ≤ 3, limited · avg_cpu (prometheus: avg(cpu)) → target-value 70"
    assert scalers["api"] == "1 ≤ 2 ≤ 5" and scalers["checkout"] == ""
    next(s for s in app.selectbox if s.key == "workloads-detail").set_value("eu-nomad / default/web").run()
    assert any("at its maximum (3)" in w.value for w in app.warning)


def test_health_and_overview_list_the_service_and_autoscaler_problems():
    problems = fleet_problems(decode_snapshot(SNAPSHOT.read_bytes()))
    found = {(p.severity, p.kind, p.object): p.summary for p in problems if p.kind in ("Service", "Autoscaler")}
    assert found == {
        ("error", "Service", "nomad/checkout-http"): "service has no ready backend: it has no backend at all",
        ("warning", "Autoscaler", "service/web"):
            "autoscaler limited at max: 3 of max 3 (group web at its maximum (3): the autoscaler may not add more)",
    }
    summaries = list(render("health").dataframe[0].value["summary"])
    assert any(s.startswith("service has no ready backend") for s in summaries)
    assert any(s.startswith("autoscaler limited at max") for s in summaries)
    overview = "\n".join(m.value for m in render("overview").markdown)
    assert "service has no ready backend" in overview


def test_services_csv_has_one_row_per_service_with_ports_and_backends():
    from fleet.export import csv_tables

    lines = csv_tables(decode_snapshot(SNAPSHOT.read_bytes()))["services.csv"].splitlines()
    assert lines[0] == ("cluster,orchestrator,id,name,namespace,kind,status,addresses,ports,workload_ids,"
                        "backends_total,backends_ready")
    assert len(lines) == 1 + 4
    assert lines[-1] == "edge-swarm,swarm,svc1,shop,,vip,degraded,10.255.0.5,80/tcp>80@30080,svc1,2,1"


def test_capacity_shows_each_clusters_platform_mix():
    from fleet.model import Node
    from views.capacity import platform_mix, platform_of

    assert platform_mix(decode_snapshot(SNAPSHOT.read_bytes())) == {
        "eu-nomad": ["1 of 2 nodes ubuntu/amd64", "1 of 2 nodes windows/amd64"],
        "edge-swarm": ["1 of 1 nodes linux/amd64"],  # Docker's x86_64 is amd64
    }
    nomad_stub = Node(id="n", name="n", status="ready", schedulable=True, os="ubuntu")  # Nomad's list: no arch
    assert platform_of(nomad_stub) == "ubuntu (architecture not reported)"
    assert platform_of(Node(id="m", name="m", status="ready", schedulable=True)) == "platform not reported"
    text = "\n".join(m.value for m in render("capacity").markdown)
    assert "**eu-nomad**: 1 of 2 nodes ubuntu/amd64 · 1 of 2 nodes windows/amd64" in text
