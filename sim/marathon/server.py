"""An emulated Marathon: the read side of the REST API (v2), the event stream and /metrics.

Every response carries `X-Marathon-Leader`. A non-leading instance answers /v2/* with
`307 Temporary Redirect` to the leader. `/v2/events` streams server-sent events only to a client
that accepts `text/event-stream` (else 405, as Marathon's Jetty does). Mutating methods get 405:
the emulator is a read-only double, and the request record proves collectors only GET.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator
from urllib.parse import unquote, urlencode

import msgspec

from sim.httpserver import Request, Response, json_response
from sim.marathon.events import changes
from sim.marathon.model import MarathonState
from sim.marathon.render import (app_json, deployment_json, group_tree, info_json, pod_definition, pod_status,
                                 queue_json, task_json)
from sim.mesos.auth import Auth, unauthorized
from sim.mesos.encoded import EncodedBodies

NOT_ACCEPTABLE_HTML = (b"<html><head><title>Error 405 </title></head><body><h2>HTTP ERROR: 405</h2>"
                       b"<p>Problem accessing /v2/events. Reason:<pre>    HTTP method GET is not supported by "
                       b"this URL</pre></p></body></html>")


class MarathonServer:
    """The request handler of one Marathon instance. `state` is called per request."""

    def __init__(self, state: Callable[[], MarathonState], *, address: str = "127.0.0.1:8080",
                 leader: str | None = None, auth: Auth | None = None, verbatim: dict[str, Any] | None = None,
                 stream_limit_s: float = 3600.0):
        self.state = state
        self.address = address  # host:port this instance advertises
        self.leader = leader  # None: this instance leads; else host:port of the leader
        self.auth = auth
        self.verbatim = verbatim or {}
        self.stream_limit_s = stream_limit_s  # Marathon keeps an event stream open for as long as its client
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._events_changed = threading.Condition()
        self._closed = False
        self._bodies = EncodedBodies()
        self._noticed: MarathonState | None = None  # the state the event bus last announced changes of

    @property
    def leader_address(self) -> str:
        return self.leader or self.address

    def publish(self, event_type: str, payload: dict[str, Any]) -> None:
        with self._events_changed:
            self._events.append((event_type, {**payload, "eventType": event_type}))
            self._events_changed.notify_all()

    def notice_changes(self) -> None:
        """Announce on the event bus what changed since the state last noticed (a scenario that
        moved on), as Marathon announces its every change."""
        state = self.state()
        with self._events_changed:
            last, self._noticed = self._noticed, state
        if last is not None and last is not state:
            for event_type, payload in changes(last, state):
                self.publish(event_type, payload)

    def close(self) -> None:
        with self._events_changed:
            self._closed = True
            self._events_changed.notify_all()

    def __call__(self, request: Request) -> Response:
        self.notice_changes()
        response = self._answer(request)
        response.headers.setdefault("X-Marathon-Leader", f"http://{self.leader_address}")
        return response

    def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return json_response({"message": "the emulator is read-only"}, 405)
        if request.path == "/ping":
            return Response(200, b"pong", {"Content-Type": "text/plain"})
        if self.auth is not None and not self.auth.allows(request):
            return unauthorized(self.auth, "Mesosphere")
        if self.leader is not None and request.path.startswith("/v2/") and request.path != "/v2/leader":
            query = urlencode([(k, v) for k, values in request.query.items() for v in values])
            location = f"http://{self.leader}{request.path}" + (f"?{query}" if query else "")
            return Response(307, b"", {"Location": location})
        if request.path in self.verbatim:
            return json_response(self.verbatim[request.path])
        if request.path == "/v2/events":
            return self._events_response(request)
        return self._route(request)

    def _route(self, request: Request) -> Response:
        path = unquote(request.path)
        state = self.state()
        embeds = set(request.query.get("embed", []))
        if path == "/v2/leader":
            return json_response({"leader": self.leader_address})
        if path == "/v2/info":
            return json_response(info_json(state, self.leader_address, self.leader is None))
        if path == "/metrics":
            return json_response(metrics_json(state))
        if path in ("/v2/apps", "/v2/apps/"):
            key = "apps:" + ",".join(sorted(embeds))
            return self._cached(state, key, lambda: {"apps": [app_json(a, embeds) for a in state.apps]})
        if path.startswith("/v2/apps/"):
            return self._app(state, path[len("/v2/apps"):], embeds)
        if path == "/v2/tasks":
            wanted = {f"TASK_{s.upper()}" for s in request.query.get("status", [])}
            return self._cached(state, "tasks:" + ",".join(sorted(wanted)), lambda: {"tasks": [
                task_json(t, service_port=a.service_port) for a in state.apps for t in a.tasks
                if not wanted or t.state in wanted]})
        if path == "/v2/groups" or path == "/v2/groups/":
            return json_response(group_tree(state.apps, state.pods, state.version))
        if path == "/v2/pods/::status":
            return self._cached(state, "pods-status", lambda: [pod_status(p) for p in state.pods])
        if path in ("/v2/pods", "/v2/pods/"):
            return json_response([pod_definition(p) for p in state.pods])
        if path.startswith("/v2/pods/"):
            return self._pod(state, path[len("/v2/pods"):])
        if path == "/v2/deployments":
            return json_response([deployment_json(d) for d in state.deployments])
        if path == "/v2/queue":
            return self._cached(state, "queue", lambda: queue_json(state))
        return json_response({"message": f"Not found: {path}"}, 404)

    def _app(self, state: MarathonState, rest: str, embeds: set[str]) -> Response:
        app_id = rest[:-len("/tasks")] if rest.endswith("/tasks") else rest.rstrip("/")
        app = next((a for a in state.apps if a.id == app_id), None)
        if app is None:
            return json_response({"message": f"App '{app_id}' does not exist"}, 404)
        if rest.endswith("/tasks"):
            return json_response({"tasks": [task_json(t, service_port=app.service_port) for t in app.tasks]})
        return json_response({"app": app_json(app, embeds, prefix="app")})

    def _pod(self, state: MarathonState, rest: str) -> Response:
        pod_id = rest.partition("::status")[0]
        pod = next((p for p in state.pods if p.id == pod_id), None)
        if pod is None:
            return json_response({"message": f"Pod '{pod_id}' does not exist"}, 404)
        return json_response(pod_status(pod) if rest.endswith("::status") else pod_definition(pod))

    def _cached(self, state: MarathonState, key: str, build: Callable[[], Any]) -> Response:
        return self._bodies.response(state, key, build)

    def _events_response(self, request: Request) -> Response:
        if "text/event-stream" not in (request.header("accept") or ""):
            return Response(405, NOT_ACCEPTABLE_HTML, {"Content-Type": "text/html;charset=ISO-8859-1"})
        wanted = set(request.query.get("event_type", []))
        with self._events_changed:
            position = len(self._events)  # from here on: nothing published after the headers is missed
        return Response(200, None, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
                        stream=self._stream(wanted, position))

    def _stream(self, wanted: set[str], position: int) -> Iterator[bytes]:
        attached = {"remoteAddress": "127.0.0.1", "eventType": "event_stream_attached",
                    "timestamp": iso_now()}
        yield sse("event_stream_attached", attached)
        deadline = time.monotonic() + self.stream_limit_s
        while time.monotonic() < deadline:
            self.notice_changes()
            with self._events_changed:
                if self._closed:
                    return
                self._events_changed.wait(timeout=0.5)
                fresh = self._events[position:]
                position = len(self._events)
            for event_type, payload in fresh:
                if not wanted or event_type in wanted:
                    yield sse(event_type, payload)
            if not fresh:
                yield b"\r\n"  # keep-alive; lets the server notice a client that left


def sse(event_type: str, payload: dict[str, Any]) -> bytes:
    return b"event: %s\r\ndata: %s\r\n\r\n" % (event_type.encode(), msgspec.json.encode(payload))


def iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def metrics_json(state: MarathonState) -> dict[str, Any]:
    tasks = [t for a in state.apps for t in a.tasks]
    gauges = {
        "marathon.apps.active.gauge": {"value": len(state.apps)},
        "marathon.pods.active.gauge": {"value": len(state.pods)},
        "marathon.deployments.active.gauge": {"value": len(state.deployments)},
        "marathon.instances.running.gauge": {"value": sum(t.state == "TASK_RUNNING" for t in tasks)},
        "marathon.instances.staging.gauge": {"value": sum(t.state == "TASK_STAGING" for t in tasks)},
        "marathon.instances.launch-overdue.gauge": {"value": sum(1 for a in state.apps if a.queue)},
    }
    return {"version": "4.0.0", "gauges": gauges, "counters": {}, "histograms": {}, "meters": {}, "timers": {}}
