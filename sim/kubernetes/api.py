"""HTTP routes of the emulated kube-apiserver: discovery, get, list (paged, filtered) and watch.

Answers like the real server: `Status` objects for errors (401, 403, 404, 410 Expired, 400),
`{Kind}List` envelopes with `metadata.resourceVersion`/`continue`/`remainingItemCount`, and
newline-delimited watch events (ADDED/MODIFIED/DELETED/BOOKMARK, ERROR 410 for a too old
resourceVersion). Read-only: any other method is refused with 405.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal

import msgspec

from sim.httpserver import Request, Response, json_response
from sim.kubernetes import resources
from sim.kubernetes.rbac import Grant, forbidden_message, forbidden_path_message, resource_attributes
from sim.kubernetes.resources import METRICS_GROUP, Resource
from sim.kubernetes.selectors import SelectorError, field_selector, label_selector
from sim.kubernetes.store import BadContinue, Entry, Expired, Store
from sim.kubernetes.tables import table, wants_table

MetricsMode = Literal["ok", "absent", "down"]


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return json_response(body, code)


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive."""
    scheme, _, token = (header or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def not_found(resource: Resource, name: str) -> Response:
    what = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
    return status(404, "NotFound", f'{what} "{name}" not found',
                  {"name": name, "group": resource.group, "kind": resource.plural})


@dataclass
class Route:
    resource: Resource
    namespace: str | None
    name: str | None


def parse_path(path: str) -> Route | None:
    """Split /api/v1/... and /apis/{g}/{v}/... into resource, namespace and name."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if len(rest) not in (1, 2):
        return None
    resource = resources.find(group, version, rest[0])
    if resource is None or (namespace is not None and not resource.namespaced):
        return None
    return Route(resource, namespace, rest[1] if len(rest) == 2 else None)


@dataclass
class KubeApi:
    """The request handler for one emulated cluster; give it to `EmulatorServer`."""

    store: Store
    token: str | None = None
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (group, plural) the token may not read
    grants: dict[str, Grant] = field(default_factory=dict)  # more tokens, each held to a ClusterRole (rbac.py)
    unserved: set[str] = field(default_factory=set)  # group/versions this (older) server does not have
    metrics: MetricsMode = "ok"
    bookmark_interval_s: float = 1.0
    max_watch_s: float = 300.0
    server_address: str = "127.0.0.1:6443"
    version: dict[str, str] = field(default_factory=lambda: dict(resources.SERVER_VERSION))

    def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return status(405, "MethodNotAllowed", f"the server does not allow this method on the requested "
                                                   f"resource (this emulator is read-only: {request.method})")
        token = bearer_token(request.header("authorization"))
        grant = self.grants.get(token) if token else None
        if (self.token is not None or self.grants) and grant is None and token != self.token:
            return status(401, "Unauthorized", "Unauthorized")
        path = request.path.rstrip("/") or "/"
        if grant is not None:
            refused = _authorize(grant, path, request)
            if refused is not None:
                return refused
        fixed = self._fixed(path)
        if fixed is not None:
            return fixed
        route = parse_path(path)
        if route is None or route.resource.group_version in self.unserved:
            return Response(404, "404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})
        return self._resource(route, request)

    def _fixed(self, path: str) -> Response | None:
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, "ok", {"Content-Type": "text/plain; charset=utf-8"})
        if path == "/version":
            return json_response(self.version)
        if path == "/api":
            return json_response(resources.api_versions(self.server_address))
        if path == "/apis":
            listing = resources.api_group_list(self.metrics != "absent")
            listing["groups"] = [g for g in map(self._served_versions, listing["groups"]) if g["versions"]]
            return json_response(listing)
        if path.startswith(f"/apis/{METRICS_GROUP}"):
            blocked = self._metrics_blocked()
            if blocked is not None:
                return blocked
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["apis"] and len(parts) == 2 and parts[1] in resources.GROUP_VERSIONS:
            return json_response(self._served_versions(resources.api_group(parts[1])))
        if parts == ["api", "v1"] or (parts[:1] == ["apis"] and len(parts) == 3):
            group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
            listing = resources.api_resource_list(group, version)
            return json_response(listing) if listing and f"{group}/{version}" not in self.unserved else None
        return None

    def _served_versions(self, group: dict[str, Any]) -> dict[str, Any]:
        versions = [v for v in group["versions"] if v["groupVersion"] not in self.unserved]
        return {**group, "versions": versions, "preferredVersion": versions[0] if versions else None}

    def _metrics_blocked(self) -> Response | None:
        if self.metrics == "absent":
            return Response(404, "404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})
        if self.metrics == "down":
            return status(503, "ServiceUnavailable", "the server is currently unable to handle the request",
                          {"causes": [{"reason": "UnexpectedServerResponse", "message": "service unavailable"}]})
        return None

    def _resource(self, route: Route, request: Request) -> Response:
        resource = route.resource
        if resource.key in self.forbidden:
            return self._forbidden(route, request)
        if route.name is not None:
            key = f"{route.namespace}/{route.name}" if route.namespace else route.name
            entry = self.store.get(resource, key)
            if entry is None:
                return not_found(resource, route.name)
            if wants_table(request.header("accept")):
                return json_response(table(resource, [entry.obj], {"resourceVersion": str(self.store.rv)}))
            return _raw_json(_served(resource, entry))
        try:
            match = _and(label_selector(request.param("labelSelector")), field_selector(request.param("fieldSelector")))
        except SelectorError as exc:
            return status(400, "BadRequest", str(exc))
        if request.param("watch") in ("1", "true") and resource.watchable:
            return self._watch(route, request, match)
        return self._list(route, request, match)

    def _forbidden(self, route: Route, request: Request) -> Response:
        resource = route.resource
        return denied("system:serviceaccount:podium:reader", resource_verb(route.name, request), resource.group,
                      resource.plural, route.namespace, route.name)

    def _list(self, route: Route, request: Request, match: Any) -> Response:
        limit_text = request.param("limit")
        try:
            limit = int(limit_text) if limit_text else None
        except ValueError:
            return status(400, "BadRequest", f"invalid limit: {limit_text!r}")
        try:
            page = self.store.list(route.resource, namespace=route.namespace, match=match,
                                   limit=limit if limit and limit > 0 else None,
                                   continue_token=request.param("continue"))
        except Expired as exc:
            return status(410, "Expired", str(exc))
        except BadContinue as exc:
            return status(400, "BadRequest", str(exc))
        meta: dict[str, Any] = {"resourceVersion": str(page.resource_version)}
        if page.continue_token:
            meta["continue"] = page.continue_token
            meta["remainingItemCount"] = page.remaining
        if wants_table(request.header("accept")):
            return json_response(table(route.resource, [e.obj for e in page.entries], meta))
        head = msgspec.json.encode({"kind": route.resource.list_kind, "apiVersion": route.resource.group_version,
                                    "metadata": meta})
        items = page.items if route.resource.convert is None else [_served(route.resource, e) for e in page.entries]
        body = head[:-1] + b',"items":[' + b",".join(items) + b"]}"
        return _raw_json(body)

    def _watch(self, route: Route, request: Request, match: Any) -> Response:
        timeout_s = min(float(request.param("timeoutSeconds") or self.max_watch_s), self.max_watch_s)
        bookmarks = request.param("allowWatchBookmarks") in ("1", "true")
        since = request.param("resourceVersion") or "0"
        stream = self._watch_stream(route, match, since, timeout_s, bookmarks)
        return Response(200, None, {"Content-Type": "application/json"}, stream=stream)

    def _watch_stream(self, route: Route, match: Any, since: str, timeout_s: float,
                      bookmarks: bool) -> Iterator[bytes]:
        resource, deadline = route.resource, time.monotonic() + timeout_s
        if since == "0":
            entries, rv = self.store.snapshot(resource, route.namespace, match)
            for entry in entries:
                yield _event("ADDED", _served(resource, entry))
        else:
            rv = int(since) if since.isdigit() else 0
        last_bookmark = time.monotonic()
        while time.monotonic() < deadline and not self.store.closed:
            try:
                changes, newest = self.store.changes_after(resource, rv, min(self.bookmark_interval_s, 0.5))
            except Expired as exc:
                yield _event("ERROR", msgspec.json.encode(status(410, "Expired", str(exc)).body))
                return
            for change in changes:
                if _in_namespace(change.entry.obj, route.namespace) and match(change.entry.obj):
                    yield _event(change.type, _served(resource, change.entry))
            rv = newest
            if bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval_s:
                last_bookmark = time.monotonic()
                yield _event("BOOKMARK", _bookmark(resource, rv))


def resource_verb(name: str | None, request: Request) -> str:
    """The RBAC verb of a resource request: get (one object), list, or watch."""
    if request.param("watch") in ("1", "true"):
        return "watch"
    return "get" if name else "list"


def denied(user: str, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> Response:
    """403 as the real server sends it for a resource request."""
    details = {"group": group, "kind": resource} | ({"name": name} if name else {})
    return status(403, "Forbidden", forbidden_message(user, verb, group, resource, namespace, name), details)


def _authorize(grant: Grant, path: str, request: Request) -> Response | None:
    """None when the grant's role allows the request, else the 403 the real server sends."""
    asked = resource_attributes(path)
    if asked is None:
        verb = request.method.lower()
        if grant.allows_path(verb, path):
            return None
        return status(403, "Forbidden", forbidden_path_message(grant.user, verb, path))
    verb = resource_verb(asked.name, request)
    if grant.allows(verb, asked.group, asked.resource, asked.name):
        return None
    return denied(grant.user, verb, asked.group, asked.resource, asked.namespace, asked.name)


def _served(resource: Resource, entry: Entry) -> bytes:
    """The object as this resource's version shows it (older versions are converted on the way out)."""
    return entry.raw if resource.convert is None else msgspec.json.encode(resource.convert(entry.obj))


def _raw_json(body: bytes) -> Response:
    return Response(200, body, {"Content-Type": "application/json"})


def _event(kind: str, raw_object: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + raw_object + b"}\n"


def _bookmark(resource: Resource, rv: int) -> bytes:
    return msgspec.json.encode({"kind": resource.kind, "apiVersion": resource.group_version,
                                "metadata": {"resourceVersion": str(rv)}})


def _in_namespace(obj: dict[str, Any], namespace: str | None) -> bool:
    return namespace is None or obj.get("metadata", {}).get("namespace") == namespace


def _and(first: Any, second: Any) -> Any:
    return lambda obj: first(obj) and second(obj)
