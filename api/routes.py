"""The read-only routes (http-api.md), served from the latest snapshot: no cluster I/O per request.

Handlers are plain functions; Starlette runs them on its thread pool, so encoding a large snapshot
the first time never blocks the event loop that serves the pages.
"""
from __future__ import annotations

from typing import Any, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from api.access import refusal
from api.metrics import CONTENT_TYPE, FleetMetrics
from api.published import Body, Publisher
from fleet.ha.coordinator import replica_id
from fleet.runtime import FleetRuntime

READ_METHODS = ("GET", "HEAD")
EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

Handler = Callable[[Request], Response]


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def json_body(request: Request, body: Body) -> Response:
    """Cached bytes; the gzip copy when the client accepts it (the gzip middleware leaves it alone)."""
    headers = {"Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(body.gzipped, media_type="application/json", headers=headers)
    return Response(body.raw, media_type="application/json", headers=headers)


def json_value(value: Any) -> Response:
    return Response(msgspec.json.encode(value), media_type="application/json")


class Api:
    """The routes of one dashboard process, over its runtime (None until the start-up hook made it)."""

    def __init__(self, runtime: Callable[[], FleetRuntime | None], publisher: Publisher, metrics: FleetMetrics):
        self.runtime = runtime
        self.publisher = publisher
        self.metrics = metrics

    def routes(self) -> list[Route]:
        table: dict[str, Handler] = {
            "/healthz": self.healthz, "/readyz": self.readyz, "/metrics": self.prometheus,
            "/api/v1/snapshot": self.snapshot, "/api/v1/clusters": self.clusters,
            "/api/v1/clusters/{name}": self.cluster, "/api/v1/problems": self.problems,
            "/api/v1/analysis": self.analysis, "/api/v1/status": self.status,
            "/api/{rest:path}": self.unknown,
        }
        return [Route(path, self.guarded(handler), methods=EVERY_METHOD) for path, handler in table.items()]

    def guarded(self, handler: Handler) -> Handler:
        """Every route: read methods only, then the token check, then the answer."""
        def answer(request: Request) -> Response:
            if request.method not in READ_METHODS:
                return error(405, f"{request.method} is not allowed: this API is read-only",
                             {"Allow": ", ".join(READ_METHODS)})
            why = refusal(self.runtime(), request.url.path, request.headers.get("authorization"))
            if why is not None:
                return error(401, why, {"WWW-Authenticate": 'Bearer realm="podium"'})
            return handler(request)
        return answer

    # -- handlers ------------------------------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    def readyz(self, request: Request) -> Response:
        runtime = self.runtime()
        if runtime is None:
            return PlainTextResponse("not ready: the server is starting", status_code=503)
        if runtime.last_round_at is not None:
            return PlainTextResponse("ok")
        if runtime.config_error is not None:
            reason = "the configuration has problems (see Settings)"
        elif runtime.poller is None:
            reason = "no clusters configured"
        else:
            reason = "the first collection round is running"
        return PlainTextResponse(f"not ready: {reason}", status_code=503)

    def status(self, request: Request) -> Response:
        runtime = self.runtime()
        if runtime is None:
            return json_value({"replica": replica_id(), "role": "single", "leader": None, "last_round_at": None})
        status = runtime.status()
        return json_value({"replica": status.replica, "role": status.role, "leader": status.leader,
                           "last_round_at": status.last_round_at})

    def prometheus(self, request: Request) -> Response:
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

    def snapshot(self, request: Request) -> Response:
        published = self.publisher.current()
        if published is None:
            return error(503, "no snapshot yet: no clusters configured, or the server is starting")
        return json_body(request, published.whole())

    def clusters(self, request: Request) -> Response:
        published = self.publisher.current()
        return json_body(request, published.clusters()) if published else json_value([])

    def cluster(self, request: Request) -> Response:
        name = request.path_params["name"]
        published = self.publisher.current()
        body = published.cluster(name) if published else None
        if body is None:
            return error(404, f"no cluster named {name!r} in the latest snapshot")
        return json_body(request, body)

    def problems(self, request: Request) -> Response:
        published = self.publisher.current()
        return json_body(request, published.problems()) if published else json_value([])

    def analysis(self, request: Request) -> Response:
        published = self.publisher.current()
        if published is None:
            return error(503, "no snapshot yet: no clusters configured, or the server is starting")
        all_nodes = request.query_params.get("all_nodes", "").lower() in ("1", "true", "yes")
        return json_body(request, published.analysis(all_nodes=all_nodes))

    def unknown(self, request: Request) -> Response:
        return error(404, f"no such API route: {request.url.path} (see docs/api.md)")
