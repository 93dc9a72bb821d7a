"""Raw-socket servers that misbehave in one way each, whatever the request.

Each listener plays one orchestrator's API (its `side`) with one fault. Raw sockets, not an HTTP
server: the faults live below HTTP (a status line sent a byte a second, a reset, a port that never
speaks TLS). A listener can be healed: from then on it forwards each new connection to a healthy
emulator of its side (connections already dripping go on dripping, as a wedged worker would).
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Callable

from tests.trust.faultserver.shapes import JSON, error_503, first_answer

FAULTS = ("hang", "drip", "slow_headers", "endless", "huge", "not_tls", "reset", "http_503", "refused")
# faster than any socket timeout the tests set: only a total deadline stops a drip
BYTE_EVERY_S = 0.5
# a drip sends this much whitespace before the answer: it never completes while a test runs
DRIP_PADDING = b" " * 1800
HUGE_LENGTH = 4_000_000_000
BLOCK = 256 * 1024
HEAD_LIMIT = 64 * 1024


def read_head(conn: socket.socket) -> bytes:
    """The request line and headers (the collectors only GET: there is no body)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def hold(conn: socket.socket) -> None:
    """Never answer: wait until the client goes away."""
    while conn.recv(65536):
        pass


def head(status: str, content_type: str, length: int | None, *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}",
             f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def trickle(conn: socket.socket, data: bytes) -> None:
    for offset in range(len(data)):
        conn.sendall(data[offset:offset + 1])
        time.sleep(BYTE_EVERY_S)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def hang(conn: socket.socket, side: str) -> None:
    read_head(conn)
    hold(conn)


def not_tls(conn: socket.socket, side: str) -> None:
    hold(conn)  # the client's TLS hello is read and never answered


def drip(conn: socket.socket, side: str) -> None:
    read_head(conn)
    body = DRIP_PADDING + first_answer(side)
    conn.sendall(head("200 OK", JSON, len(body)))
    trickle(conn, body)


def slow_headers(conn: socket.socket, side: str) -> None:
    read_head(conn)
    body = first_answer(side)
    trickle(conn, head("200 OK", JSON, len(body)) + body)


def endless(conn: socket.socket, side: str) -> None:
    read_head(conn)
    conn.sendall(head("200 OK", JSON, None) + chunk(b'{"items":['))
    block = chunk(b'{"metadata":{"name":"again-and-again"}},' * 6000)
    while True:
        conn.sendall(block)


def huge(conn: socket.socket, side: str) -> None:
    read_head(conn)
    conn.sendall(head("200 OK", JSON, HUGE_LENGTH))
    block = b" " * BLOCK
    for _ in range(HUGE_LENGTH // BLOCK):
        conn.sendall(block)


def reset(conn: socket.socket, side: str) -> None:
    """Close with the request unread (and SO_LINGER 0 on TCP): the client's read fails with a reset."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        peeked = conn.recv(HEAD_LIMIT, socket.MSG_PEEK)
        if not peeked or b"\r\n\r\n" in peeked:
            break
        time.sleep(0.01)
    if conn.family != socket.AF_UNIX:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def http_503(conn: socket.socket, side: str) -> None:
    request = read_head(conn).decode("latin-1")
    credentials = " ".join(line.split(":", 1)[1].strip() for line in request.split("\r\n")[1:]
                           if line.lower().startswith(("authorization:", "x-nomad-token:")))
    content_type, body = error_503(side, credentials)
    conn.sendall(head("503 Service Unavailable", content_type, len(body), "Connection: close") + body)


BEHAVIOURS: dict[str, Callable[[socket.socket, str], None]] = {
    "hang": hang, "drip": drip, "slow_headers": slow_headers, "endless": endless, "huge": huge,
    "not_tls": not_tls, "reset": reset, "http_503": http_503,
}


def forward(conn: socket.socket, upstream: tuple[str, int]) -> None:
    """Pipe the connection to a healthy server, both ways, until either side closes."""
    try:
        other = socket.create_connection(upstream, timeout=10)
    except OSError:
        return
    other.settimeout(None)

    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    threading.Thread(target=pump, args=(other, conn), daemon=True).start()
    pump(conn, other)
    other.close()


class Listener:
    """One (side, fault) on its own port or unix socket; `refused` binds without listening."""

    def __init__(self, side: str, fault: str, sock: socket.socket, url: str, upstream: tuple[str, int]):
        self.side, self.fault, self.sock, self.url, self.upstream = side, fault, sock, url, upstream
        self.healthy = False
        self.accepted = 0

    @property
    def name(self) -> str:
        return f"{self.side}/{self.fault}"

    def start(self) -> None:
        if self.fault != "refused":
            self.sock.listen(64)
            threading.Thread(target=self._accept, name=f"faults:{self.name}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        try:
            if self.healthy:
                forward(conn, self.upstream)
            else:
                BEHAVIOURS[self.fault](conn, self.side)
        except OSError:
            pass  # the client gave up (or was cut off by its deadline): that is the point
        finally:
            conn.close()


def tcp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def unix_socket(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    return sock
