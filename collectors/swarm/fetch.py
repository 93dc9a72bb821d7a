"""Docker Swarm: nodes, services and their current tasks, through the Docker Engine API.

Read-only: only list/inspect calls (docs.docker.com/engine/api: Node, Service with `status=true`,
Task), each bounded in time and size and decoded into typed wire structs (collectors/swarm/engine.py);
`normalize` is pure. Each round reads `/version` (which API version to speak, and whether the engine
answers) and the health of the manager's own task containers; nodes, services and tasks are listed
in full by the first round and then kept fresh by the engine's event stream (collectors/swarm/live.py),
or listed again every round when the stream cannot be had (polling).
"""
from __future__ import annotations

import logging
import time
from typing import Any

import docker

from collectors.base import Collector
from collectors.swarm import wire
from collectors.swarm.engine import EngineSession, api_tuple, refusal, translate  # noqa: F401  (api_tuple: tests)
from collectors.swarm.listing import Listing, TaskWorker, list_all
from collectors.swarm.live import LiveFeed
from collectors.swarm.normalize import TASK_ID_LABEL, SwarmRaw, local_task_health, normalize
from collectors.toolkit import convert, decode, short
from fleet.source import ClusterData, SourceError

log = logging.getLogger(__name__)


class SwarmCollector(Collector[SwarmRaw]):
    orchestrator = "swarm"

    def __init__(self, config, *, live: bool = True):
        super().__init__(config)
        self._session: EngineSession | None = None
        # `api_version: "1.40"` pins the Engine API version; by default the engine's own is used
        self.pinned_api = config.option("api_version")
        self.live = live  # False: list everything every round (no event stream)
        self.feed: LiveFeed | None = None
        self.listings = 0  # full listings in the round's thread (tests: live rounds do not list)
        self.worker = TaskWorker(config)  # a process reading tasks too, started by the first listing of a large swarm
        self._memo: tuple[tuple, ClusterData] | None = None

    def _connect(self, timeout_s: float) -> EngineSession:
        if self._session is None:
            try:
                self._session = EngineSession(self.config, timeout_s)
            except docker.errors.DockerException as exc:
                raise translate(exc, self.endpoint) from None
        return self._session

    def fetch(self, timeout_s: float) -> SwarmRaw:
        try:
            session = self._connect(timeout_s)
            version = session.negotiate(timeout_s, self.pinned_api)
            generation, listing, problem = self._swarm(session, timeout_s)
            containers = self._local_containers(session, timeout_s)
        except SourceError:
            self._close_session()
            raise
        return SwarmRaw(version=version, nodes=listing.nodes, services=listing.services, tasks=listing.tasks,
                        local_health=local_task_health(containers), api_version=session.api_version,
                        live_problem=problem, generation=generation, split=listing.split)

    def _swarm(self, session: EngineSession, timeout_s: float) -> tuple[int | None, Listing, str | None]:
        """Nodes, services and tasks: from the live state (and its generation) when the stream keeps
        it, else listed (generation None); and why live updates are off, if a proxy stops them."""
        feed = self.feed
        if feed is not None and (feed.retry_due() or feed.ended()):
            feed.stop()
            feed = self.feed = None
        if feed is not None and feed.live():
            return (*self._state(feed), None)
        if self.live and feed is None:
            feed = self.feed = LiveFeed(EngineSession(self.config, timeout_s), timeout_s, self.name, self.worker)
            feed.session.api_version = feed.session.client._version = session.api_version
        if feed is not None:
            feed.begin_listing()
        started = time.monotonic()
        listing = list_all(session, timeout_s, self.worker)
        self.listings += 1
        if feed is None:
            return None, listing, None
        feed.load(listing.nodes, listing.services, listing.tasks, time.monotonic() - started)
        if feed.blocked is not None:
            return None, listing, f"live updates off, polling each round: {feed.blocked}"
        loaded = feed.state.generation
        feed.start(session.date_header)
        # the state just loaded, with its generation: the next round reuses this one's result if
        # nothing changed meanwhile (its events are read from before the listing began)
        generation, state = self._state(feed)
        if generation == loaded:  # no event changed it yet: the listing's split still holds
            state.split = listing.split
        return generation, state, None

    @staticmethod
    def _state(feed: LiveFeed) -> tuple[int, Listing]:
        generation, nodes, services, tasks = feed.state.values()
        return generation, Listing(nodes, services, tasks)

    def _local_containers(self, session: EngineSession, timeout_s: float) -> list[wire.ContainerSummary]:
        """Containers of tasks on this manager, for their health checks: optional (a proxy in front
        of the engine may not pass /containers/json), so a refusal only leaves health unknown."""
        # the SDK's containers(filters=...) query, as it sends it
        params = {"limit": -1, "all": 0, "size": 0, "trunc_cmd": 0,
                  "filters": docker.utils.convert_filters({"label": TASK_ID_LABEL})}
        what, code, body, headers = session.answer(timeout_s, "/containers/json", params)
        if code >= 400:
            log.info("swarm cluster %s: container health not read: %s", self.name,
                     short(refusal(what, code, body, headers)))
            return []
        return decode(body, list[wire.ContainerSummary], what)

    def normalize(self, raw: SwarmRaw) -> ClusterData:
        """Pure; a live round whose state and container health did not change reuses the last result."""
        key = (raw.generation, raw.version.Version, raw.api_version, raw.live_problem,
               tuple(sorted(raw.local_health.items())))
        if raw.generation is not None and self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        data = normalize(raw)
        self._memo = (key, data) if raw.generation is not None else None
        return data

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def close(self) -> None:
        self._close_session()
        if self.feed is not None:
            self.feed.stop()
            self.feed = None
        self.worker.close()


def read_answers(endpoint: str, version: Any, nodes: Any, services: Any, tasks: Any,
                 containers: Any = ()) -> SwarmRaw:
    """Already-parsed answers (recorded payloads) as wire structs; a wrong shape is a MalformedPayload naming the call."""
    def what(call: str) -> str:
        return f"GET {call} on {endpoint}"
    return SwarmRaw(
        version=convert(version, wire.EngineVersion, what("/version")),
        nodes=convert(nodes, list[wire.Node], what("/nodes")),
        services=convert(services, list[wire.Service], what("/services")),
        tasks=convert(tasks, list[wire.Task], what("/tasks")),
        local_health=local_task_health(convert(containers, list[wire.ContainerSummary],
                                                    what("/containers/json"))),
    )
