"""Plain keep-alive GETs for many small JSON documents, at a quarter of requests' CPU per call.

A large Nomad region means hundreds of job specs to read, each a small document. Through
requests + urllib3 each read costs ~0.4 ms of CPU (header objects, environment merging, hooks);
here it is one `sendall` and one buffered read per call. Only the simplest exchange is handled:
`200` with a `Content-Length` and no transfer or content encoding. Anything else (a redirect, an
error status, a chunked answer, a broken connection) returns None, and the caller asks again the
usual way, so every error reads exactly as it always does. GET only: collectors never write.
Each GET is bounded like every other (`collectors.deadline`): its sockets are attached to the
request's budget, so a server that hangs or trickles is cut at `timeout_s` (Unreachable, raised:
the usual way would wait just as long), and a body over `max_bytes` is refused (AnswerTooLarge).
The settings come from the cluster's own `requests` session (`HttpJsonClient.plain_target`), so
TLS verification, CA file and client certificate are the same.
"""
from __future__ import annotations

import os
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlencode

from collectors.deadline import DEFAULT_MAX_BYTES, MIB, AnswerTooLarge, Budget, bounded, too_large

MAX_HEADER_LINE = 65536
MAX_HEADERS = 100


@dataclass(frozen=True)
class PlainTarget:
    scheme: str  # http or https
    host: str
    port: int
    prefix: str  # the base URL's path
    headers: tuple[tuple[str, str], ...]  # sent with every request (credentials among them)
    verify: bool | str  # as requests has it: False, True (with `ca_bundle`), or a CA file or directory
    ca_bundle: str | None = None
    cert: tuple[str, str | None] | None = None  # client certificate and key files
    max_bytes: int = DEFAULT_MAX_BYTES  # the cluster's ceiling for one answer
    unix_socket: str | None = None  # dialled instead of host:port (a Docker engine's socket)

    def __repr__(self) -> str:  # never the headers: they carry the token
        return f"PlainTarget({self.scheme}://{self.host}:{self.port}{self.prefix})"


class _Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reader: BinaryIO = sock.makefile("rb")
        self.used = False

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class PlainGet:
    """GETs on one keep-alive connection per calling thread. Close when done."""

    def __init__(self, target: PlainTarget, timeout_s: float):
        self.target, self.timeout_s = target, timeout_s
        self._local = threading.local()
        self._open: list[_Connection] = []
        self.broken = False  # a connection failed (refused, timed out, reset): every later get is None
        self._lock = threading.Lock()
        self._context = _tls_context(target) if target.scheme == "https" else None
        host = f"[{target.host}]" if ":" in target.host else target.host
        self.base_url = f"{target.scheme}://{host}:{target.port}{target.prefix}"
        self._head = "".join(f"{k}: {v}\r\n" for k, v in (("Host", f"{host}:{target.port}"), *target.headers))

    def get(self, path: str, params: dict[str, str]) -> bytes | None:
        """The body of a plain 200 answer, else None (ask again the usual way)."""
        if self.broken:
            return None
        url = f"{self.target.prefix}{path}?{urlencode(params)}" if params else f"{self.target.prefix}{path}"
        with bounded(self.timeout_s, f"GET {path} on {self.base_url}", max_bytes=self.target.max_bytes) as budget:
            try:
                return self._exchange(f"GET {url} HTTP/1.1\r\n{self._head}\r\n".encode("latin-1"), budget)
            except Exception:
                if budget.expired:
                    self.broken = True  # cut at the deadline: the other reads of this batch stop too
                raise

    def _exchange(self, request: bytes, budget: Budget) -> bytes | None:
        for attempt in (1, 2):
            try:
                connection = self._connection(budget)
            except (OSError, ValueError):  # refused, TLS handshake failed: the usual way will say so
                if budget.expired:
                    raise
                self.broken = True
                return None
            reused, connection.used = connection.used, True
            try:
                budget.attach_socket(connection.sock)
                connection.sock.sendall(request)
                body, keep = self._answer(connection.reader, budget)
            except AnswerTooLarge:
                self._drop(connection)  # its body is still on the wire
                raise
            except (OSError, ValueError):
                self._drop(connection)
                if budget.expired:
                    raise
                if reused and attempt == 1:
                    continue  # a kept-alive connection the server has since closed: once more, afresh
                self.broken = True
                return None
            if budget.expired:  # cut mid-answer: what was read looks merely short
                self._drop(connection)
                raise budget.overdue()
            if not keep:
                self._drop(connection)
            return body
        return None

    def _answer(self, reader: BinaryIO, budget: Budget) -> tuple[bytes | None, bool]:
        """(body or None, whether the connection can be used again)."""
        status = reader.readline(MAX_HEADER_LINE)
        if not status:
            raise ConnectionResetError("the connection closed before an answer")
        parts = status.split(None, 2)
        headers: dict[bytes, bytes] = {}
        while True:
            line = reader.readline(MAX_HEADER_LINE)
            if line in (b"\r\n", b"\n"):
                break
            if not line or len(headers) > MAX_HEADERS:
                return None, False
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get(b"content-length")
        plain = (len(parts) >= 2 and parts[0] == b"HTTP/1.1" and parts[1] == b"200" and length is not None
                 and length.isdigit() and b"transfer-encoding" not in headers
                 and headers.get(b"content-encoding", b"identity") == b"identity")
        if not plain:
            return None, False
        size = int(length)  # type: ignore[arg-type]
        if size > budget.max_bytes:
            raise too_large(budget.what, budget.max_bytes, f"it declares {size / MIB:,.0f} MiB")
        body = reader.read(size)
        if len(body) != size:
            return None, False
        return body, headers.get(b"connection", b"").lower() != b"close"

    def _connection(self, budget: Budget) -> _Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            sock = self._dial()
            budget.attach_copy(sock)  # kept through the TLS wrap: a silent or trickled handshake is cut too
            if self._context is not None:
                with budget.handshaking():
                    sock = self._context.wrap_socket(sock, server_hostname=self.target.host)
            connection = self._local.connection = _Connection(sock)
            with self._lock:
                self._open.append(connection)
        return connection

    def _dial(self) -> socket.socket:
        if self.target.unix_socket is None:
            return socket.create_connection((self.target.host, self.target.port), timeout=self.timeout_s)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout_s)
            sock.connect(self.target.unix_socket)
        except OSError:
            sock.close()
            raise
        return sock

    def _drop(self, connection: _Connection) -> None:
        self._local.connection = None
        connection.close()

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            connection.close()


def _tls_context(target: PlainTarget) -> ssl.SSLContext:
    if target.verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        where = target.verify if isinstance(target.verify, str) else target.ca_bundle
        if where is None:
            context = ssl.create_default_context()
        elif os.path.isdir(where):
            context = ssl.create_default_context(capath=where)
        else:
            context = ssl.create_default_context(cafile=where)
    if target.cert:
        context.load_cert_chain(*target.cert)
    return context
