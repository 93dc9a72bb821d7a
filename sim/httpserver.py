"""A small threaded HTTP(S) server the emulators share: routing is theirs, transport is here.

Every request is recorded (method, path, query) so tests can audit that collectors only read.
A fault hook lets tests make an emulator misbehave (refuse, hang, drip, error) without touching
its handlers. Imports nothing from the app: the emulators must be able to disagree with it.
"""
from __future__ import annotations

import gc
import json
import os
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

# a full GC pass in an emulator process after this many middle-generation passes (CPython's default: 10)
FULL_GC_EVERY = 1000


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int = 200
    body: Any = None  # bytes, str, or anything JSON-serializable
    headers: dict[str, str] = field(default_factory=dict)
    # when set, the body is streamed chunk by chunk (watch streams, event streams)
    stream: Iterable[bytes] | None = None
    # when set, only this many bytes of the body are sent (the full length is announced), then the
    # connection closes: a truncated body
    truncate_to: int | None = None
    # the connection closes without a byte of answer: a server (or a proxy) that closed an idle
    # keep-alive connection just as the request came
    hang_up: bool = False

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


# Read-only audit: when PODIUM_EMULATOR_AUDIT names a file, every request an emulator sees that is
# not a read is appended to it (emulators in a child process, such as the dashboard's demo fleet,
# inherit the variable, so they are audited too). Requests carrying the `requests` library's
# default User-Agent are a test poking an emulator by hand (collectors identify themselves:
# podium/1, the Kubernetes and Docker client libraries).
AUDIT_ENV = "PODIUM_EMULATOR_AUDIT"
READ_METHODS = frozenset({"GET", "HEAD"})
_audit_lock = threading.Lock()


def _audit(request: "Request", emulator: str) -> None:
    target = os.environ.get(AUDIT_ENV)
    if not target or request.method in READ_METHODS:
        return
    if (request.header("user-agent") or "").startswith("python-requests/"):
        return
    with _audit_lock, open(target, "a", encoding="utf-8") as audit:
        audit.write(f"{request.method} {request.path} ({emulator})\n")


Handler = Callable[[Request], Response]
# a fault returns a Response to send instead, or None to let the handler answer; it may also sleep
Fault = Callable[[Request], Response | None]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms per request on Linux loopback)
    disable_nagle_algorithm = True
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the record instead
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, body)
        emulator = self.server.emulator
        emulator.record(request)
        _audit(request, type(emulator.handler).__name__)
        response = None
        if emulator.fault is not None:
            response = emulator.fault(request)
        if response is None:
            try:
                response = emulator.handler(request)
            except Exception as exc:  # an emulator bug answers 500 like a broken server would
                response = json_response({"message": f"emulator error: {exc}"}, 500)
        self._send(response)

    def _send(self, response: Response) -> None:
        if response.hang_up:
            self.close_connection = True
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.stream is not None:
            self.send_header("Transfer-Encoding", "chunked")
            # said, since the connection closes after the stream: a client that took it for a
            # keep-alive one would send its next request into a closing socket
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for chunk in response.stream:
                    if not chunk:
                        continue
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        payload = response.encoded()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if response.truncate_to is not None:
            payload, self.close_connection = payload[:response.truncate_to], True
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: "EmulatorServer"

    def __init__(self, *args: Any, **kwargs: Any):
        self.tls_context: ssl.SSLContext | None = None
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        if self.tls_context is not None:  # the context of the moment: present() may swap it
            try:
                connection = self.tls_context.wrap_socket(connection, server_side=True)
            except OSError:  # a failed handshake: the client gave up or distrusts us
                connection.close()
                raise
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (or was cut off by a fault) is not worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self._connections_lock:
            open_now, self.connections = self.connections, set()
        for connection in open_now:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class EmulatorServer:
    """Serve `handler` on host:port (port 0 picks a free one), optionally over TLS."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0,
                 certfile: str | None = None, keyfile: str | None = None, client_ca: str | None = None):
        self.handler = handler
        self.fault: Fault | None = None
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self._lock = threading.Lock()
        self._server = _Server((host, port), _RequestHandler)
        self._server.emulator = self
        self.scheme = "http"
        if certfile:
            self._server.tls_context = _tls_context(certfile, keyfile, client_ca)
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append((request.method, request.path, request.query))

    def methods_seen(self) -> set[str]:
        with self._lock:
            return {method for method, _, _ in self.requests}

    def start(self) -> "EmulatorServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"emulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def present(self, certfile: str, keyfile: str | None = None, client_ca: str | None = None) -> None:
        """Present another certificate from now on (a rotated or impostor certificate); open
        connections are dropped so the next request shakes hands again."""
        if self._server.tls_context is None:
            raise ValueError("present() needs an emulator started with a certificate")
        self._server.tls_context = _tls_context(certfile, keyfile, client_ca)
        self._server.drop_connections()

    def drop_connections(self) -> None:
        """Close every open (keep-alive) connection, as a restarting server does."""
        self._server.drop_connections()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.drop_connections()  # else server_close() waits for idle keep-alive connections
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _tls_context(certfile: str, keyfile: str | None, client_ca: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


def hang(seconds: float) -> Fault:
    """A fault that accepts the request and then does not answer for `seconds`."""

    def fault(request: Request) -> Response | None:
        time.sleep(seconds)
        return json_response({"message": "too late"}, 504)

    return fault


def status(code: int, body: Any = None, headers: dict[str, str] | None = None) -> Fault:
    """A fault that answers every request with `code`."""

    def fault(request: Request) -> Response | None:
        return json_response(body if body is not None else {"message": f"injected {code}"}, code, headers)

    return fault


def serve_until_stdin_closes(stop: Callable[[], None]) -> None:
    """For an emulator run from the command line: serve until stdin closes (or Ctrl-C), then stop."""
    settle_heap()
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def settle_heap() -> None:
    """An emulator process holds millions of long-lived objects (its scenario, then the pages it
    renders once): a full pass of Python's cyclic GC over them took 0.15-0.5 s, with the GIL held
    and every answer stalled, a few times a minute under load. A real server's collector does not
    stop the world for that long. So what exists now is frozen out of the GC's passes, and full
    passes over what comes later (the rendered pages) are made rarer."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_GC_EVERY)
