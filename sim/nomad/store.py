"""The emulated state store: table indexes, rendered list caches and the event log.

Nomad keeps one Raft index per table (nodes, jobs, allocs, deployment, evals); blocking queries
wait on it and every answer carries it as `X-Nomad-Index`. Here a table's index moves when the
scenario is replaced (the timeline moved on) or `update()` changes it. Rendered list items are
cached per table index, so a 100,000-allocation list is built once, then served from bytes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import msgspec

from sim.nomad import wire
from sim.nomad.model import NANOS, Region
from sim.nomad.scenario import Scenario

TABLES = ("nodes", "jobs", "allocs", "deployment", "evals", "namespaces")
EVENT_LOG_SIZE = 4096
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # sort order and pagination token
    namespace: str
    body: bytes
    view: Callable[[], dict[str, Any]]  # the item as a dict, built only when a filter needs it


class Store:
    def __init__(self, scenario: Scenario | Callable[[], Scenario]):
        self._source = scenario if callable(scenario) else (lambda s=scenario: s)
        self._cond = threading.Condition()
        self._scenario = self._source()
        base = _max_index(self._scenario)
        self._indexes = {(r, t): base for r in self._scenario.regions for t in TABLES}
        self._cache: dict[tuple, list[Item]] = {}
        self._bodies: dict[tuple, bytes] = {}  # single objects' JSON, (region, table, key) -> body
        self._events: dict[str, list[dict[str, Any]]] = {r: [] for r in self._scenario.regions}
        self.closed = False

    # --- the scenario and its indexes -------------------------------------------------------------
    @property
    def scenario(self) -> Scenario:
        current = self._source()
        if current is not self._scenario:
            self._replace(current)
        return self._scenario

    def region(self, name: str) -> Region | None:
        return self.scenario.regions.get(name)

    def index(self, region: str, table: str) -> int:
        self.scenario  # noqa: B018 - moves the timeline on if it is due
        with self._cond:
            return self._indexes[(region, table)]

    def _replace(self, scenario: Scenario) -> None:
        with self._cond:
            old, self._scenario = self._scenario, scenario
            top = max(self._indexes.values()) + 1
            for key in self._indexes:
                self._indexes[key] = top
            self._cache.clear()
            self._bodies.clear()
            for name, region in scenario.regions.items():
                self._log(name, top, _changes(old.regions.get(name), region))
            self._cond.notify_all()

    def update(self, region: str, tables: Iterable[str], change: Callable[[Region], None] | None = None) -> int:
        """Change a region's state in place (tests, timelines) and move the given tables' index."""
        with self._cond:
            target = self._scenario.regions[region]
            if change is not None:
                change(target)
            top = max(self._indexes.values()) + 1
            for table in tables:
                self._indexes[(region, table)] = top
            moved = {(region, t) for t in tables}
            self._cache = {k: v for k, v in self._cache.items() if (k[0], k[1]) not in moved}
            self._bodies = {k: v for k, v in self._bodies.items() if (k[0], k[1]) not in moved}
            self._log(region, top, [("Node", "NodeUpdate", n.id, "", {"Node": wire.node_stub(
                n, resources=False, os=False)}) for n in target.nodes] if "nodes" in tables else [])
            self._cond.notify_all()
            return top

    def wait_for_change(self, region: str, table: str, index: int, wait_s: float) -> int:
        """Blocking query: return once the table's index passes `index`, or after `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            current = self.index(region, table)
            remaining = deadline - time.monotonic()
            if current > index or remaining <= 0 or self.closed:
                return current
            with self._cond:
                self._cond.wait(timeout=min(remaining, 0.25))

    # --- rendered lists ---------------------------------------------------------------------------
    def items(self, region: str, table: str, variant: tuple, build: Callable[[Region], Iterable[Item]]) -> list[Item]:
        self.scenario  # noqa: B018
        key = (region, table, variant)
        with self._cond:  # built under the lock: update() changes a region in place (tests, timelines)
            cached = self._cache.get(key)
            if cached is None:
                cached = sorted(build(self._scenario.regions[region]), key=lambda item: item.key)
                self._cache[key] = cached
        return cached

    def body(self, region: str, table: str, key: tuple, render: Callable[[Region], Any]) -> bytes:
        """One object's JSON, rendered once and kept until its table moves, as lists are: a Go
        server encodes a job in microseconds; rendering one here takes a quarter of a millisecond."""
        self.scenario  # noqa: B018
        with self._cond:
            found = self._bodies.get((region, table, key))
            if found is None:
                found = self._bodies[(region, table, key)] = _encode(render(self._scenario.regions[region]))
        return found

    # --- the event stream -------------------------------------------------------------------------
    def _log(self, region: str, index: int, events: list[tuple[str, str, str, str, dict]]) -> None:
        if not events:
            return
        body = {"Index": index, "Events": [{"Topic": topic, "Type": type_, "Key": key, "Namespace": ns,
                                            "FilterKeys": None, "Index": index, "Payload": payload}
                                           for topic, type_, key, ns, payload in events]}
        log = self._events.setdefault(region, [])
        log.append(body)
        del log[:-EVENT_LOG_SIZE]

    def events_after(self, region: str, index: int, wait_s: float) -> list[dict[str, Any]]:
        """Event batches newer than `index`; waits up to `wait_s` for one when there are none."""
        with self._cond:
            found = [e for e in self._events.get(region, []) if e["Index"] > index]
            if not found and not self.closed:
                self._cond.wait(timeout=wait_s)
                found = [e for e in self._events.get(region, []) if e["Index"] > index]
            return found

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def _changes(old: Region | None, new: Region) -> list[tuple[str, str, str, str, dict]]:
    """Event-stream entries for what differs between two states of a region: nodes whose status or
    eligibility moved, jobs whose status or version moved."""
    nodes = {n.id: (n.status, n.eligible, n.draining) for n in old.nodes} if old else {}
    jobs = {(j.namespace, j.id): (j.status, j.stop, j.version) for j in old.jobs} if old else {}
    events: list[tuple[str, str, str, str, dict]] = [
        ("Node", "NodeRegistration", n.id, "", {"Node": wire.node_stub(n, resources=False, os=False)})
        for n in new.nodes if nodes.get(n.id) != (n.status, n.eligible, n.draining)]
    events += [("Job", "JobRegistered", j.id, j.namespace, {"Job": wire.job_full(j)})
               for j in new.jobs if jobs.get((j.namespace, j.id)) != (j.status, j.stop, j.version)]
    return events


def item(key: str, namespace: str, render: Callable[[], dict[str, Any]]) -> Item:
    return Item(key, namespace, _encode(render()), render)


def _max_index(scenario: Scenario) -> int:
    top = 1
    for region in scenario.regions.values():
        for records in (region.nodes, region.jobs, region.allocs, region.deployments, region.evaluations):
            top = max([top, *(r.modify_index for r in records)])
    return top


def now_ns() -> int:
    return int(time.time() * NANOS)
