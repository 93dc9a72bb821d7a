"""Recorded upstream payloads served verbatim by the emulators, read end to end by the collector."""
from __future__ import annotations

from sim.httpserver import Response
from sim.marathon import build
from tests.sim.marathon.harness import collect, running
from tests.upstream import upstream_json


def test_collector_reads_recorded_marathon_and_mesos_payloads_over_http():
    scenario = build(0, agents=0, apps=0, pods=0, problems=[])
    with running(scenario) as cluster:
        cluster.marathon_api.verbatim.update({
            "/v2/info": upstream_json("marathon/v2-info.json"),
            "/v2/apps": upstream_json("marathon/v2-apps-dd-agent.json"),
            "/v2/queue": upstream_json("marathon/v2-queue.json"),
            "/v2/deployments": upstream_json("marathon/v2-deployments.json"),
        })
        cluster.mesos_api.verbatim["/master/state-summary"] = upstream_json("mesos/master-state-0.22-dd-agent.json")
        data = collect(cluster)
    assert (data.version, data.degraded_reason) == ("1.5.0-SNAPSHOT", None)
    assert [(w.id, w.status, w.running, w.healthy) for w in data.workloads] == [("/my-app", "degraded", 10, 5)]
    assert [(n.name, n.status, n.cpu_capacity_cores) for n in data.nodes] == [("localhost", "ready", 1.0)]
    assert [(e.reason, e.object) for e in data.events] == [("Deployment", "App/foo")]


def test_master_older_than_state_summary_is_read_from_its_full_state():
    scenario = build(0, agents=0, apps=0, pods=0, problems=[])
    with running(scenario) as cluster:
        cluster.mesos.fault = lambda request: Response(404, b"") if request.path == "/master/state-summary" else None
        cluster.mesos_api.verbatim["/master/state.json"] = upstream_json("mesos/master-state-0.22-dd-agent.json")
        data = collect(cluster)
    assert data.degraded_reason is None
    assert [n.id for n in data.nodes] == ["20150410-134224-16777343-5050-1778-S0"]
