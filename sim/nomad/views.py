"""The endpoints: what each `/v1/...` path answers, from the store's records.

A handler returns `(table, body)` for reads that take part in blocking queries (`body` is a list
of cached `Item`s for list endpoints, else a JSON-able value), a plain value for the agent and
status endpoints, or a `Response` (the event stream).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sim.httpserver import Request, Response
from sim.nomad import services, wire
from sim.nomad.model import Alloc, Job, Node, Region
from sim.nomad.store import Store, item, now_ns

NAMESPACE_INFO = {"default": "Default shared namespace", "platform": "Cluster-wide agents and daemons",
                  "batch": "Scheduled and one-off batch work"}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Call:
    """One request, resolved: which region answers, for which namespace, under which token."""

    request: Request
    region: Region
    namespace: str
    capabilities: set[str]
    stale: bool
    headers: dict[str, str] = field(default_factory=dict)

    def flag(self, name: str, default: bool) -> bool:
        value = self.request.param(name)
        if value is None:
            return default
        return value == "" or value.lower() in ("1", "t", "true")


@dataclass
class _Lookup:
    nodes: dict[str, Node]
    allocs: dict[str, Alloc]
    jobs: dict[tuple[str, str], Job]
    by_node: dict[str, list[Alloc]]
    by_job: dict[int, list[Alloc]]


class Views:
    def __init__(self, store: Store, heartbeat_s: float):
        self.store = store
        self.heartbeat_s = heartbeat_s
        self._lookups: dict[tuple[int, int, int], _Lookup] = {}

    def routes(self) -> list[tuple[str, str | None, Callable[..., Any]]]:
        ns, node = "namespace:read", "node:read"
        return [
            (r"/v1/agent/self", "agent:read", self.agent_self),
            (r"/v1/agent/members", "agent:read", self.agent_members),
            (r"/v1/agent/servers", "agent:read", lambda c: [c.region.leader]),
            (r"/v1/agent/health", None, lambda c: {"server": {"ok": True, "message": "ok"}}),
            (r"/v1/status/leader", None, lambda c: c.region.leader if c.region.has_leader else ""),
            (r"/v1/status/peers", None, lambda c: [c.region.leader]),
            (r"/v1/regions", None, lambda c: sorted(self.store.scenario.regions)),
            (r"/v1/metrics", None, lambda c: {"Timestamp": "2026-01-01 00:00:00 +0000 UTC", "Gauges": [],
                                              "Counters": [], "Samples": [], "Points": []}),
            (r"/v1/namespaces", None, self.namespaces),
            (r"/v1/namespace/([^/]+)", None, self.namespace),
            (r"/v1/nodes", node, self.nodes),
            (r"/v1/node/([^/]+)", node, self.node),
            (r"/v1/node/([^/]+)/allocations", node, self.node_allocations),
            (r"/v1/jobs", ns, self.jobs),
            (r"/v1/job/([^/]+)", ns, self.job),
            (r"/v1/job/([^/]+)/summary", ns, self.job_summary),
            (r"/v1/job/([^/]+)/versions", ns,
             lambda c, j: ("jobs", {"Versions": [wire.job_full(self.job_of(c, j))], "Diffs": None})),
            (r"/v1/job/([^/]+)/allocations", ns, self.job_allocations),
            (r"/v1/job/([^/]+)/evaluations", ns,
             lambda c, j: ("evals", [wire.evaluation(e) for e in c.region.evaluations if e.job is self.job_of(c, j)])),
            (r"/v1/job/([^/]+)/deployments", ns,
             lambda c, j: ("deployment", [wire.deployment(d) for d in self.deployments_of(c, j)])),
            (r"/v1/job/([^/]+)/deployment", ns, self.job_latest_deployment),
            (r"/v1/allocations", ns, self.allocations),
            (r"/v1/allocation/([^/]+)", ns, lambda c, a: ("allocs", wire.alloc_full(self.alloc_of(c, a)))),
            (r"/v1/deployments", ns, self.deployments),
            (r"/v1/deployment/([^/]+)", ns, self.deployment),
            (r"/v1/deployment/allocations/([^/]+)", ns, self.deployment_allocations),
            (r"/v1/evaluations", ns, self.evaluations),
            (r"/v1/evaluation/([^/]+)", ns, self.evaluation),
            (r"/v1/evaluation/([^/]+)/allocations", ns, self.evaluation_allocations),
            (r"/v1/client/stats", node, self.client_stats),
            (r"/v1/client/allocation/([^/]+)/stats", ns, self.allocation_stats),
            (r"/v1/event/stream", ns, self.event_stream),
            *services.routes(self),
        ]

    # --- lookups ------------------------------------------------------------------------------
    def lookup(self, region: Region) -> _Lookup:
        key = (id(region), len(region.nodes), len(region.allocs))
        found = self._lookups.get(key)
        if found is None:
            by_node: dict[str, list[Alloc]] = defaultdict(list)
            by_job: dict[int, list[Alloc]] = defaultdict(list)
            for alloc in region.allocs:
                by_node[alloc.node.id].append(alloc)
                by_job[id(alloc.job)].append(alloc)
            found = _Lookup({n.id: n for n in region.nodes}, {a.id: a for a in region.allocs},
                            {(j.namespace, j.id): j for j in region.jobs}, by_node, by_job)
            self._lookups = {key: found}
        return found

    def job(self, call: Call, job_id: str) -> tuple[str, Callable[[], bytes]]:
        self.job_of(call, job_id)  # 404 before any wait
        return ("jobs", lambda: self.store.body(call.region.name, "jobs", ("job", call.namespace, job_id),
                                                lambda region: wire.job_full(self.job_in(region, call.namespace, job_id))))

    def job_of(self, call: Call, job_id: str) -> Job:
        return self.job_in(call.region, call.namespace, job_id)

    def job_in(self, region: Region, namespace: str, job_id: str) -> Job:
        job = self.lookup(region).jobs.get((namespace, job_id))
        if job is None:
            raise ApiError(404, "job not found")
        return job

    def alloc_of(self, call: Call, alloc_id: str) -> Alloc:
        alloc = self.lookup(call.region).allocs.get(alloc_id)
        if alloc is None:
            raise ApiError(404, "alloc not found")
        return alloc

    def node_of(self, call: Call, node_id: str) -> Node:
        node = self.lookup(call.region).nodes.get(node_id)
        if node is None:
            raise ApiError(404, "node not found")
        return node

    def deployments_of(self, call: Call, job_id: str) -> list:
        job = self.job_of(call, job_id)
        return sorted((d for d in call.region.deployments if d.job is job), key=lambda d: -d.create_index)

    def queued(self, region: Region, job: Job) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for evaluation in region.evaluations:
            if evaluation.job is job and evaluation.status == "blocked":
                for group, count in evaluation.queued.items():
                    out[group] += count
        return out

    def summary(self, region: Region, job: Job) -> dict[str, Any]:
        allocs = self.lookup(region).by_job.get(id(job), [])
        return wire.job_summary(job, allocs, self.queued(region, job))

    # --- agent and namespaces -----------------------------------------------------------------
    def agent_self(self, call: Call) -> Any:
        return wire.agent_self(call.region, self.store.scenario.version, acl=True)

    def agent_members(self, call: Call) -> Any:
        members = [wire.agent_self(r, self.store.scenario.version, acl=True)["member"]
                   for r in self.store.scenario.regions.values()]
        region = call.region
        return {"ServerName": f"{region.name}-server-1", "ServerRegion": region.name,
                "ServerDC": region.datacenters[0], "Members": members}

    def namespaces(self, call: Call) -> Any:
        return ("namespaces", lambda: [self._namespace(n) for n in NAMESPACE_INFO])

    def namespace(self, call: Call, name: str) -> Any:
        if name not in NAMESPACE_INFO:
            raise ApiError(404, "namespace not found")
        return ("namespaces", self._namespace(name))

    @staticmethod
    def _namespace(name: str) -> dict[str, Any]:
        return {"Name": name, "Description": NAMESPACE_INFO[name], "Quota": "", "Capabilities": None,
                "NodePoolConfiguration": None, "Meta": None, "CreateIndex": 1, "ModifyIndex": 1}

    # --- lists ----------------------------------------------------------------------------------
    def nodes(self, call: Call) -> Any:
        resources, os = call.flag("resources", False), call.flag("os", False)
        build = lambda r: (item(n.id, "", lambda n=n: wire.node_stub(n, resources=resources, os=os))  # noqa: E731
                           for n in r.nodes)
        return ("nodes", lambda: self.store.items(call.region.name, "nodes", (resources, os), build))

    def jobs(self, call: Call) -> Any:
        build = lambda r: (item(f"{j.namespace}.{j.id}", j.namespace,  # noqa: E731
                                lambda j=j: wire.job_stub(j, self.summary(r, j))) for j in r.jobs)
        return ("jobs", lambda: self.store.items(call.region.name, "jobs", (), build))

    def allocations(self, call: Call) -> Any:
        resources, states = call.flag("resources", False), call.flag("task_states", True)
        build = lambda r: (item(a.id, a.namespace,  # noqa: E731
                                lambda a=a: wire.alloc_stub(a, resources=resources, task_states=states))
                           for a in r.allocs)
        return ("allocs", lambda: self.store.items(call.region.name, "allocs", (resources, states), build))

    def deployments(self, call: Call) -> Any:
        build = lambda r: (item(d.id, d.job.namespace, lambda d=d: wire.deployment(d))  # noqa: E731
                           for d in r.deployments)
        return ("deployment", lambda: self.store.items(call.region.name, "deployment", (), build))

    def evaluations(self, call: Call) -> Any:
        build = lambda r: (item(e.id, e.job.namespace, lambda e=e: wire.evaluation(e))  # noqa: E731
                           for e in r.evaluations)
        return ("evals", lambda: self.store.items(call.region.name, "evals", (), build))

    # --- single objects -------------------------------------------------------------------------
    def node(self, call: Call, node_id: str) -> Any:
        return ("nodes", wire.node_full(self.node_of(call, node_id)))

    def node_allocations(self, call: Call, node_id: str) -> Any:
        self.node_of(call, node_id)
        allocs = self.lookup(call.region).by_node.get(node_id, [])
        return ("allocs", [wire.alloc_full(a) for a in allocs])

    def job_summary(self, call: Call, job_id: str) -> Any:
        summary = self.summary(call.region, self.job_of(call, job_id))
        return ("jobs", summary)

    def job_allocations(self, call: Call, job_id: str) -> Any:
        job = self.job_of(call, job_id)
        return ("allocs", _stubs(self.lookup(call.region).by_job.get(id(job), [])))

    def job_latest_deployment(self, call: Call, job_id: str) -> Any:
        found = self.deployments_of(call, job_id)
        return ("deployment", wire.deployment(found[0]) if found else None)

    def deployment(self, call: Call, deployment_id: str) -> Any:
        return ("deployment", wire.deployment(_by_id(call.region.deployments, deployment_id, "deployment")))

    def deployment_allocations(self, call: Call, deployment_id: str) -> Any:
        return ("allocs", _stubs(a for a in call.region.allocs if a.deployment_id == deployment_id))

    def evaluation(self, call: Call, eval_id: str) -> Any:
        return ("evals", wire.evaluation(_by_id(call.region.evaluations, eval_id, "eval")))

    def evaluation_allocations(self, call: Call, eval_id: str) -> Any:
        return ("allocs", _stubs(a for a in call.region.allocs if a.eval_id == eval_id))

    # --- client endpoints (forwarded to the node's agent) ---------------------------------------
    def client_stats(self, call: Call) -> Any:
        node_id = call.request.param("node_id")
        if not node_id:
            raise ApiError(400, "missing node_id: this agent is not a client")
        node = self.lookup(call.region).nodes.get(node_id)
        if node is None:
            raise ApiError(404, "Unknown node")
        if node.status != "ready" or not node.stats:
            raise ApiError(500, "No path to node")
        return wire.host_stats(node, now_ns())

    def allocation_stats(self, call: Call, alloc_id: str) -> Any:
        alloc = self.alloc_of(call, alloc_id)
        if alloc.node.status != "ready" or not alloc.node.stats:
            raise ApiError(500, "No path to node")
        if alloc.client_status != "running":
            raise ApiError(500, f"unknown allocation ID {alloc_id!r}")
        return wire.alloc_stats(alloc, now_ns())

    # --- the event stream -----------------------------------------------------------------------
    def event_stream(self, call: Call) -> Response:
        start = int(call.request.param("index") or 0)
        topics = call.request.query.get("topic") or ["*"]
        region = call.region.name
        return Response(200, stream=self._events(region, start, topics),
                        headers={"Content-Type": "application/json"})

    def _events(self, region: str, index: int, topics: list[str]) -> Iterator[bytes]:
        wanted = [t.split(":", 1) + ["*"] for t in topics]
        while not self.store.closed:
            batches = self.store.events_after(region, index, self.heartbeat_s)
            if not batches:
                yield b"{}\n"
                continue
            for batch in batches:
                index = batch["Index"]
                events = [e for e in batch["Events"] if any(
                    t[0] in ("*", e["Topic"]) and t[1] in ("*", e["Key"]) for t in wanted)]
                if events:
                    yield json.dumps({"Index": index, "Events": events}).encode() + b"\n"


def _by_id(records: Iterable[Any], wanted: str, what: str) -> Any:
    for record in records:
        if record.id == wanted:
            return record
    raise ApiError(404, f"{what} not found")


def _stubs(allocs: Iterable[Alloc]) -> list[dict[str, Any]]:
    """Allocation stubs as job/deployment/evaluation sub-lists give them (task states, no resources)."""
    return [wire.alloc_stub(a, resources=False, task_states=True) for a in allocs]
