"""Every API route over a scripted two-cluster fleet, auth off: exact answers from the latest snapshot."""
from __future__ import annotations

import gzip
import json

import jsonschema
import pytest
import requests

from fleet.analysis import analyze, to_builtins
from fleet.model import Instance, Workload, decode_snapshot
from fleet.source import Unreachable
from api.routes import accepts_gzip
from api.server import Server
from tests.api.serving import ApiServer
from tests.fleet.fakes import Gate, ScriptedSource, small_cluster
from tests.upstream import spec_path

CONFIG = """settings:
  poll_interval_s: 60
  timeout_s: 1
  demo: false
clusters:
  - name: alpha
    orchestrator: swarm
    url: tcp://alpha:2376
  - name: beta
    orchestrator: swarm
    url: tcp://beta:2376
"""


def alpha_data():
    data = small_cluster(nodes=3)
    data.workloads.append(Workload(id="w2", name="billing", kind="ReplicatedService", desired=2, running=0,
                                   status="failed"))
    data.instances.append(Instance(id="i1", name="billing.1", workload_id="w2", state="failed", reason="exit 137"))
    return data


def build(config):
    steps = [alpha_data()] if config.name == "alpha" else [Unreachable("cannot connect to tcp://beta:2376")]
    return ScriptedSource(config.name, steps)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    config = tmp_path_factory.mktemp("api") / "clusters.yaml"
    config.write_text(CONFIG)
    server = ApiServer(config, build).start().wait_ready()
    yield server
    server.stop()


def snapshot_of(api):
    return decode_snapshot(api.get("/api/v1/snapshot").content)


def test_healthz_answers_ok(api):
    answer = api.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")


def test_readyz_answers_ok_after_the_first_round(api):
    assert (api.get("/readyz").status_code, api.get("/readyz").text) == (200, "ok")


def test_snapshot_is_the_v1_document_of_the_latest_round(api):
    answer = api.get("/api/v1/snapshot", headers={"Accept-Encoding": "identity"})
    assert answer.headers["content-type"] == "application/json" and "content-encoding" not in answer.headers
    document = answer.json()
    jsonschema.validate(document, json.loads(spec_path("snapshot-v1.schema.json").read_text()))
    assert document["schema"] == "podium.snapshot/v1"
    assert api.server.runtime.snapshot() is api.server.publisher.current().snapshot
    assert [c["name"] for c in document["clusters"]] == ["alpha", "beta"]
    assert document["clusters"][0]["summary"]["nodes_ready"] == 3


def test_snapshot_is_sent_gzipped_when_the_client_accepts_it(api):
    answer = requests.get(api.url + "/api/v1/snapshot", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    raw = answer.raw.read(decode_content=False)
    assert answer.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw)) == api.get("/api/v1/snapshot", headers={"Accept-Encoding": "identity"}).json()


def test_snapshot_is_encoded_once_per_round(api):
    published = api.server.publisher.current()
    api.get("/api/v1/snapshot")
    first = published.whole()
    api.get("/api/v1/snapshot")
    assert published.whole() is first and api.server.publisher.current() is published


def test_clusters_lists_name_orchestrator_status_error_collected_at_stale(api):
    rows = api.get("/api/v1/clusters").json()
    assert [set(r) for r in rows] == [{"name", "orchestrator", "status", "error", "collected_at", "stale"}] * 2
    alpha, beta = rows
    assert (alpha["name"], alpha["status"], alpha["error"], alpha["stale"]) == ("alpha", "ok", None, False)
    assert alpha["collected_at"] is not None
    assert (beta["status"], beta["error"], beta["collected_at"]) == ("unreachable", "cannot connect to tcp://beta:2376",
                                                                     None)


def test_one_cluster_is_the_cluster_object_of_the_snapshot(api):
    whole = api.get("/api/v1/snapshot").json()
    assert api.get("/api/v1/clusters/alpha").json() == whole["clusters"][0]


def test_unknown_cluster_is_404_json(api):
    answer = api.get("/api/v1/clusters/gamma")
    assert answer.status_code == 404
    assert answer.json() == {"error": "no cluster named 'gamma' in the latest snapshot"}


def test_problems_are_worst_first_with_the_contract_fields(api):
    problems = api.get("/api/v1/problems").json()
    assert [set(p) for p in problems] == [{"severity", "cluster", "kind", "object", "message"}] * len(problems)
    assert problems[0] == {"severity": "critical", "cluster": "beta", "kind": "Cluster", "object": "beta",
                           "message": "unreachable: cannot connect to tcp://beta:2376"}
    assert {"severity": "error", "cluster": "alpha", "kind": "Instance", "object": "billing.1",
            "message": "failed: exit 137"} in problems
    ranks = ["critical", "error", "warning", "info"]
    assert [ranks.index(p["severity"]) for p in problems] == sorted(ranks.index(p["severity"]) for p in problems)


def test_analysis_is_what_fleet_analyze_prints(api):
    expected = to_builtins(analyze(snapshot_of(api)))
    for cluster in expected["clusters"]:
        del cluster["node_loss"]
    assert api.get("/api/v1/analysis").json() == json.loads(json.dumps(expected))


def test_analysis_with_all_nodes_keeps_each_nodes_loss(api):
    clusters = api.get("/api/v1/analysis?all_nodes=true").json()["clusters"]
    assert [len(c["node_loss"]) for c in clusters] == [3, 0]


def test_status_names_this_replica_as_single(api):
    status = api.get("/api/v1/status").json()
    assert set(status) == {"replica", "role", "leader", "last_round_at"}
    assert (status["role"], status["leader"]) == ("single", None) and status["replica"]
    assert status["last_round_at"] == api.get("/api/v1/snapshot").json()["taken_at"]


def test_metrics_is_prometheus_text_format(api):
    answer = api.get("/metrics")
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert 'podium_cluster_up{cluster="alpha",orchestrator="swarm"} 1.0' in answer.text
    assert 'podium_cluster_up{cluster="beta",orchestrator="swarm"} 0.0' in answer.text


@pytest.mark.parametrize("path", ["/api/v2/snapshot", "/api/v1/nodes", "/api/", "/api/v1/clusters/alpha/nodes"])
def test_unknown_api_paths_are_404_json(api, path):
    answer = api.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.json()["error"].startswith("no such API route")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/snapshot", "/api/v1/clusters/alpha", "/metrics", "/healthz",
                                  "/api/v1/whatever"])
def test_write_methods_are_405(api, method, path):
    answer = requests.request(method, api.url + path, timeout=10, data=b"{}")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert answer.json() == {"error": f"{method} is not allowed: this API is read-only"}


def test_nothing_was_collected_per_request(api):
    calls = {name: source.calls for name, source in sources(api).items()}
    for path in ("/api/v1/snapshot", "/api/v1/clusters", "/api/v1/problems", "/metrics", "/readyz"):
        api.get(path)
    assert {name: source.calls for name, source in sources(api).items()} == calls


def sources(api):
    return {state.source.name: state.source for state in api.server.runtime.poller._states}


def test_readyz_is_503_with_the_reason_until_the_first_round_finishes(tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text(CONFIG)
    gate = Gate()
    server = ApiServer(config, lambda c: ScriptedSource(c.name, [gate])).start()
    try:
        waiting = server.get("/readyz")
        assert (waiting.status_code, waiting.text) == (503, "not ready: the first collection round is running")
        gate.release.set()
        server.wait_ready()
    finally:
        gate.release.set()
        server.stop()


def test_readyz_says_when_no_cluster_is_configured(tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text("settings:\n  demo: false\nclusters: []\n")
    server = ApiServer(config, build).start()
    try:
        answer = server.get("/readyz")
        assert (answer.status_code, answer.text) == (503, "not ready: no clusters configured")
        assert server.get("/api/v1/snapshot").status_code == 503
        assert server.get("/api/v1/clusters").json() == []
    finally:
        server.stop()


@pytest.mark.parametrize("header, gzipped", [("gzip", True), ("deflate, gzip;q=0.8", True), ("*", True),
                                             ("gzip;q=0", False), ("identity", False), ("", False)])
def test_gzip_is_chosen_by_accept_encoding(header, gzipped):
    assert accepts_gzip(header) is gzipped


def test_the_serving_process_can_add_its_own_per_round_work():
    """The dashboard adds its own (preparing a round's tables as it arrives) beside the API's."""
    class Runtime:
        def __init__(self) -> None:
            self.round_hooks: list = []

        def on_round(self, hook) -> None:
            self.round_hooks.append(hook)

        def on_cluster(self, hook) -> None:
            pass

    runtime, heard = Runtime(), []
    server = Server(lambda: runtime, round_hooks=(heard.append,))
    server.start()
    assert heard.append in runtime.round_hooks and server._round in runtime.round_hooks
