"""JSON bodies encoded once per state: a 150 MB `/v2/apps` is not re-encoded for every request."""
from __future__ import annotations

import threading
from typing import Any, Callable

import msgspec

from sim.httpserver import Response


class EncodedBodies:
    """Bodies by key, valid while the emulator's state object stays the same one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: dict[str, bytes] = {}
        self._state: object = None

    def response(self, state: object, key: str, build: Callable[[], Any]) -> Response:
        with self._lock:
            if state is not self._state:
                self._bodies.clear()
                self._state = state
            body = self._bodies.get(key)
            if body is None:
                body = self._bodies[key] = msgspec.json.encode(build())
        return Response(200, body, {"Content-Type": "application/json"})
