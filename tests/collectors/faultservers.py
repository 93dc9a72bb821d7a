"""Raw-socket loopback servers that misbehave in each way a real API server can (hang, drip, talk
forever, reset, answer 503), for the bounds tests of the HTTP collectors (Nomad, Marathon, Mesos)."""
from __future__ import annotations

import socket
import struct
import time
from typing import Callable

import pytest

from collectors.base import Collector
from fleet.source import SourceError

from tests.collectors.test_deadline import HEADERS, endless_chunks, hang, huge_length, raw_server, trickle

__all__ = ["FAULTS", "raw_server", "unavailable", "dripping_events", "failing_collect"]
Behaviour = Callable[[socket.socket], None]


def drip(conn: socket.socket) -> None:
    """Status line and headers at once, then the body a byte at a time, never done."""
    conn.sendall(HEADERS)
    while True:
        conn.sendall(b" ")
        time.sleep(0.2)


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    conn.close()


def unavailable(body: bytes, content_type: str = "text/plain") -> Behaviour:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (content_type.encode(), len(body), body))
    return answer


def dripping_events(conn: socket.socket) -> None:
    """An event stream that sends its headers, then half an event a byte at a time, never ending it."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    while True:
        conn.sendall(b"1\r\nx\r\n")
        time.sleep(0.1)


# name -> (behaviour, whether the URL is https): the transport faults every collector must bound
FAULTS: dict[str, tuple[Behaviour, bool]] = {
    "hang": (hang, False),
    "headers then drip": (drip, False),
    "slow headers": (trickle(HEADERS[:-2]), False),
    "endless chunked body": (endless_chunks, False),
    "huge Content-Length": (huge_length, False),
    "TLS port that never speaks TLS": (hang, True),
    "reset": (reset, False),
}


def failing_collect(collector: Collector, timeout_s: float = 1.0) -> tuple[SourceError, float]:
    """The error one collection raises, and how long it took; the collector is closed."""
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as caught:
            collector.collect(timeout_s=timeout_s)
        return caught.value, time.monotonic() - started
    finally:
        collector.close()
