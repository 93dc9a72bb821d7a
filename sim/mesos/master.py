"""An emulated Mesos master: the legacy read-only JSON endpoints a dashboard reads.

Routes: /version, /health, /master/state-summary, /master/state, /master/slaves,
/master/frameworks, /metrics/snapshot, /master/redirect. A non-leading master answers the
/master/* state endpoints with `307 Temporary Redirect` to the leader, with a scheme-relative
`Location: //host:port/path` as the real master does; /master/redirect answers 307 on every master.
Authentication (when set): HTTP basic (`--authenticate_http_readonly`) or a DC/OS-style token.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


from sim.httpserver import Request, Response, json_response
from sim.mesos.agents import TASK_STATES, Agent, slave_json, summary_json
from sim.mesos.auth import Auth, unauthorized
from sim.mesos.encoded import EncodedBodies

REDIRECTED = ("/master/state", "/master/state.json", "/master/state-summary", "/master/slaves",
              "/master/frameworks")


@dataclass
class MesosTask:
    id: str
    name: str
    agent_id: str
    state: str
    cpus: float
    mem_mb: float


@dataclass
class MesosState:
    agents: list[Agent]
    tasks: list[MesosTask] = field(default_factory=list)
    framework_id: str = "e3b0c442-98fc-1c14-9afb-f4c8996fb924-0000"
    framework_name: str = "marathon"
    cluster: str = "podium-sim"
    version: str = "1.11.0"
    master_id: str = "0b0bd5e8-1b0c-4b4e-9c2a-9c3f0e6f7f10"
    start_time: float = 1_700_000_000.0


class MesosMaster:
    """The request handler of one master. `state` is called per request (it may evolve with time)."""

    def __init__(self, state: Callable[[], MesosState], *, leader: str | None = None,
                 hostname: str = "127.0.0.1", auth: Auth | None = None,
                 verbatim: dict[str, Any] | None = None):
        self.state = state
        # None: this master leads; "host:port": where the leader is; "": no leader elected
        self.leader = leader
        self.hostname = hostname
        self.auth = auth
        # path -> payload served as-is (recorded upstream payloads for fidelity tests)
        self.verbatim = verbatim or {}
        self._bodies = EncodedBodies()

    def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"", {"Allow": "GET"})
        if self.auth is not None and request.path != "/health" and not self.auth.allows(request):
            return unauthorized(self.auth, "mesos")
        if request.path == "/master/redirect":
            return self._redirect("")
        if self.leader is not None and request.path in REDIRECTED:
            return self._redirect(request.path, request)
        if request.path in self.verbatim:
            return json_response(self.verbatim[request.path])
        route = ROUTES.get(request.path)
        if route is None:
            return Response(404, b"", {"Content-Type": "text/plain"})
        return self._cached(request.path, route)

    def _redirect(self, path: str, request: Request | None = None) -> Response:
        leader = self.leader if self.leader is not None else self.hostname
        if not leader:
            return Response(503, b"No leader elected", {"Content-Type": "text/plain"})
        query = ""
        if request is not None and request.query:
            query = "?" + "&".join(f"{k}={v}" for k, values in request.query.items() for v in values)
        return Response(307, b"", {"Location": f"//{leader}{path}{query}"})

    def _cached(self, path: str, route: Callable[[MesosState], Any]) -> Response:
        state = self.state()
        return self._bodies.response(state, path, lambda: route(state))


def version(state: MesosState) -> dict[str, Any]:
    return {"version": state.version, "git_tag": state.version, "git_sha": "0" * 40,
            "build_date": "2020-11-24 12:00:00", "build_time": 1606219200.0, "build_user": "podium-sim"}


def state_summary(state: MesosState) -> dict[str, Any]:
    return {
        "hostname": "127.0.0.1",
        "cluster": state.cluster,
        "slaves": [summary_json(agent, state.framework_id) for agent in state.agents],
        "frameworks": [framework_state_summary(state)],
    }


def framework_state_summary(state: MesosState) -> dict[str, Any]:
    """The state-summary framework entry: the summary plus task counts by state and its agents."""
    body = framework_summary(state)
    for name in TASK_STATES:
        body[name] = sum(t.state == name for t in state.tasks)
    body["slave_ids"] = sorted({t.agent_id for t in state.tasks})
    return body


def slaves(state: MesosState) -> dict[str, Any]:
    return {"slaves": [slave_json(agent) for agent in state.agents], "recovered_slaves": []}


def framework_summary(state: MesosState) -> dict[str, Any]:
    used_cpus = sum(t.cpus for t in state.tasks if t.state in ("TASK_RUNNING", "TASK_STAGING", "TASK_STARTING"))
    used_mem = sum(t.mem_mb for t in state.tasks if t.state in ("TASK_RUNNING", "TASK_STAGING", "TASK_STARTING"))
    return {"id": state.framework_id, "name": state.framework_name, "pid": "scheduler@127.0.0.1:8080",
            "used_resources": {"cpus": round(used_cpus, 6), "mem": round(used_mem, 6), "disk": 0.0, "gpus": 0.0},
            "offered_resources": {"cpus": 0.0, "mem": 0.0, "disk": 0.0, "gpus": 0.0},
            "capabilities": ["PARTITION_AWARE"], "hostname": "127.0.0.1", "webui_url": "http://127.0.0.1:8080",
            "active": True, "connected": True, "recovered": False}


def task_json(task: MesosTask, framework_id: str) -> dict[str, Any]:
    return {"id": task.id, "name": task.name, "framework_id": framework_id, "executor_id": "",
            "slave_id": task.agent_id, "state": task.state, "role": "*",
            "resources": {"cpus": task.cpus, "mem": task.mem_mb, "disk": 0.0, "gpus": 0.0},
            "statuses": [{"state": task.state, "timestamp": 1_700_000_100.0}]}


def framework_full(state: MesosState) -> dict[str, Any]:
    body = framework_summary(state)
    body.update({"user": "root", "failover_timeout": 604800.0, "checkpoint": True, "role": "*",
                 "registered_time": state.start_time, "unregistered_time": 0.0,
                 "tasks": [task_json(t, state.framework_id) for t in state.tasks],
                 "unreachable_tasks": [], "completed_tasks": [], "offers": [], "executors": []})
    return body


def frameworks(state: MesosState) -> dict[str, Any]:
    return {"frameworks": [framework_full(state)], "completed_frameworks": [], "unregistered_frameworks": []}


def full_state(state: MesosState) -> dict[str, Any]:
    body = version(state)
    body.update({
        "id": state.master_id, "pid": "master@127.0.0.1:5050", "hostname": "127.0.0.1",
        "cluster": state.cluster, "leader": "master@127.0.0.1:5050", "start_time": state.start_time,
        "elected_time": state.start_time + 1,
        "activated_slaves": sum(a.active for a in state.agents),
        "deactivated_slaves": sum(not a.active for a in state.agents),
        "unreachable_slaves": [], "flags": {"port": "5050", "cluster": state.cluster},
        "slaves": [slave_json(agent) for agent in state.agents],
        "frameworks": [framework_full(state)], "completed_frameworks": [], "orphan_tasks": [],
        "unregistered_frameworks": [],
    })
    return body


def metrics(state: MesosState) -> dict[str, float]:
    counts: dict[str, int] = {}
    for task in state.tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    return {
        "master/elected": 1.0,
        "master/uptime_secs": 3600.0,
        "master/slaves_active": float(sum(a.active for a in state.agents)),
        "master/slaves_inactive": float(sum(not a.active for a in state.agents)),
        "master/cpus_total": float(sum(a.cpus for a in state.agents)),
        "master/cpus_used": round(sum(a.used_cpus for a in state.agents), 6),
        "master/mem_total": float(sum(a.mem_mb for a in state.agents)),
        "master/mem_used": round(sum(a.used_mem_mb for a in state.agents), 6),
        "master/frameworks_active": 1.0,
        "master/tasks_running": float(counts.get("TASK_RUNNING", 0)),
        "master/tasks_staging": float(counts.get("TASK_STAGING", 0)),
        "master/tasks_unreachable": float(counts.get("TASK_UNREACHABLE", 0)),
    }


ROUTES: dict[str, Callable[[MesosState], Any]] = {
    "/version": version,
    "/health": lambda state: {},
    "/master/state-summary": state_summary,
    "/master/state": full_state,
    "/master/state.json": full_state,
    "/master/slaves": slaves,
    "/master/frameworks": frameworks,
    "/metrics/snapshot": metrics,
}
