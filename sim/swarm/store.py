"""The emulated engine's state: a rendered scenario kept as encoded bytes, and its event log.

Every object is encoded once (a list of 150,000 tasks is a join of ready bytes, and a joined
list is kept until the state changes). `update(scenario)` swaps in a new state and logs the events
a real engine would emit for the difference (node, service and local container events).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import msgspec

from sim.swarm import engine
from sim.swarm.ids import NANO
from sim.swarm.objects import REFERENCE_NS, Rendered, keep_unchanged, render
from sim.swarm.scenario import Scenario

_encode = msgspec.json.encode
EVENTS_KEPT = 1024  # dockerd replays a bounded window of past events to `since`
PAGE_CACHE_ENTRIES = 4096


@dataclass
class TaskRow:
    """What the `/tasks` filters look at, beside the encoded task."""

    id: str
    service_id: str
    node_id: str
    desired: str
    name: str
    labels: dict[str, str]
    body: bytes


@dataclass
class State:
    scenario: Scenario
    rendered: Rendered
    nodes: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    services: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    status: dict[str, bytes] = field(default_factory=dict)  # `,"ServiceStatus":{...}}` to close a service
    tasks: list[TaskRow] = field(default_factory=list)
    by_service: dict[str, list[TaskRow]] = field(default_factory=dict)
    containers: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    version: dict[str, Any] = field(default_factory=dict)
    # the scenario rendered at REFERENCE_NS, once a change on the wall clock needed it
    reference: Rendered | None = None


def encode_state(scenario: Scenario, previous: State | None = None) -> State:
    """The scenario rendered and encoded; after a `previous` state on the wall clock, objects the
    change did not touch keep their times (see `keep_unchanged`)."""
    rendered = render(scenario)
    reference = None
    if previous is not None and scenario.now_s is None:
        reference = render(scenario, REFERENCE_NS)
        before = previous.reference or render(previous.scenario, REFERENCE_NS)
        rendered = keep_unchanged(rendered, reference, before, previous.rendered)
    state = State(scenario, rendered, reference=reference)
    state.nodes = [(n, _encode(n)) for n in rendered.nodes]
    names = {}
    for service in rendered.services:
        state.services.append((service, _encode(service)))
        state.status[service["ID"]] = b',"ServiceStatus":' + _encode(rendered.status[service["ID"]]) + b"}"
        names[service["ID"]] = service["Spec"]["Name"]
    for task in rendered.tasks:
        name = f"{names[task['ServiceID']]}.{task.get('Slot') or task.get('NodeID', '')}"
        row = TaskRow(task["ID"], task["ServiceID"], task.get("NodeID", ""), task["DesiredState"], name,
                      task["Spec"]["ContainerSpec"].get("Labels", {}), _encode(task))
        state.tasks.append(row)
        state.by_service.setdefault(row.service_id, []).append(row)
    state.containers = [(c, _encode(c)) for c in rendered.containers]
    state.info = engine.info(scenario, rendered)
    state.version = engine.version(scenario)
    return state


class Store:
    def __init__(self, scenario: Scenario):
        self._lock = threading.Condition()
        self.state = encode_state(scenario)
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self._pages: dict[tuple, bytes] = {}
        self.closed = False
        for event in initial_events(self.state):
            self.events.append(event)

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    def update(self, scenario: Scenario) -> None:
        """Move to `scenario` (a node drained, a service scaled...), logging the engine's events."""
        new = encode_state(scenario, self.state)
        with self._lock:
            old, self.state = self.state, new
            self._pages.clear()
            for event in changes(old, new, time.time_ns()):
                self.events.append(event)
            self._lock.notify_all()

    def page(self, key: tuple, bodies: Callable[[], list[bytes]]) -> bytes:
        """The JSON array of `bodies()`, joined once per state."""
        found = self._pages.get(key)
        if found is None:
            found = b"[" + b",".join(bodies()) + b"]"
            if len(self._pages) > PAGE_CACHE_ENTRIES:
                self._pages.clear()
            self._pages[key] = found
        return found

    def events_between(self, since_ns: int, until_ns: int | None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["timeNano"] >= since_ns and (until_ns is None or e["timeNano"] <= until_ns)]

    def wait_for_events(self, after_ns: int, timeout_s: float) -> list[dict[str, Any]]:
        """Events newer than `after_ns`, waiting up to `timeout_s` for one to come."""
        with self._lock:
            self._lock.wait_for(lambda: self.closed or (self.events and self.events[-1]["timeNano"] > after_ns),
                                timeout=timeout_s)
            return [e for e in self.events if e["timeNano"] > after_ns]

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._lock.notify_all()


# -- events -----------------------------------------------------------------------------------------
def event(kind: str, action: str, actor_id: str, attributes: dict[str, str], when_ns: int,
          scope: str = "swarm", legacy_from: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if kind == "container":  # the pre-1.22 keys dockerd still writes for container events
        found = {"status": action, "id": actor_id, "from": legacy_from or ""}
    found.update({"Type": kind, "Action": action, "Actor": {"ID": actor_id, "Attributes": attributes},
                  "scope": scope, "time": when_ns // NANO, "timeNano": when_ns})
    return found


def _created_ns(obj: dict[str, Any]) -> int:
    text = obj["CreatedAt"].rstrip("Z")
    head, _, fraction = text.partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return seconds * NANO + int((fraction or "0").ljust(9, "0")[:9])


def initial_events(state: State) -> list[dict[str, Any]]:
    found = [event("node", "create", n["ID"], {"name": n["Description"]["Hostname"]}, _created_ns(n))
             for n, _ in state.nodes]
    found += [event("service", "create", s["ID"], {"name": s["Spec"]["Name"]}, _created_ns(s)) for s, _ in state.services]
    found += [container_event("start", c, _created_ns_container(c)) for c, _ in state.containers]
    return sorted(found, key=lambda e: e["timeNano"])[-EVENTS_KEPT:]


def _created_ns_container(container: dict[str, Any]) -> int:
    return container["Created"] * NANO


def container_event(action: str, container: dict[str, Any], when_ns: int, **extra: str) -> dict[str, Any]:
    attributes = {**container["Labels"], "image": container["Image"], "name": container["Names"][0][1:], **extra}
    return event("container", action, container["Id"], attributes, when_ns, scope="local",
                 legacy_from=container["Image"])


def _pairs(old: list[tuple[dict[str, Any], bytes]], new: list[tuple[dict[str, Any], bytes]]
           ) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """(before, after) for each object by ID: None before when created, None after when removed."""
    before = {obj["ID"]: obj for obj, _ in old}
    for obj, _ in new:
        yield before.pop(obj["ID"], None), obj
    for obj in before.values():
        yield obj, None


def _lifecycle(kind: str, was: dict[str, Any] | None, now: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The create or remove event of an object only one side has."""
    if now is None:
        return event(kind, "remove", was["ID"] if was else "", {"name": name}, 0)
    return event(kind, "create", now["ID"], {"name": name}, 0)


def changes(old: State, new: State, now_ns: int) -> list[dict[str, Any]]:
    """The events between two states, each a nanosecond apart so `since` can resume between them."""
    found: list[dict[str, Any]] = []
    for was, node in _pairs(old.nodes, new.nodes):
        name = (node or was or {})["Description"]["Hostname"]
        if was is None or node is None:
            found.append(_lifecycle("node", was, node, name))
            continue
        attributes = {"name": name}
        for label, path in (("availability", ("Spec", "Availability")), ("role", ("Spec", "Role")),
                            ("state", ("Status", "State"))):
            then, now = was[path[0]][path[1]], node[path[0]][path[1]]
            if then != now:
                attributes[f"{label}.new"], attributes[f"{label}.old"] = now, then
        leader_then = was.get("ManagerStatus", {}).get("Leader", False)
        leader_now = node.get("ManagerStatus", {}).get("Leader", False)
        if leader_then != leader_now:
            attributes["leader.new"], attributes["leader.old"] = str(leader_now).lower(), str(leader_then).lower()
        if len(attributes) > 1:
            found.append(event("node", "update", node["ID"], attributes, 0))
    for was, service in _pairs(old.services, new.services):
        name = (service or was or {})["Spec"]["Name"]
        if was is None or service is None:
            found.append(_lifecycle("service", was, service, name))
        # a task changing state is no service event: the engine emits none for tasks (only the
        # node that runs one emits its container's events)
        elif was["Spec"] != service["Spec"]:
            attributes = {"name": name}
            replicas = [s["Spec"]["Mode"].get("Replicated", {}).get("Replicas") for s in (service, was)]
            if replicas[0] != replicas[1] and None not in replicas:
                attributes["replicas.new"], attributes["replicas.old"] = str(replicas[0]), str(replicas[1])
            images = [s["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] for s in (service, was)]
            if images[0] != images[1]:
                attributes["image.new"], attributes["image.old"] = images
            found.append(event("service", "update", service["ID"], attributes, 0))
    found += container_changes(old, new)
    for offset, item in enumerate(found):
        item["timeNano"] = now_ns + offset
        item["time"] = item["timeNano"] // NANO
    return found


def container_changes(old: State, new: State) -> list[dict[str, Any]]:
    before = {c["Id"]: c for c, _ in old.containers}
    found = []
    for container, _ in new.containers:
        was = before.pop(container["Id"], None)
        if was is None:
            found += [container_event("create", container, 0), container_event("start", container, 0)]
        elif was["Status"] != container["Status"] and "(" in container["Status"]:
            health = container["Status"].rsplit("(", 1)[1].rstrip(")").replace("health: ", "")
            found.append(container_event(f"health_status: {health}", container, 0))
    for container in before.values():
        found += [container_event("kill", container, 0, signal="15"), container_event("die", container, 0, exitCode="0"),
                  container_event("destroy", container, 0)]
    return found
