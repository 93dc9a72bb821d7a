"""The Marathon collector when things go wrong: standbys, a dead master, auth, TLS, lying servers."""
from __future__ import annotations

import logging

import pytest

from collectors.marathon.fetch import MarathonCollector
from fleet.config import Secret
from fleet.source import MalformedPayload, Unauthorized, Unreachable, UpstreamError
from sim.httpserver import EmulatorServer, Response, status
from sim.kubernetes import tls
from sim.marathon import build
from sim.mesos import Auth
from tests.sim.marathon.harness import by_status, collect, config, running, token_config

TOKEN = "eyJhbGciOiJSUzI1NiJ9.podium-test-token"


@pytest.fixture(scope="module")
def scenario():
    return build(0)


def test_standbys_redirect_to_leaders_and_the_leaders_are_reported(scenario):
    with running(scenario, standbys=True) as cluster:
        marathon_standby, mesos_standby = cluster.standbys
        collector = MarathonCollector(config(marathon_standby.url, mesos_standby.url))
        data = collector.collect(timeout_s=10)
        assert by_status(data.workloads) == scenario.expected.workloads_by_status
        assert by_status(data.nodes) == scenario.expected.nodes_by_status
        leaders = {e.object: e.message for e in data.events if e.reason == "LeaderRedirect"}
        assert set(leaders) == {f"Marathon/{marathon_standby.url}", f"MesosMaster/{mesos_standby.url}"}
        assert cluster.marathon.url in leaders[f"Marathon/{marathon_standby.url}"]
        assert (collector.marathon.leader_url, collector.mesos.leader_url) == (cluster.marathon.url, cluster.mesos.url)
        asked_before = len(marathon_standby.requests) + len(mesos_standby.requests)
        collector.collect(timeout_s=10)
        collector.close()
        # the leaders are remembered: the second round does not go through the standbys again
        assert len(marathon_standby.requests) + len(mesos_standby.requests) == asked_before


def test_credentials_follow_a_leader_redirect_from_the_configured_endpoint(scenario):
    with running(scenario, standbys=True, auth=Auth(token=TOKEN)) as cluster:
        marathon_standby, mesos_standby = cluster.standbys
        collector = MarathonCollector(token_config(marathon_standby.url, mesos_standby.url, TOKEN))
        data = collector.collect(timeout_s=10)
        collector.close()
    assert data.degraded_reason is None
    assert len(data.nodes) == 15


def test_redirect_to_another_path_is_not_followed(scenario):
    with running(scenario) as cluster:
        cluster.marathon.fault = status(307, headers={"Location": "https://login.example/sso?next=/v2/info"})
        with pytest.raises(UpstreamError, match="not a leader redirect") as raised:
            collect(cluster, token_env="T", token=Secret(TOKEN))
    assert "https://login.example/sso" in raised.value.message


def test_https_endpoint_redirecting_to_plain_http_does_not_get_credentials(tmp_path):
    if not tls.available():
        pytest.skip("openssl is not installed")
    certs = tls.make_certificates(tmp_path)
    plain = EmulatorServer(lambda request: Response(200, b"{}")).start()
    secure = EmulatorServer(lambda request: Response(307, b"", {"Location": f"{plain.url}{request.path}"}),
                            certfile=certs.cert_file, keyfile=certs.key_file).start()
    try:
        collector = MarathonCollector(token_config(secure.url, "http://127.0.0.1:9", TOKEN, ca_file=certs.ca_file))
        with pytest.raises(UpstreamError, match="refusing to send credentials over plain HTTP"):
            collector.collect(timeout_s=5)
        assert plain.requests == []
    finally:
        secure.stop()
        plain.stop()


def test_mesos_master_down_keeps_workloads_and_says_no_nodes(scenario):
    with running(scenario) as cluster:
        cluster.mesos.fault = status(503, {"message": "No leader elected"})
        data = collect(cluster)
    assert data.nodes == []
    assert by_status(data.workloads) == scenario.expected.workloads_by_status
    assert data.degraded_reason is not None
    assert data.degraded_reason.startswith(f"nodes: Mesos master GET /master/state-summary on {cluster.mesos.url}: "
                                           f"HTTP 503")
    assert data.degraded_reason.endswith("no nodes shown")


def test_mesos_master_failing_after_a_good_round_keeps_its_last_nodes_as_stale(scenario):
    with running(scenario) as cluster:
        collector = MarathonCollector(config(cluster.marathon.url, cluster.mesos.url))
        first = collector.collect(timeout_s=10)
        cluster.mesos.fault = status(503, {"message": "No leader elected"})
        second = collector.collect(timeout_s=10)
        collector.close()
    assert [n.id for n in second.nodes] == [n.id for n in first.nodes]
    assert second.degraded_reason is not None
    assert f"GET /master/state-summary on {cluster.mesos.url}: HTTP 503" in second.degraded_reason
    assert "nodes shown are" in second.degraded_reason and "s old" in second.degraded_reason
    assert len(second.instances) == len(first.instances)


def test_optional_marathon_parts_failing_degrade_and_name_the_part(scenario):
    def queue_broken(request):
        return Response(500, b"boom") if request.path == "/v2/queue" else None

    with running(scenario) as cluster:
        cluster.marathon.fault = queue_broken
        data = collect(cluster)
    assert data.degraded_reason == f"launch queue: GET /v2/queue on {cluster.marathon.url}: HTTP 500 boom"
    assert len(data.workloads) == 22


def test_marathon_without_pods_endpoint_is_not_degraded(scenario):
    def no_pods(request):
        return Response(404, b"Not Found") if request.path.startswith("/v2/pods") else None

    with running(scenario) as cluster:
        cluster.marathon.fault = no_pods
        data = collect(cluster)
    assert data.degraded_reason is None
    assert {w.kind for w in data.workloads} == {"App"}


def test_missing_token_is_unauthorized_and_names_the_endpoint(scenario):
    with running(scenario, auth=Auth(token=TOKEN)) as cluster:
        with pytest.raises(Unauthorized) as raised:
            collect(cluster)
    assert raised.value.status == "unauthorized"
    assert raised.value.message.startswith(f"GET /v2/info on {cluster.marathon.url}: unauthorized (401)")


def test_wrong_token_is_unauthorized_and_never_echoed(scenario, caplog):
    caplog.set_level(logging.DEBUG)
    with running(scenario, auth=Auth(token=TOKEN)) as cluster:
        with pytest.raises(Unauthorized) as raised:
            collect(cluster, token_env="T", token=Secret("wrong-secret-token"))
    assert "wrong-secret-token" not in raised.value.message
    assert "wrong-secret-token" not in caplog.text


def test_token_is_sent_dcos_style_to_both_services(scenario):
    with running(scenario, auth=Auth(token=TOKEN)) as cluster:
        data = collect(cluster, token_env="T", token=Secret(TOKEN))
    assert data.degraded_reason is None
    assert len(data.nodes) == 15


def test_basic_auth_with_username_and_password(scenario):
    with running(scenario, auth=Auth(username="podium", password="s3cret")) as cluster:
        data = collect(cluster, username="podium", password_env="P", password=Secret("s3cret"))
        with pytest.raises(Unauthorized):
            collect(cluster, username="podium", password_env="P", password=Secret("nope"))
    assert len(data.workloads) == 22


def test_tls_with_a_private_ca(scenario, tmp_path):
    if not tls.available():
        pytest.skip("openssl is not installed")
    certs = tls.make_certificates(tmp_path)
    with running(scenario, certfile=certs.cert_file, keyfile=certs.key_file) as cluster:
        data = collect(cluster, ca_file=certs.ca_file)
        with pytest.raises(Unreachable, match="TLS failure"):
            collect(cluster)
    assert cluster.marathon.url.startswith("https://")
    assert by_status(data.workloads) == scenario.expected.workloads_by_status


def test_marathon_not_listening_is_unreachable():
    collector = MarathonCollector(config("http://127.0.0.1:9", "http://127.0.0.1:9"))
    with pytest.raises(Unreachable, match="cannot connect to http://127.0.0.1:9"):
        collector.collect(timeout_s=2)


def test_marathon_answering_html_is_a_malformed_payload(scenario):
    def html(request):
        return Response(200, b"<html>proxy error</html>", {"Content-Type": "text/html"}) \
            if request.path == "/v2/apps" else None

    with running(scenario) as cluster:
        cluster.marathon.fault = html
        with pytest.raises(MalformedPayload, match=f"GET /v2/apps on {cluster.marathon.url}: not JSON"):
            collect(cluster)


def test_apps_of_the_wrong_shape_are_a_malformed_payload(scenario):
    def wrong(request):
        return Response(200, b'{"apps": [{"id": 42}]}') if request.path == "/v2/apps" else None

    with running(scenario) as cluster:
        cluster.marathon.fault = wrong
        shape = r"unexpected shape: Expected `str`, got `int` - at `\$.apps\[0\].id`"
        with pytest.raises(MalformedPayload, match=shape):
            collect(cluster)
