"""Requests bounded in time and size, against servers that hang, trickle or never stop talking."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
import urllib3

from collectors.deadline import AnswerTooLarge, bounded, read_capped
from collectors import urllib3_deadline  # urllib3's requests inside bounded() are cuttable
from fleet.source import Unreachable

MIB = 1024 * 1024
Behaviour = Callable[[socket.socket], None]


@contextmanager
def serving(behaviour: Behaviour, family: str = "tcp", tmp_path: Path | None = None) -> Iterator[str]:
    """A loopback server (tcp, or a unix socket in tmp_path) handing each connection to `behaviour`."""
    if family == "unix":
        assert tmp_path is not None, "a unix socket needs a folder"
        path = tmp_path / "engine.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen()
        url = f"unix://{path}"
    else:
        listener = socket.create_server(("127.0.0.1", 0))
        url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    stop = threading.Event()
    connections: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            connections.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    def handle(conn: socket.socket) -> None:
        try:
            behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # frees a behaviour still sending or sleeping on it
            except OSError:
                pass


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[str]:
    """An HTTP URL on loopback whose server reads each request, then hands the connection to `behaviour`."""
    def after_the_request(conn: socket.socket) -> None:
        conn.recv(65536)
        behaviour(conn)

    with serving(after_the_request) as url:
        yield url.replace("tcp://", "http://", 1)


def trickle(text: bytes) -> Behaviour:
    def send(conn: socket.socket) -> None:
        for byte in text:
            conn.sendall(bytes([byte]))
            time.sleep(0.2)
    return send


HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"


def hang(conn: socket.socket) -> None:
    time.sleep(30)


def endless_chunks(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" + b"1," * 32768
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        conn.sendall(frame)


def huge_length(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4000000000\r\n\r\n")
    while True:
        conn.sendall(b"0" * 65536)


def returning_late(call: Callable[..., object], seconds: float) -> Callable[..., object]:
    """`call`, handing back its answer only `seconds` later: a busy host's stalled thread."""
    def late(*args: object, **kwargs: object) -> object:
        answer = call(*args, **kwargs)
        time.sleep(seconds)
        return answer
    return late


def timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        action()
    timed.error = caught.value  # type: ignore[attr-defined]
    return time.monotonic() - started


def get_with_requests(url: str, seconds: float, max_bytes: int = 64 * MIB) -> bytes:
    with bounded(seconds, f"GET / on {url}", max_bytes=max_bytes):
        response = requests.get(url, timeout=30, stream=True)
        return read_capped(response.raw)


def get_with_urllib3(url: str, seconds: float, max_bytes: int = 64 * MIB) -> bytes:
    with bounded(seconds, f"GET / on {url}", max_bytes=max_bytes):
        response = urllib3.PoolManager().request("GET", url, timeout=30, preload_content=False, retries=False)
        return read_capped(response)


@pytest.mark.parametrize("get", [get_with_requests, get_with_urllib3])
@pytest.mark.parametrize("behaviour", [hang, trickle(HEADERS), trickle(HEADERS[:-2])],
                         ids=["silent", "trickled-body", "trickled-headers"])
def test_a_slow_server_is_cut_at_the_deadline_whatever_it_trickles(get, behaviour):
    with raw_server(behaviour) as url:
        seconds = timed(lambda: get(url, 1.0))
    assert isinstance(timed.error, Unreachable)
    assert "did not finish within 1s" in str(timed.error)
    assert seconds < 2.5


@pytest.mark.parametrize("get", [get_with_requests, get_with_urllib3])
@pytest.mark.parametrize("behaviour, detail", [(endless_chunks, "it kept coming"),
                                               (huge_length, "it declares 3,815 MiB")])
def test_an_answer_over_the_ceiling_is_refused_before_it_is_held(get, behaviour, detail):
    with raw_server(behaviour) as url:
        seconds = timed(lambda: get(url, 30.0, max_bytes=8 * MIB))
    assert isinstance(timed.error, AnswerTooLarge)
    assert f"answer larger than 8 MiB refused ({detail})" in str(timed.error)
    assert seconds < 5


def test_a_stream_that_keeps_making_progress_is_renewed_and_one_that_stops_is_cut():
    with raw_server(trickle(HEADERS + b"x" * 40)) as url:
        started = time.monotonic()
        with pytest.raises(Unreachable):
            with bounded(0.5, "watch") as budget:
                response = urllib3.PoolManager().request("GET", url, preload_content=False, retries=False)
                for _ in range(5):  # five bytes in a second, renewing each time: still alive
                    assert response.read(1)
                    budget.renew()
                assert time.monotonic() - started > 1.0 + len(HEADERS) * 0.2 - 0.5
                while response.read(1):
                    pass  # no more renewals: cut half a second later
    assert time.monotonic() - started < (len(HEADERS) + 5) * 0.2 + 2.0


def test_a_healthy_answer_passes_untouched():
    def answer(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}')

    with raw_server(answer) as url:
        assert get_with_requests(url, 2.0) == b'{"ok":true}'
        assert get_with_urllib3(url, 2.0) == b'{"ok":true}'


def test_a_tls_handshake_the_server_trickles_is_cut_at_the_deadline():
    # a byte every 0.2 s never trips a per-read timeout; the handshake never completes either
    with raw_server(trickle(b"\x16\x03\x01\x00\x40" + b"\x00" * 60)) as url:
        https = url.replace("http://", "https://")
        seconds = timed(lambda: get_with_urllib3(https, 1.0))
    assert isinstance(timed.error, Unreachable)
    assert str(timed.error).endswith(": TLS handshake got no answer within 1s: is this a TLS port?")
    assert seconds < 2.5


def test_a_cut_that_lands_on_a_handshake_points_at_tls_whatever_the_handshake_raises():
    """On a busy host a handshake cut at its deadline can end in a plain timeout (its socket's own
    fired in the same moment) or a broken pipe, not a TLS error: it is the handshake's all the same.
    A cut outside any handshake is not."""
    for raised in (TimeoutError("_ssl.c:989: The handshake operation timed out"), BrokenPipeError(32, "Broken pipe")):
        with pytest.raises(Unreachable, match=r"^GET /v1/nodes on https://n:4646: TLS handshake got no answer "
                                              r"within 1s: is this a TLS port\?$"):
            with bounded(1.0, "GET /v1/nodes on https://n:4646") as budget:
                with budget.handshaking():
                    budget.cut()
                    raise raised
    with pytest.raises(Unreachable, match=r"did not finish within 1s"):
        with bounded(1.0, "GET /v1/nodes on https://n:4646") as budget:
            with budget.handshaking():
                pass  # done in time: the cut comes later, while the answer is read
            budget.cut()
            raise TimeoutError("timed out")


def test_a_tls_port_reached_only_after_the_deadline_is_named_so_through_urllib3(monkeypatch):
    """A busy host can stall a request between its TCP connect and its handshake's first byte until the
    deadline passes: urllib3's handshake then fails on a shut socket (a broken pipe, not a TLS error),
    and the message must still point at TLS."""
    # past the 1-s deadline: the watchdog shuts the socket down before the handshake begins
    monkeypatch.setattr(urllib3_deadline, "_original_new_conn", returning_late(urllib3_deadline._original_new_conn, 1.3))
    with raw_server(hang) as url:
        https = url.replace("http://", "https://")
        timed(lambda: get_with_urllib3(https, 1.0))
    assert isinstance(timed.error, Unreachable)
    assert str(timed.error).endswith(": TLS handshake got no answer within 1s: is this a TLS port?")


def test_requests_finished_long_before_their_deadline_are_not_held_until_it():
    # a round's reads are bounded by the poll timeout (minutes); thousands finish well before it
    from collectors.deadline import COMPACT_AFTER, WATCHDOG

    with raw_server(trickle(HEADERS + b"x" * 40)) as url:
        slow = threading.Thread(target=lambda: timed(lambda: get_with_urllib3(url, 1.0)))
        slow.start()  # live throughout: dropping the finished ones must not drop it
        for _ in range(3 * COMPACT_AFTER):
            with bounded(600, "a quick read"):
                pass
        assert WATCHDOG.entries() <= 2 * COMPACT_AFTER
        slow.join(10)
    assert isinstance(timed.error, Unreachable) and "did not finish within 1s" in str(timed.error)


def test_a_kept_alive_connection_whose_answer_says_close_is_still_cut_at_the_deadline():
    """http.client hands the socket of an answer saying `Connection: close` over to the answer: a
    request sent on a kept-alive connection must stay cuttable all the same (a proxy's watch stream)."""
    def keep_alive_then_drip(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')
        conn.recv(65536)  # the next request, on the same connection
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"1\r\n \r\n")
            time.sleep(0.2)

    def drip(pool: urllib3.PoolManager, url: str) -> bytes:
        with bounded(1.0, f"GET / on {url}"):
            return read_capped(pool.request("GET", url, preload_content=False, retries=False))

    with raw_server(keep_alive_then_drip) as url:
        pool = urllib3.PoolManager()
        with bounded(5.0, "the first request"):
            assert pool.request("GET", url, retries=False).data == b"{}"
        seconds = timed(lambda: drip(pool, url))
    assert isinstance(timed.error, Unreachable) and "did not finish within 1s" in str(timed.error)
    assert seconds < 2.5
