"""The Docker Engine API over a `Store`, as dockerd answers it (read-only).

- Paths with or without a version prefix (`/v1.24/nodes` ... `/v1.47/nodes`); a version above the
  engine's answers 400 "client version X is too new", one below its minimum "is too old".
- Every answer carries `Api-Version`, `Docker-Experimental`, `Ostype` and `Server` headers;
  `/_ping` (GET or HEAD) answers "OK" and is how clients negotiate the version.
- Errors are `{"message": ...}`; cluster reads on a worker, or an engine outside any swarm, are
  503 "This node is not a swarm manager...".
- `/services?status=true` adds ServiceStatus from API 1.41 on; `/tasks`, `/nodes`, `/services`,
  `/containers/json` and `/events` take `filters` (`{"key": {"value": true}}` or `{"key": ["value"]}`).
- `/events` streams one JSON object per line: those since `since`, then new ones until `until`
  (or until the client hangs up).
Only GET and HEAD are served: another method on a known path gets the engine's 404, elsewhere 405.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterator

import msgspec

from sim.httpserver import Request, Response
from sim.swarm import engine
from sim.swarm.filters import ApiError, Filters, parse_filters, parse_time_ns
from sim.swarm.store import State, Store

_VERSIONED = re.compile(r"^/v(\d+\.\d+)(/.*)$")
EVENT_WAIT_S = 1.0


class SwarmApi:
    def __init__(self, store: Store):
        self.store = store
        self.routes: list[tuple[re.Pattern[str], bool, Callable[..., Response]]] = [
            (re.compile(pattern), cluster, handler) for pattern, cluster, handler in (
                (r"/_ping", False, self.ping), (r"/version", False, self.version), (r"/info", False, self.info),
                (r"/nodes", True, self.nodes), (r"/nodes/([^/]+)", True, self.node),
                (r"/services", True, self.services), (r"/services/([^/]+)", True, self.service),
                (r"/tasks", True, self.tasks), (r"/tasks/([^/]+)", True, self.task),
                (r"/networks/([^/]+)", False, self.network), (r"/containers/json", False, self.containers), (r"/events", False, self.events))]

    def headers(self, state: State) -> dict[str, str]:
        engine_def = state.scenario.engine
        return {"Api-Version": engine_def.api_version, "Docker-Experimental": "false", "Ostype": "linux",
                "Server": f"Docker/{engine_def.version} (linux)"}

    def __call__(self, request: Request) -> Response:
        state = self.store.state
        path, asked = request.path, state.scenario.engine.api_version
        match = _VERSIONED.match(path)
        if match:
            asked, path = match.group(1), match.group(2)
        for pattern, cluster, handler in self.routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            if request.method not in ("GET", "HEAD"):
                break  # dockerd has no such route for this method: its 404 below
            problem = engine.version_problem(state.scenario, asked)
            if problem is not None:
                kind, message = problem
                if kind == "text":
                    return Response(400, message + "\n", {"Content-Type": "text/plain; charset=utf-8",
                                                          "X-Content-Type-Options": "nosniff", **self.headers(state)})
                return self.error(state, 400, message)
            refusal = engine.swarm_refusal(state.scenario) if cluster else None
            if refusal is not None:
                return self.error(state, 503, refusal)
            try:
                response = handler(state, request, engine.api_tuple(asked), *found.groups())
            except ApiError as exc:
                return self.error(state, exc.status, exc.message)
            response.headers = {**self.headers(state), **response.headers}
            return response
        if request.method not in ("GET", "HEAD", "POST", "DELETE"):
            return Response(405, b'{"message":"this emulated engine is read-only"}', {"Content-Type": "application/json"})
        return Response(404, b'{"message":"page not found"}', {"Content-Type": "application/json"})

    def error(self, state: State, status: int, message: str) -> Response:
        return Response(status, msgspec.json.encode({"message": message}) + b"\n",
                        {"Content-Type": "application/json", **self.headers(state)})

    @staticmethod
    def json(body: bytes | Any) -> Response:
        payload = body if isinstance(body, bytes) else msgspec.json.encode(body)
        return Response(200, payload + b"\n", {"Content-Type": "application/json"})

    # -- engine ---------------------------------------------------------------------------------
    def ping(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        role = state.scenario.local_node.role if state.scenario.swarm_active else None
        swarm = f"active/{role}" if role else "inactive"
        return Response(200, b"OK", {"Content-Type": "text/plain; charset=utf-8", "Builder-Version": "2",
                                     "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
                                     "Swarm": swarm})

    def version(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        return self.json(state.version)

    def info(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        return self.json(state.info)

    # -- cluster objects ------------------------------------------------------------------------
    def nodes(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        filters = parse_filters(request, ("id", "label", "membership", "name", "node.label", "role"))
        key = ("nodes", filters.key)
        return self.json(self.store.page(key, lambda: [body for node, body in state.nodes if filters.node(node)]))

    def node(self, state: State, request: Request, api: tuple[int, int], wanted: str) -> Response:
        return self.json(lookup(state.nodes, wanted, lambda n: n["Description"]["Hostname"], "node"))

    def services(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        filters = parse_filters(request, ("id", "label", "mode", "name"))
        with_status = (request.param("status") or "").lower() in ("1", "true") and api >= (1, 41)
        key = ("services", filters.key, with_status)

        def bodies() -> list[bytes]:
            return [body[:-1] + state.status[service["ID"]] if with_status else body
                    for service, body in state.services if filters.service(service)]
        return self.json(self.store.page(key, bodies))

    def service(self, state: State, request: Request, api: tuple[int, int], wanted: str) -> Response:
        return self.json(lookup(state.services, wanted, lambda s: s["Spec"]["Name"], "service"))

    def tasks(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        filters = parse_filters(request, ("desired-state", "id", "label", "name", "node", "service", "_up-to-date"))
        rows = state.tasks
        services = filters.values("service")
        if services:
            ids = {s["ID"] for s, _ in state.services if s["ID"] in services or s["Spec"]["Name"] in services}
            if not ids:
                raise ApiError(404, f"service {sorted(services)[0]} not found")
            rows = [r for sid in sorted(ids) for r in state.by_service.get(sid, [])]
            rows.sort(key=lambda r: r.id)
        nodes = filters.values("node")
        if nodes:
            wanted = {n["ID"] for n, _ in state.nodes if n["ID"] in nodes or n["Description"]["Hostname"] in nodes}
            rows = [r for r in rows if r.node_id in wanted]
        return self.json(self.store.page(("tasks", filters.key),
                                         lambda: [r.body for r in rows if filters.task(r)]))

    def task(self, state: State, request: Request, api: tuple[int, int], wanted: str) -> Response:
        found = [r for r in state.tasks if r.id == wanted] or [r for r in state.tasks if r.id.startswith(wanted)]
        if len(found) != 1:
            raise ApiError(404, f"task {wanted} not found")
        return self.json(found[0].body)

    def network(self, state: State, request: Request, api: tuple[int, int], wanted: str) -> Response:
        """Enough of `/networks/{id}` for `docker service inspect --pretty` to name a service's networks."""
        for network in state.rendered.networks.values():
            if wanted in (network["ID"], network["Spec"]["Name"]):
                spec = network["Spec"]
                return self.json({"Name": spec["Name"], "Id": network["ID"], "Created": network["CreatedAt"],
                                  "Scope": "swarm", "Driver": "overlay", "EnableIPv6": False,
                                  "IPAM": {"Driver": "default", "Options": None, "Config": network["IPAMOptions"]["Configs"]},
                                  "Internal": False, "Attachable": False, "Ingress": spec.get("Ingress", False),
                                  "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": None,
                                  "Options": network["DriverState"]["Options"], "Labels": spec["Labels"]})
        raise ApiError(404, f"network {wanted} not found")

    def containers(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        filters = parse_filters(request, ("label", "status", "name", "id"))
        key = ("containers", filters.key)
        return self.json(self.store.page(key, lambda: [b for c, b in state.containers if filters.container(c)]))

    # -- events ---------------------------------------------------------------------------------
    def events(self, state: State, request: Request, api: tuple[int, int]) -> Response:
        filters = parse_filters(request, ("config", "container", "daemon", "event", "image", "label", "network",
                                          "node", "plugin", "scope", "secret", "service", "type", "volume"))
        now = time.time_ns()
        since = parse_time_ns(request.param("since"), now)
        until = parse_time_ns(request.param("until"), now)
        if since is not None and until is not None and since > until:
            raise ApiError(400, "`since` time must be before `until`")
        return Response(200, headers={"Content-Type": "application/json"},
                        stream=self.stream(filters, since, until))

    def stream(self, filters: Filters, since: int | None, until: int | None) -> Iterator[bytes]:
        last = time.time_ns()
        if since is not None:
            for item in self.store.events_between(since, until):
                if filters.event(item):
                    yield msgspec.json.encode(item) + b"\n"
        while until is None or time.time_ns() < until:
            if self.store.closed:
                return
            timeout = EVENT_WAIT_S if until is None else max(0.0, min(EVENT_WAIT_S, (until - time.time_ns()) / 1e9))
            for item in self.store.wait_for_events(last, timeout):
                last = max(last, item["timeNano"])
                if (until is None or item["timeNano"] <= until) and filters.event(item):
                    yield msgspec.json.encode(item) + b"\n"


def lookup(objects: list[tuple[dict[str, Any], bytes]], wanted: str, name: Callable[[dict[str, Any]], str],
           kind: str) -> bytes:
    """The one object `wanted` names, as dockerd resolves it: full ID, then name, then a unique ID prefix."""
    found = [o for o in objects if o[0]["ID"] == wanted] or [o for o in objects if name(o[0]) == wanted] or \
        [o for o in objects if o[0]["ID"].startswith(wanted)]
    if not found:
        raise ApiError(404, f"{kind} {wanted} not found")
    if len(found) > 1:
        raise ApiError(404, f"{kind} {wanted} is ambiguous ({len(found)} matches found)")
    return found[0][1]
