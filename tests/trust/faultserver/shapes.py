"""What each orchestrator's API says first, and how it says 503: the bodies the faults wrap.

A dripping or slow server still sends a valid answer to the request Podium makes first (if it ever
finished, the collector could read it); a 503 carries the body shape that orchestrator uses for
errors. The 503 bodies quote the request's credentials back, as a careless proxy might: a message
built from them must still never show a secret.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Iterator

from sim.httpserver import Request, Response, json_response

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"

# the answer to the first request each collector makes (see each collectors/<name>/fetch.py)
FIRST_ANSWERS: dict[str, Any] = {
    "kubernetes": {"major": "1", "minor": "30", "gitVersion": "v1.30.2", "platform": "linux/amd64"},  # GET /version
    "swarm": {"Version": "27.5.1", "ApiVersion": "1.47", "MinAPIVersion": "1.24"},  # GET /version
    "nomad": {"config": {"Region": "global", "Datacenter": "dc1", "Version": {"Version": "1.8.4"}},
              "member": {"Name": "server-1.global", "Tags": {"region": "global"}}},  # GET /v1/agent/self
    "marathon": {"name": "marathon", "version": "1.11.24", "leader": "127.0.0.1:8080",
                 "frameworkId": "f-0001"},  # GET /v2/info
    "mesos": {"hostname": "master-1", "slaves": [], "frameworks": []},  # GET /master/state-summary
}
FIRST_ANSWERS["swarm_unix"] = FIRST_ANSWERS["swarm"]


def first_answer(side: str) -> bytes:
    return json.dumps(FIRST_ANSWERS[side], separators=(",", ":")).encode()


def error_503(side: str, credentials: str) -> tuple[str, bytes]:
    """(content type, body) of a 503, in the orchestrator's own shape."""
    echoed = f" (request had {credentials})" if credentials else ""
    if side == "kubernetes":
        return JSON, json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                 "message": f"the server is currently unable to handle the request{echoed}",
                                 "reason": "ServiceUnavailable", "code": 503}).encode()
    if side in ("swarm", "swarm_unix"):
        return JSON, json.dumps({"message": "the engine is shutting down, try again later"}).encode()
    if side == "nomad":
        return TEXT, f"No cluster leader{echoed}".encode()
    if side == "marathon":
        return JSON, json.dumps({"message": f"Could not determine the current leader{echoed}"}).encode()
    return TEXT, b"No leader elected"  # the Mesos master


ENGINE = json.loads((Path(__file__).parent / "swarm_engine.json").read_text())
_VERSIONED = re.compile(r"^/v\d+(\.\d+)?")


def quiet_until(until: str | None, longest_s: float = 5.0) -> Iterator[bytes]:
    end = min(float(until or 0), time.time() + longest_s)  # shorter than asked: server threads end soon
    while time.time() < end:
        time.sleep(0.1)
        yield b""


def healthy_engine(request: Request) -> Response:
    """A Docker engine that is a swarm manager of one node, one service, one task: just enough for
    the Swarm collector (there is no Swarm emulator; the real engine lives in the swarm tier)."""
    path = _VERSIONED.sub("", request.path)
    if path == "/_ping":
        return Response(200, b"OK", {"Content-Type": "text/plain", "Api-Version": ENGINE["version"]["ApiVersion"]})
    if path == "/events":  # a quiet swarm: no events, and the stream ends at `until` as an engine's does
        return Response(200, headers={"Content-Type": "application/json"}, stream=quiet_until(request.param("until")))
    part = {"/version": "version", "/nodes": "nodes", "/services": "services", "/tasks": "tasks",
            "/containers/json": "containers"}.get(path)
    if part is None:
        return json_response({"message": f"page not found: {path}"}, 404)
    return json_response(ENGINE[part])
