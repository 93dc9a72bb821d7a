"""Serve recorded Nomad payloads byte for byte, with the headers a Nomad server adds.

Tests hand in `{path: bytes}` read from upstream recordings; clients then read them over HTTP as
they would from a real agent. Query strings are ignored: a recording answers for its path.
"""
from __future__ import annotations

from sim.httpserver import Request, Response


class RecordedApi:
    def __init__(self, payloads: dict[str, bytes], *, index: int = 57):
        self.payloads = payloads
        self.index = index

    def __call__(self, request: Request) -> Response:
        body = self.payloads.get(request.path)
        if body is None:
            return Response(404, f"Invalid URL path: {request.path}", {"Content-Type": "text/plain"})
        return Response(200, body, {"Content-Type": "application/json", "X-Nomad-Index": str(self.index),
                                    "X-Nomad-KnownLeader": "true", "X-Nomad-LastContact": "0"})
