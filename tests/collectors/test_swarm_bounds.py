"""The Swarm collector against engines that hang, trickle, never stop talking, reset or refuse:
loopback servers on tcp and on a unix socket speak just enough HTTP. Every request (the version
negotiation included) ends within the cluster's timeout, and the message names what happened."""
from __future__ import annotations

import json
import socket
import struct
import time
from typing import Callable

import certifi
import pytest

from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig
from fleet.config.types import TlsFiles
from fleet.source import SourceError
from tests.collectors.test_deadline import endless_chunks, hang, huge_length, serving

Behaviour = Callable[[socket.socket], None]
TIMEOUT_S = 1.0
MARGIN_S = 2.0  # a loaded machine's scheduling; the bound itself is TIMEOUT_S
VERSION = {"Version": "27.3.1", "ApiVersion": "1.47"}


def answer(status: str, body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{extra}\r\n").encode() + body


def read_request(conn: socket.socket) -> str | None:
    """The path of the next request on a keep-alive connection (GETs have no body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data.split(b" ", 2)[1].decode()


def engine(fault: Behaviour, *, version_too: bool = False) -> Behaviour:
    """Answers GET /version like an engine, then meets the next request with `fault`."""
    def serve(conn: socket.socket) -> None:
        while (path := read_request(conn)) is not None:
            if path.endswith("/version") and not version_too:
                conn.sendall(answer("200 OK", json.dumps(VERSION).encode()))
                continue
            fault(conn)
            return
    return serve


def drip_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[")
    for _ in range(150):
        conn.sendall(b" ")
        time.sleep(0.2)


def slow_headers(conn: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]":
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST


def unavailable(conn: socket.socket) -> None:
    conn.sendall(answer("503 Service Unavailable", b'{"message": "swarm is in maintenance: raft has no leader"}\n'))


def collect_failure(url: str, **config: object) -> tuple[SourceError, float]:
    collector = SwarmCollector(ClusterConfig(name="swarm", orchestrator="swarm", url=url, **config))
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        collector.collect(timeout_s=TIMEOUT_S)
    elapsed = time.monotonic() - started
    collector.close()
    assert "\n" not in str(caught.value)
    return caught.value, elapsed


FAMILIES = ["tcp", "unix"]
SLOW = [(engine(hang), "GET /nodes"), (engine(drip_body), "GET /nodes"), (engine(slow_headers), "GET /nodes"),
        (engine(hang, version_too=True), "GET /version"), (engine(slow_headers, version_too=True), "GET /version")]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("behaviour, request_", SLOW,
                         ids=["silent", "dripped-body", "slow-headers", "silent-version", "slow-headers-version"])
def test_a_slow_engine_is_cut_at_the_timeout_naming_the_request(behaviour, request_, family, tmp_path):
    with serving(behaviour, family, tmp_path) as url:
        error, elapsed = collect_failure(url)
    assert error.status == "unreachable"
    assert str(error).startswith(f"{request_} on {url} did not finish within 1s"), error
    assert elapsed < TIMEOUT_S + MARGIN_S


@pytest.mark.parametrize("family", FAMILIES)
def test_an_endless_answer_is_refused_over_the_ceiling(family, tmp_path):
    with serving(engine(endless_chunks), family, tmp_path) as url:
        error, elapsed = collect_failure(url, max_answer_mib=1)
    assert error.status == "error"
    assert str(error).startswith(f"GET /nodes on {url}: answer larger than 1 MiB refused (it kept coming)")
    assert elapsed < TIMEOUT_S + MARGIN_S


@pytest.mark.parametrize("family", FAMILIES)
def test_a_declared_huge_answer_is_refused_before_it_is_read(family, tmp_path):
    with serving(engine(huge_length), family, tmp_path) as url:
        error, elapsed = collect_failure(url)
    assert error.status == "error"
    assert "answer larger than 1,024 MiB refused (it declares 3,815 MiB)" in str(error)
    assert elapsed < TIMEOUT_S + MARGIN_S


@pytest.mark.parametrize("version_too", [False, True], ids=["on-nodes", "on-version"])
@pytest.mark.parametrize("family", FAMILIES)
def test_a_503_is_an_error_with_the_engines_own_message(family, version_too, tmp_path):
    with serving(engine(unavailable, version_too=version_too), family, tmp_path) as url:
        error, _ = collect_failure(url)
    request_ = "GET /version" if version_too else "GET /nodes"
    assert error.status == "error"
    assert str(error) == f"{request_} on {url}: HTTP 503: swarm is in maintenance: raft has no leader"


@pytest.mark.parametrize("version_too", [False, True], ids=["on-nodes", "on-version"])
@pytest.mark.parametrize("family", FAMILIES)
def test_a_reset_connection_is_unreachable_in_plain_words(family, version_too, tmp_path):
    with serving(engine(reset, version_too=version_too), family, tmp_path) as url:
        error, elapsed = collect_failure(url)
    assert error.status == "unreachable"
    assert str(error).startswith(f"cannot reach the Docker engine at {url}: "), error
    assert "closed the connection" in str(error) or "reset" in str(error)
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_no_such_socket_is_unreachable_in_plain_words(tmp_path):
    url = f"unix://{tmp_path / 'absent.sock'}"
    error, _ = collect_failure(url)
    assert (error.status, str(error)) == ("unreachable", f"cannot reach the Docker engine at {url}: no such socket")


def test_a_refused_port_is_unreachable_in_plain_words():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    error, _ = collect_failure(url)
    assert (error.status, str(error)) == ("unreachable", f"cannot reach the Docker engine at {url}: connection refused")


def test_a_port_that_never_speaks_tls_is_reported_as_such(tmp_path):
    with serving(hang, "tcp", tmp_path) as url:
        error, elapsed = collect_failure(url, tls=TlsFiles(ca_file=certifi.where()))
    assert error.status == "unreachable"
    assert str(error) == f"GET /version on {url}: TLS handshake got no answer within 1s: is this a TLS port?"
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_a_version_answer_without_api_version_is_a_malformed_payload(tmp_path):
    def not_an_engine(conn: socket.socket) -> None:
        conn.sendall(answer("200 OK", b'{"podium": ["not", "this", "api"]}'))
    with serving(engine(not_an_engine, version_too=True), "tcp", tmp_path) as url:
        error, _ = collect_failure(url)
    assert (error.status, str(error)) == \
        ("error", f"GET /version on {url}: unexpected shape: no ApiVersion (is this a Docker engine?)")


@pytest.mark.parametrize("family", FAMILIES)
def test_an_answer_that_breaks_off_is_unreachable_naming_the_request(family, tmp_path):
    def truncated(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"ID\"")
    with serving(engine(truncated), family, tmp_path) as url:
        error, _ = collect_failure(url)
    assert error.status == "unreachable"
    assert str(error).startswith(f"GET /nodes on {url}: the answer broke off ("), error
    assert "IncompleteRead" in str(error) or "broken" in str(error)


def test_a_refused_api_version_is_an_error_in_the_engines_words(tmp_path):
    def too_old(conn: socket.socket) -> None:
        conn.sendall(answer("400 Bad Request", b'{"message":"client version 1.24 is too old. Minimum supported API '
                                               b'version is 1.44, please upgrade your client to a newer version"}'))
    with serving(engine(too_old), "unix", tmp_path) as url:
        error, _ = collect_failure(url, options={"api_version": "1.24"})
    assert (error.status, str(error)) == ("error", f"GET /nodes on {url}: HTTP 400: client version 1.24 is too old. "
                                                   "Minimum supported API version is 1.44, please upgrade your client "
                                                   "to a newer version")


@pytest.mark.parametrize("pinned", [1.4, "v1.40", "latest"])
def test_an_api_version_that_is_not_one_is_an_error_naming_the_key(pinned, tmp_path):
    with serving(engine(unavailable), "unix", tmp_path) as url:
        error, _ = collect_failure(url, options={"api_version": pinned})
    assert error.status == "error"
    assert str(error).startswith(f"api_version {pinned!r} in the cluster's config is not an Engine API version")


def test_an_engine_older_than_swarm_mode_is_an_error(tmp_path):
    def old_engine(conn: socket.socket) -> None:
        while read_request(conn) is not None:
            conn.sendall(answer("200 OK", b'{"Version": "1.11.2", "ApiVersion": "1.23"}'))
    with serving(old_engine, "unix", tmp_path) as url:
        error, _ = collect_failure(url)
    assert (error.status, str(error)) == ("error", f"Engine API 1.23 predates Swarm mode (API 1.24, Docker 1.12): "
                                                   f"the engine at {url} cannot be read as a swarm manager")
