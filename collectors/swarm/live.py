"""Live updates between rounds: the engine's event stream (`GET /events`) keeps the swarm fresh.

After the first listing, a daemon thread reads `/events` (types service, node and container, from
the last event seen: `since`) and a second one re-reads what an event names: the service (with its
counts) and its tasks, or the node. A container event names its service by label, so a task that
fails, is killed or replaced on this manager is in the model within a moment; re-reads repeat a
little later (`FOLLOW_UPS_S`) because a task's state settles after its container's event. Rounds
then read this state instead of listing everything again.

The engine sends nothing on a quiet stream, so each request asks it to end the stream itself after
`WINDOW_S` (`until`); a stream still open `MARGIN_S` past that is cut (collectors.deadline) and
reopened, as is one that drops. After a drop, everything is listed again in the background, since
the engine's own event buffer does not cover a restart.

The engine emits no task events and no container events of other nodes: tasks on other nodes change
the model at the next resync, in the background every `resync_s()` (at least `RESYNC_MIN_S` apart,
and never more than a tenth of the time). A resync compares the nodes, the services and the tasks
meant to run (`desired-state=running`: any change to a task moves its version) with the state and
reads again what differs; everything is listed again every `RELIST_S`, and after the stream dropped.

A proxy (or the engine) may refuse the stream (400, 401, 403, 404, 405, 501) or hold it back (no
headers within the round's timeout, or events arriving `LATE_S` late by the engine's clock): the
feed then stops, rounds list everything again (polling), the cluster says why, and the stream is
tried again after `RETRY_S`. Read-only: GETs only.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any, Iterator

import msgspec

from collectors.deadline import MIB, bounded, too_large
from collectors.swarm import wire
from collectors.swarm.engine import EngineSession, NotFound, engine_message, filters
from collectors.swarm.listing import TaskWorker, list_all, nodes_and_services
from fleet.source import SourceError

log = logging.getLogger(__name__)

WINDOW_S = 60.0
MARGIN_S = 15.0
LATE_S = 5.0
FOLLOW_UPS_S = (0.05, 0.2, 0.5, 1.0, 2.0)
RESYNC_MIN_S = 15.0
# a full listing at least this often; between them the resync compares what is meant to run (`_check`)
RELIST_S = 600.0
RETRY_S = 300.0
BLOCKED = {400, 401, 403, 404, 405, 501}  # the stream cannot be had as asked: poll
MAX_EVENT_BYTES = 1 * MIB  # an event is a few hundred bytes
SERVICE_LABEL = "com.docker.swarm.service.id"
# what changes a task or an object; not exec_* (a health check runs one every interval), attach, resize...
ACTIONS = ["create", "update", "remove", "start", "die", "destroy", "oom", "health_status"]
STREAM_FILTERS = filters(type=["service", "node", "container"], event=ACTIONS)
_event_decoder = msgspec.json.Decoder(wire.EventMessage)
# generations are unique across states: a new feed's state never repeats an old one's number
_generations = itertools.count(1)


class Blocked(Exception):
    """The stream cannot be had through whatever stands in front of the engine: poll instead."""


class SwarmState:
    """Nodes, services (with their counts) and tasks, as listed and then kept by events. Each
    change takes a new `generation`, so a round that finds nothing changed can reuse its last result."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.nodes: dict[str, wire.Node] = {}
        self.services: dict[str, wire.Service] = {}
        self.tasks: dict[str, list[wire.Task]] = {}  # by service ID: a service's tasks are re-read together

    def load(self, nodes: list[wire.Node], services: list[wire.Service], tasks: list[wire.Task]) -> None:
        by_service: dict[str, list[wire.Task]] = {}
        for task in tasks:
            by_service.setdefault(task.ServiceID, []).append(task)
        by_node, by_id = {n.ID: n for n in nodes}, {s.ID: s for s in services}
        with self.lock:
            # a background listing of a quiet swarm finds what the state holds: it keeps its
            # generation, so the round reuses its last result instead of normalizing it all again
            if self.generation and by_node == self.nodes and by_id == self.services and by_service == self.tasks:
                return
            self.nodes, self.services, self.tasks = by_node, by_id, by_service
            self.generation = next(_generations)

    def values(self) -> tuple[int, list[wire.Node], list[wire.Service], list[wire.Task]]:
        with self.lock:
            return (self.generation, list(self.nodes.values()), list(self.services.values()),
                    [task for tasks in self.tasks.values() for task in tasks])

    def differences(self, nodes: list[wire.Node], services: list[wire.Service],
                    meant_to_run: list[wire.Task]) -> tuple[list[tuple[str, wire.Node | None]], set[str]]:
        """What a light listing (nodes, services, the tasks meant to run) finds changed against the
        state: (node ID, node or None when gone) for each changed node, and the services whose
        definition, counts or tasks meant to run differ (any change to a task moves its version)."""
        listed_nodes = {n.ID: n for n in nodes}
        listed_services = {s.ID: s for s in services}
        running: dict[str, set[tuple[str, int]]] = {}
        for task in meant_to_run:
            running.setdefault(task.ServiceID, set()).add(task_and_version(task))
        with self.lock:
            changed_nodes = [(node_id, node) for node_id, node in listed_nodes.items() if self.nodes.get(node_id) != node]
            changed_nodes += [(node_id, None) for node_id in self.nodes if node_id not in listed_nodes]
            changed = {service_id for service_id, service in listed_services.items()
                       if self.services.get(service_id) != service}
            changed |= set(self.services) - set(listed_services)
            for service_id, tasks in self.tasks.items():
                held = {task_and_version(t) for t in tasks if t.DesiredState == "running"}
                if held != running.get(service_id, set()):
                    changed.add(service_id)
            changed |= set(running) - set(self.tasks)
            # tasks of a service neither listed nor held (created after /services was read) wait for it
            changed &= set(listed_services) | set(self.services)
        return changed_nodes, changed

    def put_service(self, service_id: str, service: wire.Service | None, tasks: list[wire.Task]) -> None:
        with self.lock:
            self.generation = next(_generations)
            if service is None:
                self.services.pop(service_id, None)
                self.tasks.pop(service_id, None)
                return
            self.services[service_id] = service
            self.tasks[service_id] = tasks

    def put_node(self, node_id: str, node: wire.Node | None) -> None:
        with self.lock:
            self.generation = next(_generations)
            if node is None:
                self.nodes.pop(node_id, None)
            else:
                self.nodes[node_id] = node


def task_and_version(task: wire.Task) -> tuple[str, int]:
    """A task and the version of its object: any change to the task moves the version."""
    return task.ID, task.Version.Index if task.Version else 0


def engine_clock_offset_s(date_header: str | None) -> float:
    """How far the engine's clock is ahead of ours, from an answer's `Date` (1 s resolution)."""
    if not date_header:
        return 0.0
    try:
        return parsedate_to_datetime(date_header).timestamp() - time.time()
    except (TypeError, ValueError, IndexError):
        return 0.0


class LiveFeed:
    """The stream reader and the re-reader, over their own engine session (not the round's)."""

    def __init__(self, session: EngineSession, open_timeout_s: float, name: str = "swarm",
                 worker: TaskWorker | None = None):
        self.session, self.open_timeout_s, self.name = session, open_timeout_s, name
        self.worker = worker  # the collector's task-part worker, for background listings
        self.state = SwarmState()
        self.synced = False  # the state is complete and kept fresh by a connected stream
        self.connected = False
        self.blocked: str | None = None  # why the stream is off (polling), said in the cluster's state
        self.blocked_at = 0.0
        self.failure: str | None = None
        self.connections = 0  # streams opened so far (tests: a dropped stream is reopened)
        self.rereads = 0
        self.last_listing_s = 0.0
        self._since_nanos = 0
        self._offset_s = 0.0
        self._due: list[tuple[float, str, str]] = []  # (when, "service" | "node", id)
        self._touched: set[tuple[str, str]] = set()
        self._resync_at = float("inf")
        self._relisted_at = 0.0  # when the last full listing was loaded (monotonic)
        self._relist_due = False  # the next resync lists everything (the stream dropped: events may be lost)
        self.checks = 0  # light resyncs so far (tests, the bench)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._budget: Any = None

    # -- in the round's thread ------------------------------------------------------------------
    def live(self) -> bool:
        return self.synced and self.connected and self.blocked is None and self._threads_alive()

    def begin_listing(self) -> None:
        with self._wake:
            self._touched = set()

    def load(self, nodes: list[wire.Node], services: list[wire.Service], tasks: list[wire.Task],
             listing_s: float) -> None:
        """A full listing replaces the state; what events touched meanwhile is read again."""
        self.state.load(nodes, services, tasks)
        with self._wake:
            self._relisted_at = time.monotonic()
            self.last_listing_s = listing_s
            self.synced, self.failure = True, None
            self._listed()

    def _listed(self) -> None:
        """After a listing or a light resync (holding `_wake`): what events touched meanwhile is
        read again, and the next resync is set."""
        now = time.monotonic()
        self._resync_at = now + self.resync_s()
        for kind, key in self._touched:
            heapq.heappush(self._due, (now, kind, key))
        self._touched = set()
        self._wake.notify()

    def start(self, engine_date: str | None) -> None:
        if self._threads_alive() or self._stop.is_set():
            return
        self._offset_s = engine_clock_offset_s(engine_date)
        # from a second before the listing began (by the engine's clock): nothing falls in between
        self._since_nanos = int((time.time() + self._offset_s - 1.0) * 1e9)
        self.blocked = None
        self._threads = [threading.Thread(target=self._read_stream, name=f"swarm-events {self.name}", daemon=True),
                         threading.Thread(target=self._reread, name=f"swarm-reread {self.name}", daemon=True)]
        for thread in self._threads:
            thread.start()

    def resync_s(self) -> float:
        return max(RESYNC_MIN_S, 10 * self.last_listing_s)

    def retry_due(self) -> bool:
        return self.blocked is not None and time.monotonic() - self.blocked_at >= RETRY_S

    def stop(self) -> None:
        self._stop.set()
        budget = self._budget
        if budget is not None:
            budget.cut()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        self.session.close()

    def ended(self) -> bool:
        """Its threads stopped for another reason than a blocked stream (never expected)."""
        return bool(self._threads) and not self._threads_alive() and self.blocked is None

    def _threads_alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    # -- the stream (its own thread) ------------------------------------------------------------
    def _read_stream(self) -> None:
        backoff_s, dropped = 0.5, False
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._stream_once(relist=dropped)
                backoff_s, dropped = 0.5, False
                if time.monotonic() - started < 1.0:  # a server that ends streams at once is not hammered
                    self._stop.wait(1.0)
                continue
            except Blocked as exc:
                self._fall_back(str(exc))
                return
            except Exception as exc:  # a broken stream must never take the process down
                if self._stop.is_set():
                    return
                log.info("swarm cluster %s: event stream dropped: %s", self.name, exc)
            self.connected, dropped = False, True
            self._stop.wait(backoff_s)
            backoff_s = min(backoff_s * 2, 10.0)

    def _stream_once(self, relist: bool) -> None:
        what = f"the event stream (GET /events on {self.session.endpoint})"
        until = time.time() + self._offset_s + WINDOW_S
        params = {"since": f"{self._since_nanos // 10**9}.{self._since_nanos % 10**9:09d}",
                  "until": f"{until:.0f}", "filters": STREAM_FILTERS}
        client = self.session.client
        opened = False
        try:
            with bounded(self.open_timeout_s, what, max_bytes=MAX_EVENT_BYTES) as budget:
                self._budget = budget
                if self._stop.is_set():
                    return
                response = client._get(client._url("/events"), params=params, stream=True,
                                       timeout=(self.open_timeout_s, WINDOW_S + MARGIN_S))
                opened = True
                budget.seconds = WINDOW_S + MARGIN_S  # from now on: the engine ends it at `until`
                budget.renew()
                try:
                    self._check_answer(response)
                    opened_at = time.time()
                    self._offset_s = engine_clock_offset_s(response.headers.get("Date")) or self._offset_s
                    self.connections += 1
                    self.connected = True
                    if relist:
                        self._request_resync()
                    for line in lines(response.raw, budget.max_bytes, what):
                        if self._stop.is_set():
                            return
                        self._apply(_event_decoder.decode(line), opened_at)
                finally:
                    response.close()
        except Blocked:
            raise
        except Exception:
            if not opened and not self._stop.is_set() and self._budget is not None and self._budget.expired:
                raise Blocked(f"GET /events on {self.session.endpoint} gave no answer within "
                              f"{self.open_timeout_s:g}s (a proxy that holds streamed answers back?)") from None
            raise
        finally:
            self._budget = None

    def _check_answer(self, response: Any) -> None:
        code = response.status_code
        if code == 200:
            return
        said = engine_message(response.raw.read(4096) or b"")
        message = f"GET /events on {self.session.endpoint}: HTTP {code}" + (f": {said}" if said else "")
        if code in BLOCKED:
            raise Blocked(message)
        raise SourceError(message)

    def _apply(self, event: wire.EventMessage, opened_at: float) -> None:
        self._since_nanos = max(self._since_nanos, event.timeNano)
        engine_now = time.time() + self._offset_s
        # only events that happened while this stream was open say how late the stream is
        late_s = engine_now - event.timeNano / 1e9
        if event.timeNano / 1e9 > opened_at + self._offset_s and late_s > LATE_S:
            raise Blocked(f"GET /events on {self.session.endpoint}: events arrive {late_s:.0f}s late "
                          "(a proxy that buffers the stream?)")
        actor = event.Actor or wire.EventActor()
        if not event.Action.startswith(tuple(ACTIONS)):  # an engine (or proxy) that ignored the filter
            return
        if event.Type in ("service", "node"):
            target = (event.Type, actor.ID)
        elif event.Type == "container" and (actor.Attributes or {}).get(SERVICE_LABEL):
            target = ("service", (actor.Attributes or {})[SERVICE_LABEL])
        else:
            return
        now = time.monotonic()
        with self._wake:
            self._touched.add(target)
            for delay in FOLLOW_UPS_S:
                heapq.heappush(self._due, (now + delay, *target))
            self._wake.notify()

    def _fall_back(self, why: str) -> None:
        log.warning("swarm cluster %s: live updates off, polling instead: %s", self.name, why)
        self.blocked, self.blocked_at = why, time.monotonic()
        self.connected = self.synced = False
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    def _request_resync(self) -> None:
        with self._wake:
            self._relist_due = True
            self._resync_at = time.monotonic()
            self._wake.notify()

    # -- re-reads (their own thread) ------------------------------------------------------------
    def _reread(self) -> None:
        while not self._stop.is_set():
            targets, resync = self._next_work()
            if self._stop.is_set():
                return
            try:
                if resync:
                    self._resync()
                for kind, key in targets:
                    self._refresh_service(key) if kind == "service" else self._refresh_node(key)
            except SourceError as exc:  # the next round lists in its own thread, and says what failed
                log.info("swarm cluster %s: re-read failed: %s", self.name, exc.message)
                self.synced, self.failure = False, exc.message
            except Exception as exc:
                log.warning("swarm cluster %s: re-read broke: %s: %s", self.name, type(exc).__name__, exc)
                self.synced, self.failure = False, f"{type(exc).__name__}: {exc}"

    def _next_work(self) -> tuple[set[tuple[str, str]], bool]:
        with self._wake:
            while not self._stop.is_set():
                now = time.monotonic()
                first = self._due[0][0] if self._due else float("inf")
                if first <= now or self._resync_at <= now:
                    break
                due = min(first, self._resync_at)
                self._wake.wait(None if due == float("inf") else due - now)  # nothing due: until woken
            now = time.monotonic()
            targets = set()
            while self._due and self._due[0][0] <= now:
                _, kind, key = heapq.heappop(self._due)
                targets.add((kind, key))
            resync = self._resync_at <= now
            if resync:
                self._resync_at = float("inf")  # load() sets the next one
            return targets, resync

    def _resync(self) -> None:
        """What the stream cannot tell (tasks on other nodes change without events): everything
        listed again every RELIST_S and after the stream dropped; in between only what is meant to
        run is compared (`_check`), ~a fifth of the bytes."""
        with self._wake:
            relist, self._relist_due = self._relist_due, False
        if relist or time.monotonic() - self._relisted_at >= RELIST_S:
            self._relist()
        else:
            self._check()

    def _relist(self) -> None:
        self.begin_listing()
        started = time.monotonic()
        listing = list_all(self.session, self.open_timeout_s, self.worker)
        self.load(listing.nodes, listing.services, listing.tasks, time.monotonic() - started)

    def _check(self) -> None:
        """The light resync: nodes, services and the tasks meant to run, compared with the state; a
        changed node is taken as listed, a changed service is read again (with all its tasks)."""
        timeout_s = self.open_timeout_s
        self.begin_listing()
        nodes, services = nodes_and_services(self.session, timeout_s)
        running = self.session.read(timeout_s, "/tasks", list[wire.Task],
                                    params={"filters": filters(**{"desired-state": ["running"]})})
        changed_nodes, changed_services = self.state.differences(nodes, services, running)
        for node_id, node in changed_nodes:
            self.state.put_node(node_id, node)
        for service_id in sorted(changed_services):
            self._refresh_service(service_id)
        self.checks += 1
        with self._wake:
            self._listed()

    def _refresh_service(self, service_id: str) -> None:
        timeout_s = self.open_timeout_s
        found = self.session.read(timeout_s, "/services", list[wire.Service],
                                  params={"filters": filters(id=[service_id]), "status": "true"})
        service = next((s for s in found if s.ID == service_id), None)
        tasks: list[wire.Task] = []
        if service is not None:
            try:
                tasks = self.session.read(timeout_s, "/tasks", list[wire.Task],
                                          params={"filters": filters(service=[service_id])})
            except NotFound:  # removed since
                service = None
        self.state.put_service(service_id, service, tasks)
        self.rereads += 1

    def _refresh_node(self, node_id: str) -> None:
        try:
            node: wire.Node | None = self.session.read(self.open_timeout_s, f"/nodes/{node_id}", wire.Node)
        except NotFound:
            node = None
        self.state.put_node(node_id, node)
        self.rereads += 1


def lines(raw: Any, max_bytes: int, what: str) -> Iterator[bytes]:
    """The engine's newline-delimited events, each as soon as it is complete (read1 never waits
    to fill a buffer); one event over `max_bytes` ends the stream."""
    pending = b""
    while chunk := raw.read1(65536):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
        if len(pending) > max_bytes:
            raise too_large(what, max_bytes, "one event kept coming")
