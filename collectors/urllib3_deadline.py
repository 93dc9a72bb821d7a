"""urllib3's connections inside `bounded(...)` (collectors/deadline.py): cuttable by the watchdog.

Every HTTP library Podium uses (requests, the Kubernetes client, the docker SDK) sends through
urllib3's `HTTPConnection`. Importing this module wraps its `request` and (private, pinned urllib3
2.x) its `_new_conn` once, so each connection opened or used inside `bounded(...)` is known to that
request's watchdog entry — from its TCP socket on, so a trickled TLS handshake is cut too. It also
wraps the (private) functions that run a TLS handshake, so a cut that lands on one is named as the
handshake's. Every module that sends through urllib3 imports this one; a worker process reading
only with plain sockets never does.
"""
from __future__ import annotations

import socket
from typing import Any

import urllib3.connection

from collectors import deadline

_original_new_conn = urllib3.connection.HTTPConnection._new_conn
_original_request = urllib3.connection.HTTPConnection.request
_original_tls_wrap = urllib3.connection._ssl_wrap_socket_and_match_hostname
_original_tls_to_proxy = urllib3.connection.HTTPSConnection._connect_tls_proxy


def _new_conn_within_budget(self: Any) -> socket.socket:
    # the TCP socket, before any TLS handshake: a handshake the server trickles is cut too
    sock = _original_new_conn(self)
    budget = deadline.current()
    if budget is not None:
        budget.attach_copy(sock)
    return sock


def _request_within_budget(self: Any, *args: Any, **kwargs: Any) -> Any:
    budget = deadline.current()
    if budget is not None:
        budget.attach_connection(self)  # a kept-alive connection does not connect again
        if self.sock is not None:  # kept alive: an answer saying `Connection: close` takes the socket
            budget.attach_copy(self.sock)  # from the connection, so the watchdog keeps a handle of its own
    return _original_request(self, *args, **kwargs)


def _tls_wrap_within_budget(*args: Any, **kwargs: Any) -> Any:
    with deadline.tls_handshake():
        return _original_tls_wrap(*args, **kwargs)


def _tls_to_proxy_within_budget(self: Any, *args: Any, **kwargs: Any) -> Any:
    with deadline.tls_handshake():
        return _original_tls_to_proxy(self, *args, **kwargs)


def install() -> None:
    """Make every urllib3 connection that is opened or starts a request inside `bounded(...)`
    cuttable, and its TLS handshakes known to the request's budget. Idempotent."""
    urllib3.connection.HTTPConnection._new_conn = _new_conn_within_budget  # type: ignore[method-assign]
    urllib3.connection.HTTPConnection.request = _request_within_budget  # type: ignore[method-assign]
    urllib3.connection._ssl_wrap_socket_and_match_hostname = _tls_wrap_within_budget
    urllib3.connection.HTTPSConnection._connect_tls_proxy = _tls_to_proxy_within_budget  # type: ignore[method-assign]


install()
