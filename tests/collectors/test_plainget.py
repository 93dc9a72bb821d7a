"""PlainGet: the plain keep-alive GET path, and how it steps aside for anything but a plain 200."""
from __future__ import annotations

import socket
import time
from typing import Iterator

import pytest

from collectors.deadline import MIB, AnswerTooLarge
from collectors.http import HttpJsonClient
from collectors.plainget import PlainGet, PlainTarget
from fleet.config import ClusterConfig, Secret
from fleet.source import Unreachable
from sim.httpserver import EmulatorServer, Request, Response, json_response
from tests.collectors.faultservers import FAULTS, raw_server
from tests.collectors.test_deadline import returning_late
from tests.trust.pki import Authority

TOKEN = "s3cr3t-plain-token"


def answer(request: Request) -> Response:
    if request.path == "/v1/job/web":
        seen = {"token": request.header("x-nomad-token"), "namespace": request.param("namespace"),
                "agent": request.header("user-agent")}
        return json_response(seen)
    if request.path == "/moved":
        return Response(302, b"", {"Location": "/v1/job/web"})
    if request.path == "/stream":
        return Response(200, stream=iter([b'{"a":', b"1}"]))
    return json_response({"message": "job not found"}, 404)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(answer) as running:
        yield running


def target(url: str, **values) -> PlainTarget:
    port = int(url.rsplit(":", 1)[1])
    headers = (("User-Agent", "podium/1"), ("X-Nomad-Token", TOKEN))
    return PlainTarget(values.pop("scheme", "http"), "127.0.0.1", port, "", headers, values.pop("verify", True),
                       **values)


def test_a_plain_200_is_read_with_the_headers_on_one_kept_alive_connection(server):
    plain = PlainGet(target(server.url), 5.0)
    try:
        first = plain.get("/v1/job/web", {"namespace": "prod"})
        second = plain.get("/v1/job/web", {"namespace": "dev"})
        assert len(plain._open) == 1  # the connection was kept alive and used again
    finally:
        plain.close()
    assert first == b'{"token":"s3cr3t-plain-token","namespace":"prod","agent":"podium/1"}'
    assert b'"namespace":"dev"' in second
    assert {method for method, _, _ in server.requests} == {"GET"}


@pytest.mark.parametrize("path", ["/v1/job/gone", "/moved", "/stream"])
def test_anything_but_a_plain_200_is_none_so_the_caller_asks_the_usual_way(server, path):
    plain = PlainGet(target(server.url), 5.0)
    try:
        assert plain.get(path, {}) is None
        assert not plain.broken  # an answer, just not a plain one: the next read still goes this way
        assert plain.get("/v1/job/web", {}) is not None
    finally:
        plain.close()


def test_a_connection_the_server_closed_while_idle_is_opened_afresh(server):
    plain = PlainGet(target(server.url), 5.0)
    try:
        assert plain.get("/v1/job/web", {}) is not None
        server.drop_connections()  # as a server restarting, or timing out idle connections, does
        assert plain.get("/v1/job/web", {}) is not None
        assert not plain.broken
    finally:
        plain.close()


def test_a_refused_connection_breaks_the_plain_path_for_good():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    plain = PlainGet(target(f"http://127.0.0.1:{port}"), 2.0)
    assert plain.get("/v1/job/web", {}) is None and plain.broken
    assert plain.get("/v1/job/web", {}) is None  # no further attempts: the usual way says what is wrong


def test_the_target_never_shows_its_headers():
    shown = repr(target("http://127.0.0.1:4646")) + str(target("http://127.0.0.1:4646"))
    assert TOKEN not in shown and "127.0.0.1:4646" in shown


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority("plainget", tmp_path_factory.mktemp("pki-plainget"))


def test_tls_with_the_cluster_ca_and_a_client_certificate(authority):
    server_pair, client = authority.issue("server"), authority.issue("podium-reader", client=True)
    with EmulatorServer(answer, certfile=server_pair.cert_file, keyfile=server_pair.key_file,
                        client_ca=authority.ca_file) as server:
        good = PlainGet(target(server.url, scheme="https", verify=authority.ca_file,
                               cert=(client.cert_file, client.key_file)), 5.0)
        without_cert = PlainGet(target(server.url, scheme="https", verify=authority.ca_file), 5.0)
        unknown_ca = PlainGet(target(server.url, scheme="https", cert=(client.cert_file, client.key_file)), 5.0)
        try:
            assert good.get("/v1/job/web", {}) is not None
            assert without_cert.get("/v1/job/web", {}) is None and without_cert.broken
            assert unknown_ca.get("/v1/job/web", {}) is None and unknown_ca.broken  # verification is on
        finally:
            for plain in (good, without_cert, unknown_ca):
                plain.close()


def test_the_client_hands_over_its_settings_but_not_where_requests_would_add_something(monkeypatch):
    url = "https://nomad.example:4646/prefix"
    config = ClusterConfig(name="batch", orchestrator="nomad", url=url, token=Secret(TOKEN), ca_file="/etc/ca.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = HttpJsonClient(url, config, headers={"X-Nomad-Token": TOKEN})
    got = client.plain_target()
    assert (got.scheme, got.host, got.port, got.prefix, got.verify) == ("https", "nomad.example", 4646, "/prefix",
                                                                       "/etc/ca.pem")
    assert ("X-Nomad-Token", TOKEN) in got.headers
    assert all(name.lower() != "accept-encoding" for name, _ in got.headers)  # answers come unencoded
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert HttpJsonClient(url, config).plain_target() is None


def test_a_token_with_a_line_break_never_reaches_the_plain_path():
    url = "http://nomad.example:4646"
    config = ClusterConfig(name="batch", orchestrator="nomad", url=url, token=Secret("abc\r\nX-Evil: 1"))
    assert HttpJsonClient(url, config, headers={"X-Nomad-Token": "abc\r\nX-Evil: 1"}).plain_target() is None


@pytest.mark.parametrize("fault", ["hang", "headers then drip", "slow headers", "TLS port that never speaks TLS"])
def test_a_server_that_hangs_or_trickles_is_cut_at_the_deadline_and_no_later_read_waits(fault):
    behaviour, tls = FAULTS[fault]
    with raw_server(behaviour) as url:
        plain = PlainGet(target(url, scheme="https" if tls else "http", verify=False), 1.0)
        started = time.monotonic()
        try:
            cut = (r": TLS handshake got no answer within 1s: is this a TLS port\?" if tls
                   else r" did not finish within 1s")
            with pytest.raises(Unreachable, match=r"GET /v1/job/web on https?://127\.0\.0\.1:\d+" + cut):
                plain.get("/v1/job/web", {})
            assert time.monotonic() - started < 3.5
            assert plain.broken and plain.get("/v1/job/web", {}) is None  # the rest of the batch stops at once
        finally:
            plain.close()


def test_an_answer_declaring_more_than_the_ceiling_is_refused_before_it_is_read():
    behaviour, _ = FAULTS["huge Content-Length"]
    with raw_server(behaviour) as url:
        plain = PlainGet(target(url, max_bytes=8 * MIB), 5.0)
        try:
            with pytest.raises(AnswerTooLarge, match=r"GET /v1/job/web on http://127\.0\.0\.1:\d+: answer larger than "
                                                     r"8 MiB refused \(it declares 3,815 MiB\)"):
                plain.get("/v1/job/web", {})
        finally:
            plain.close()


def test_the_target_carries_the_clusters_size_ceiling():
    config = ClusterConfig(name="batch", orchestrator="nomad", url="http://127.0.0.1:4646", max_answer_mib=16)
    assert HttpJsonClient(config.url, config).plain_target().max_bytes == 16 * MIB


def test_a_tls_port_that_never_speaks_is_named_so_even_when_a_busy_host_cuts_before_the_handshake(monkeypatch):
    """On a loaded machine the deadline can pass before the handshake sends its first byte: the wrap
    then fails with a broken pipe, not a TLS error, and the message must still point at TLS."""
    behaviour, _ = FAULTS["TLS port that never speaks TLS"]
    # past the 1-s deadline: the watchdog shuts the socket down before the handshake begins
    monkeypatch.setattr(PlainGet, "_dial", returning_late(PlainGet._dial, 1.3))
    with raw_server(behaviour) as url:
        plain = PlainGet(target(url, scheme="https", verify=False), 1.0)
        try:
            with pytest.raises(Unreachable, match=r"TLS handshake got no answer within 1s: is this a TLS port\?"):
                plain.get("/v1/job/web", {})
            assert plain.broken
        finally:
            plain.close()
