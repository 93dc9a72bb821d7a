"""What the Kubernetes collector reports when the API server, the credentials or metrics fail."""
from __future__ import annotations

import socket
import time
from email.utils import formatdate

import msgspec
import pytest

from collectors.kubernetes.fetch import KubernetesCollector
from fleet.config import Settings
from fleet.model import Snapshot, encode_snapshot
from fleet.poller import Poller
from fleet.source import MalformedPayload, Unauthorized, Unreachable, UpstreamError
from sim.httpserver import Request, Response, hang, json_response, status
from sim.kubernetes import Knobs
from tests.sim.kubernetes.harness import TOKEN, collector, running

SMALL = Knobs(seed=11, nodes=6, pods_per_node=12)


def poll(source: KubernetesCollector, poller: Poller | None = None) -> tuple[Poller, Snapshot]:
    poller = poller or Poller([source], Settings(poll_interval_s=1, timeout_s=5))
    return poller, poller.poll_once(force=True)


def test_wrong_token_is_unauthorized_and_names_the_endpoint():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster, token="not-the-token") as source:
        with pytest.raises(Unauthorized) as raised:
            source.collect(5)
    assert "401" in raised.value.message and cluster.url in raised.value.message
    assert "not-the-token" not in raised.value.message


def test_missing_token_is_unauthorized_in_the_snapshot():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster, token=None) as source:
        _, snapshot = poll(source)
    assert snapshot.clusters[0].status == "unauthorized"


def test_token_lacking_pod_access_is_unauthorized_with_the_server_reason():
    with running(SMALL, token=TOKEN, forbidden={("", "pods")}) as cluster, collector(cluster) as source:
        with pytest.raises(Unauthorized) as raised:
            source.collect(5)
    assert "403" in raised.value.message and 'cannot list resource "pods"' in raised.value.message


def test_retry_after_as_an_http_date_is_read_as_seconds():
    later = formatdate(time.time() + 120, usegmt=True)
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        cluster.server.fault = status(429, headers={"Retry-After": later})
        with pytest.raises(UpstreamError) as raised:
            source.collect(5)
    assert "429" in raised.value.message and 100 <= raised.value.retry_after_s <= 120


def test_metrics_server_missing_keeps_the_cluster_ok_with_null_usage():
    with running(SMALL, token=TOKEN, metrics="absent") as cluster, collector(cluster) as source:
        _, snapshot = poll(source)
    found = snapshot.clusters[0]
    assert (found.status, found.error) == ("ok", None)
    assert {(n.cpu_used_cores, n.mem_used_bytes) for n in found.nodes} == {(None, None)}
    assert found.summary.cpu_used_cores is None


def test_metrics_server_down_degrades_the_cluster_with_null_usage():
    with running(SMALL, token=TOKEN, metrics="down") as cluster, collector(cluster) as source:
        _, snapshot = poll(source)
    found = snapshot.clusters[0]
    assert found.status == "degraded"
    assert "metrics-server" in found.error and "503" in found.error
    assert {n.cpu_used_cores for n in found.nodes} == {None}
    assert len(found.instances) == len(cluster.scenario.expected.pods)


def fail_continued_pod_pages(request: Request) -> Response | None:
    if request.path == "/api/v1/pods" and request.param("continue"):
        return json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500,
                              "reason": "InternalError", "message": "etcdserver: request timed out"}, 500)
    return None


def test_pod_list_failing_mid_pagination_is_an_error_keeping_the_last_good_data_stale():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster, watch=False, page_size=20) as source:
        poller, first = poll(source)
        assert first.clusters[0].status == "ok"
        cluster.server.fault = fail_continued_pod_pages
        _, second = poll(source, poller)
    failed = second.clusters[0]
    assert (failed.status, failed.stale) == ("error", True)
    assert "GET /api/v1/pods" in failed.error and "500" in failed.error and "etcdserver" in failed.error
    assert failed.instances == first.clusters[0].instances
    assert failed.collected_at == first.clusters[0].collected_at


def test_expired_continue_token_restarts_the_list_once():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster, watch=False, page_size=10) as source:
        expired = {"done": False}

        def compact_once(request: Request) -> Response | None:
            if request.path == "/api/v1/pods" and request.param("continue") and not expired["done"]:
                expired["done"] = True
                cluster.store.compact()
            return None

        cluster.server.fault = compact_once
        data = source.collect(5)
        pod_lists = [q for m, p, q in cluster.server.requests if p == "/api/v1/pods" and "continue" not in q]
    assert len(data.instances) == len(cluster.scenario.expected.pods)
    assert len(pod_lists) == 2  # the first list, and the restart after 410 Expired


def test_list_expiring_on_every_try_is_an_error():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster, watch=False, page_size=10) as source:
        def always_compact(request: Request) -> Response | None:
            if request.path == "/api/v1/pods" and request.param("continue"):
                cluster.store.compact()
            return None

        cluster.server.fault = always_compact
        with pytest.raises(UpstreamError) as raised:
            source.collect(5)
    assert "410" in raised.value.message


def test_closed_port_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = cluster_config_for_url(f"http://127.0.0.1:{port}")
    source = KubernetesCollector(config)
    with pytest.raises(Unreachable) as raised:
        source.collect(2)
    assert f"127.0.0.1:{port}" in raised.value.message
    source.close()


def cluster_config_for_url(url: str):
    from fleet.config import ClusterConfig, Secret

    return ClusterConfig(name="k8s", orchestrator="kubernetes", url=url, token=Secret(TOKEN))


def test_server_that_does_not_answer_is_unreachable():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        cluster.server.fault = hang(3)
        with pytest.raises(Unreachable) as raised:
            source.collect(0.5)
    assert "GET /version" in raised.value.message and "did not finish within 0.5s" in raised.value.message


def test_garbage_instead_of_a_node_list_is_malformed():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        cluster.server.fault = lambda r: json_response({"items": "nope"}) if r.path == "/api/v1/nodes" else None
        with pytest.raises(MalformedPayload) as raised:
            source.collect(5)
    assert "/api/v1/nodes" in raised.value.message


def test_warning_events_forbidden_degrades_instead_of_failing():
    with running(SMALL, token=TOKEN, forbidden={("", "events")}) as cluster, collector(cluster) as source:
        data = source.collect(5)
    assert "events" in data.degraded_reason and data.events == []


def test_the_collector_only_reads():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        source.collect(5)
        source.collect(5)
        assert cluster.server.methods_seen() == {"GET"}


def test_the_token_never_reaches_the_snapshot_or_its_errors():
    with running(SMALL, token=TOKEN, metrics="down") as cluster, collector(cluster) as source:
        poller, ok = poll(source)
        cluster.server.fault = lambda r: json_response({"message": f"echo {r.header('authorization')}"}, 500)
        _, failed = poll(source, poller)
    for snapshot in (ok, failed):
        assert TOKEN.encode() not in encode_snapshot(snapshot)
    assert failed.clusters[0].status == "error"


def test_secret_is_not_in_the_collector_repr():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster) as source:
        assert TOKEN not in repr(source.config) and TOKEN not in msgspec.json.encode(str(vars(source))).decode()
