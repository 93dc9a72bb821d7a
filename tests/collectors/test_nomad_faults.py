"""The Nomad collector when things go wrong, and what it never does (write, leak, read per node)."""
from __future__ import annotations

import logging
import re
import subprocess
import time
from pathlib import Path

import pytest

from collectors import build_collector
from collectors.nomad.fetch import NomadCollector
from fleet.config import Settings, TlsFiles
from fleet.model import encode_snapshot
from fleet.poller import Poller
from fleet.source import MalformedPayload, Unauthorized, Unreachable
from sim.httpserver import json_response
from sim.kubernetes import tls
from sim.nomad import build, start
from tests.sim.nomad.harness import TOKEN, TOKENS, by, changed, collect, config


@pytest.fixture(scope="module")
def scenario():
    return build(0)


@pytest.fixture
def cluster(scenario):
    with start(scenario, tokens=TOKENS) as running:
        yield running


def test_the_registry_builds_the_nomad_collector(cluster):
    assert isinstance(build_collector(config(cluster.url)), NomadCollector)


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_a_bad_or_missing_token_is_unauthorized(cluster, token):
    with pytest.raises(Unauthorized, match=r"GET /v1/\w+ on http://127.0.0.1:\d+: forbidden \(403\)"):
        collect(cluster, token=token)


def test_a_token_without_agent_read_still_collects_without_a_version(cluster, scenario):
    data = collect(cluster, token="no-agent-token")
    assert data.version is None
    assert by(data.nodes) == scenario.expected.nodes_by_status


def test_one_unreachable_region_degrades_the_cluster_and_names_it(cluster, scenario):
    with changed(cluster.scenario.regions["us-east"], reachable=False):
        data = collect(cluster)
    assert "region us-east" in data.degraded_reason and "i/o timeout" in data.degraded_reason
    assert {n.region for n in data.nodes} == {"eu-west"}


def test_a_hanging_region_times_out_and_the_others_are_still_shown(cluster):
    def slow_us_east(request):
        if request.param("region") == "us-east":
            time.sleep(2.5)
        return None

    cluster.servers[0].fault = slow_us_east
    collector = NomadCollector(config(cluster.url))
    started = time.monotonic()
    data = collector.collect(timeout_s=1)
    collector.close()
    assert "region us-east" in data.degraded_reason
    assert re.search(r"GET /v1/\w+ on http://127.0.0.1:\d+ did not finish within 1s", data.degraded_reason)
    assert {n.region for n in data.nodes} == {"eu-west"}
    assert time.monotonic() - started < 5


def test_an_unknown_region_in_the_config_degrades_the_cluster(cluster):
    data = collect(cluster, regions=["eu-west", "moon"])
    assert "region moon" in data.degraded_reason and "No path to region" in data.degraded_reason


def test_when_every_region_fails_the_first_failure_is_raised(cluster):
    with pytest.raises(Exception, match="No path to region"):
        collect(cluster, regions=["moon"])


def test_a_leaderless_region_is_still_read_with_stale_queries(cluster, scenario):
    with changed(cluster.scenario.regions["eu-west"], has_leader=False):
        data = collect(cluster)
    assert data.degraded_reason is None
    assert by(data.nodes) == scenario.expected.nodes_by_status
    [event] = [e for e in data.events if e.reason == "NoClusterLeader"]
    assert event.object == "Region/eu-west" and "15230 ms" in event.message


def test_a_dead_endpoint_is_unreachable():
    with pytest.raises(Unreachable, match="cannot connect"):
        NomadCollector(config("http://127.0.0.1:9")).collect(timeout_s=2)


def test_malformed_json_is_an_error_naming_the_endpoint(cluster):
    cluster.servers[0].fault = lambda r: json_response({"not": "a list"}) if r.path == "/v1/jobs" else None
    with pytest.raises(MalformedPayload, match="GET /v1/jobs"):
        collect(cluster)


def test_malformed_json_keeps_the_last_good_data_marked_stale(cluster, scenario):
    collector = NomadCollector(config(cluster.url))
    poller = Poller([collector], Settings(poll_interval_s=1, timeout_s=5))
    good = poller.poll_once(force=True).clusters[0]
    cluster.store.update("eu-west", ["jobs"])  # make the collector read the jobs again
    cluster.servers[0].fault = lambda r: json_response([{"ID": 7}]) if r.path == "/v1/jobs" else None
    bad = poller.poll_once(force=True).clusters[0]
    poller.stop()
    assert (good.status, bad.status, bad.stale) == ("ok", "error", True)
    assert "/v1/jobs" in bad.error
    assert len(bad.nodes) == len(good.nodes) == 16


def test_the_token_never_shows_in_errors_logs_or_snapshots(cluster, caplog):
    caplog.set_level(logging.DEBUG)
    collector = NomadCollector(config(cluster.url))
    poller = Poller([collector], Settings(poll_interval_s=1, timeout_s=5))
    with changed(cluster.scenario.regions["us-east"], reachable=False):
        snapshot = poller.poll_once(force=True)
    poller.stop()
    assert snapshot.clusters[0].status == "degraded"
    assert TOKEN not in encode_snapshot(snapshot).decode()
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(collector.config)


def test_the_collector_only_reads(cluster):
    collect(cluster)
    assert {method for server in cluster.servers for method in server.methods_seen()} == {"GET"}


def test_no_request_per_node_or_allocation_in_a_large_region():
    scenario = build(2, regions=1, nodes=200, jobs=30, allocs_per_job=10)
    with start(scenario, tokens=TOKENS) as cluster:
        collect(cluster)
        paths = [path for _, path, _ in cluster.servers[0].requests]
    assert not [p for p in paths if p.startswith(("/v1/node/", "/v1/allocation/", "/v1/client/"))]
    region = scenario.regions["eu-west"]
    names = {(j.namespace, s.name) for j in region.jobs for g in j.groups for s in g.services if s.provider == "nomad"}
    policies = sum(g.scaling is not None for j in region.jobs for g in j.groups)
    # lists, plus one spec per job, one read per registered service name, per scaling policy and its job's scale
    assert len(paths) <= 12 + len(region.jobs) + len(names) + 2 * policies


def test_unchanged_tables_are_not_read_again(cluster):
    collector = NomadCollector(config(cluster.url))
    first = collector.collect(timeout_s=10)
    cluster.servers[0].requests.clear()
    cluster.store.update("eu-west", ["nodes"])
    second = collector.collect(timeout_s=10)
    collector.close()
    full_reads = [(path, query) for _, path, query in cluster.servers[0].requests
                  if path.startswith("/v1/") and "index" not in query and path != "/v1/client/stats"]
    assert {(path, query.get("region", [""])[0]) for path, query in full_reads
            if path not in ("/v1/agent/self", "/v1/regions")} == {("/v1/nodes", "eu-west")}
    assert [w.status for w in first.workloads] == [w.status for w in second.workloads]


def test_a_changed_job_spec_is_read_again(cluster):
    collector = NomadCollector(config(cluster.url, regions="eu-west"))
    collector.collect(timeout_s=10)
    job = cluster.scenario.regions["eu-west"].jobs[0]
    cluster.store.update("eu-west", ["jobs"], lambda region: setattr(job, "job_modify_index", 10_000))
    cluster.servers[0].requests.clear()
    collector.collect(timeout_s=10)
    collector.close()
    specs = [path for _, path, _ in cluster.servers[0].requests if path.startswith("/v1/job/")]
    assert specs == [f"/v1/job/{job.id}"]


def _client_certificate(folder: Path) -> tuple[str, str]:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=podium", "-keyout", "client.key", "-out", "client.csr")
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
        "-extfile", "client.ext", "-out", "client.crt")
    return str(folder / "client.crt"), str(folder / "client.key")


def test_tls_with_a_ca_and_a_client_certificate(scenario, tmp_path):
    if not tls.available():
        pytest.skip("openssl is not installed")
    certs = tls.make_certificates(tmp_path)
    cert, key = _client_certificate(tmp_path)
    with start(scenario, tokens=TOKENS, certfile=certs.cert_file, keyfile=certs.key_file,
               client_ca=certs.ca_file) as cluster:
        data = collect(cluster, tls=TlsFiles(ca_file=certs.ca_file, cert_file=cert, key_file=key))
        with pytest.raises(Unreachable, match="TLS"):
            collect(cluster, tls=TlsFiles(ca_file=certs.ca_file))  # no client certificate
    assert cluster.url.startswith("https://")
    assert by(data.nodes) == scenario.expected.nodes_by_status


def test_recorded_request_shape(cluster):
    collect(cluster, regions="eu-west")
    queries = {path: query for _, path, query in cluster.servers[0].requests}
    assert queries["/v1/allocations"]["namespace"] == ["*"]
    assert queries["/v1/nodes"]["resources"] == ["true"]
    assert "stale" in queries["/v1/jobs"]



def test_job_specs_are_read_directly_with_the_token_and_a_failed_read_is_asked_again_the_usual_way(cluster):
    """Job specs go through the session's pool without requests' per-call work (`DirectGet`); an
    answer that is not a plain 2xx is asked again through requests, which says why."""
    job = cluster.scenario.regions["eu-west"].jobs[0]
    failed: list[str] = []

    def fault(request):
        if request.path == f"/v1/job/{job.id}" and not failed:
            failed.append(request.header("user-agent") or "")
            return json_response({"message": "try again"}, 500)
        return None

    cluster.servers[0].fault = fault
    data = collect(cluster, regions="eu-west")
    reads = [path for _, path, _ in cluster.servers[0].requests if path == f"/v1/job/{job.id}"]
    assert len(reads) == 2  # the direct read that got a 500, then the usual one
    assert failed == ["podium/1"]
    workload = next(w for w in data.workloads if w.id == f"eu-west/{job.namespace}/{job.id}")
    assert workload.images  # the spec came from the second read
    assert all(w.images for w in data.workloads)


def test_the_direct_path_steps_aside_for_a_proxy_or_netrc_credentials(monkeypatch, tmp_path):
    from collectors.http import HttpJsonClient

    url = "http://nomad.example:4646"
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    assert HttpJsonClient(url, config(url)).direct() is not None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert HttpJsonClient(url, config(url)).direct() is None
    monkeypatch.delenv("HTTP_PROXY")
    (tmp_path / "netrc").write_text("machine nomad.example login ops password secret\n")
    assert HttpJsonClient(url, config(url)).direct() is None
