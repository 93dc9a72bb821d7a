"""The Nomad HTTP API (`/v1/...`) over a `Store`, with the semantics clients rely on.

- Blocking queries: `?index=N&wait=5s` waits until the table's index passes N; every answer
  carries `X-Nomad-Index`, `X-Nomad-KnownLeader` and `X-Nomad-LastContact`.
- Pagination: `per_page` and `next_token`, the token of the next page in `X-Nomad-NextToken`.
- `?filter=` expressions (see `sim.nomad.filters`), `?prefix=`, `?namespace=` (`*` for all).
- `?region=`: answered by that region's servers; an unknown region answers 500 "No path to
  region", an unreachable one a forwarding error, a leaderless one "No cluster leader" unless
  `?stale` lets a follower answer.
- ACLs: a token in `X-Nomad-Token` or `Authorization: Bearer`; 403 "Permission denied" when the
  token's policy does not cover the endpoint, "ACL token not found" for an unknown token.
Errors are plain text, as Nomad writes them. Only GET is served: this emulator is read-only.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from typing import Any, Callable
from urllib.parse import unquote

from sim.httpserver import Request, Response
from sim.nomad.admin import Admin
from sim.nomad.files import Files
from sim.nomad.filters import FilterError, compile_filter
from sim.nomad.store import Item, Store
from sim.nomad.views import ApiError, Call, Views

# policy name -> capabilities; tokens map a secret to a policy
POLICIES: dict[str, set[str]] = {
    "management": {"agent:read", "node:read", "namespace:read", "operator:read", "management"},
    "read-only": {"agent:read", "node:read", "namespace:read"},
    "jobs-only": {"namespace:read"},
    "no-agent": {"node:read", "namespace:read"},
}
MAX_WAIT_S = 600.0
LOCAL_PATHS = ("/v1/agent/", "/v1/regions", "/v1/metrics")
PAGE_CACHE_BYTES = 400 * 1024 * 1024  # joined list pages kept for the next request of the same page
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wait(text: str | None) -> float:
    if not text:
        return 300.0
    match = _DURATION.match(text)
    if not match:
        raise ApiError(400, f"Invalid wait time: time: invalid duration {text!r}")
    return min(MAX_WAIT_S, float(match.group(1)) * _UNITS[match.group(2)])


class NomadApi:
    """Route `/v1/...` requests; one instance per emulated server (its `local_region`)."""

    def __init__(self, store: Store, local_region: str, *, tokens: dict[str, str] | None = None,
                 heartbeat_s: float = 10.0):
        self.store = store
        self.local_region = local_region
        self.tokens = tokens  # None: ACLs disabled
        self.heartbeat_s = heartbeat_s
        self.views = Views(store, heartbeat_s)
        self._filtered: dict[tuple[int, int, str], tuple[list[Item], list[Item]]] = {}
        # page bodies already joined, while the same cached list is being served: a 10 MB page is
        # three copies of its bytes to build (a Go server encodes it far faster than Python joins it)
        self._pages: dict[tuple, tuple[list[Item], bytes]] = {}
        routes = self.views.routes() + Admin(store, tokens).routes() + Files(self.views).routes()
        self.routes: list[tuple[re.Pattern[str], str | None, Callable[..., Any]]] = [
            (re.compile(pattern), capability, handler) for pattern, capability, handler in routes]

    def __call__(self, request: Request) -> Response:
        try:
            if request.method not in ("GET", "HEAD"):
                raise ApiError(405, "Invalid method")
            return self.dispatch(request)
        except ApiError as exc:
            return Response(exc.status, exc.message, {"Content-Type": "text/plain; charset=utf-8"})

    def dispatch(self, request: Request) -> Response:
        for pattern, capability, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            call = self.resolve(request, capability)
            result = handler(call, *(unquote(g) for g in match.groups()))
            if isinstance(result, Response):
                return result
            return self.answer(call, result)
        raise ApiError(404, f"Invalid URL path: {request.path}")

    def resolve(self, request: Request, capability: str | None) -> Call:
        capabilities = self.authorize(request, capability)
        local = request.path.startswith(LOCAL_PATHS)  # answered by this agent, without Raft or forwarding
        name = self.local_region if local else (request.param("region") or self.local_region)
        region = self.store.region(name)
        if region is None:
            raise ApiError(500, "No path to region")
        stale = request.param("stale") is not None
        if name != self.local_region and not region.reachable:
            raise ApiError(500, f"rpc error: failed to get conn: dial tcp {region.leader}: i/o timeout")
        if not region.has_leader and not stale and not local:
            raise ApiError(500, "No cluster leader")
        call = Call(request, region, request.param("namespace") or "default", capabilities, stale)
        call.headers = {"X-Nomad-KnownLeader": "true" if region.has_leader else "false",
                        "X-Nomad-LastContact": "0" if region.has_leader else "15230"}
        return call

    def authorize(self, request: Request, capability: str | None) -> set[str]:
        if self.tokens is None:
            return set(POLICIES["management"])
        secret = request.header("x-nomad-token")
        bearer = request.header("authorization") or ""
        if not secret and bearer.lower().startswith("bearer "):
            secret = bearer[7:].strip()
        if not secret:
            capabilities: set[str] = set()  # the anonymous policy grants nothing here
        elif secret not in self.tokens:
            raise ApiError(403, "ACL token not found")
        else:
            capabilities = POLICIES[self.tokens[secret]]
        if capability is not None and capability not in capabilities:
            raise ApiError(403, "Permission denied")
        return capabilities

    def answer(self, call: Call, result: Any) -> Response:
        if isinstance(result, tuple):  # (table, items or body): a blocking-query-capable read
            table, body = result
            index = self.block(call, table)
            if callable(body):
                body = body()
            listing = isinstance(body, list) and (not body or isinstance(body[0], Item))
            if isinstance(body, bytes):  # already rendered (see Store.body)
                payload = body
            else:
                payload = self.page(call, body) if listing else json.dumps(body).encode()
            call.headers["X-Nomad-Index"] = str(index)
            return Response(200, payload, {"Content-Type": "application/json", **call.headers})
        return Response(200, json.dumps(result).encode(), {"Content-Type": "application/json"})

    def block(self, call: Call, table: str) -> int:
        wanted = call.request.param("index")
        region = call.region.name
        if not wanted:
            return self.store.index(region, table)
        try:
            index = int(wanted)
        except ValueError:
            raise ApiError(400, f"Invalid index: {wanted!r}") from None
        return self.store.wait_for_change(region, table, index, parse_wait(call.request.param("wait")))

    def filtered(self, items: list[Item], expression: str) -> list[Item]:
        """Items the expression keeps; remembered while the same cached list is being served."""
        key = (id(items), len(items), expression)
        found = self._filtered.get(key)
        if found is None or found[0] is not items:
            try:
                keep = compile_filter(expression)
            except FilterError as exc:
                raise ApiError(400, str(exc)) from None
            found = (items, [i for i in items if keep(i.view())])
            if len(self._filtered) > 32:
                self._filtered.clear()
            self._filtered[key] = found
        return found[1]

    def page(self, call: Call, items: list[Item]) -> bytes:
        request = call.request
        if expression := request.param("filter"):
            items = self.filtered(items, expression)
        if call.namespace != "*":
            items = [i for i in items if i.namespace in ("", call.namespace)]
        if prefix := request.param("prefix"):
            items = [i for i in items if i.key.split(".")[-1].startswith(prefix)]
        start = bisect_left(items, token, key=lambda i: i.key) if (token := request.param("next_token")) else 0
        end = len(items)
        per_page = request.param("per_page")
        if per_page:
            try:
                size = int(per_page)
            except ValueError:
                raise ApiError(400, f"Invalid per_page: {per_page!r}") from None
            if 0 < size < end - start:
                end = start + size
                call.headers["X-Nomad-NextToken"] = items[end].key
        return self.joined(items, start, end)

    def joined(self, items: list[Item], start: int, end: int) -> bytes:
        """The JSON array of items[start:end], remembered while the same list object is served."""
        key = (id(items), start, end)
        found = self._pages.get(key)
        if found is None or found[0] is not items:
            found = (items, b"[" + b",".join([i.body for i in items[start:end]]) + b"]")
            if sum(len(body) for _, body in self._pages.values()) > PAGE_CACHE_BYTES:
                self._pages.clear()
            self._pages[key] = found
        return found[1]

