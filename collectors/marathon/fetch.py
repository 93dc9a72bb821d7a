"""Marathon on Mesos: apps and pods from Marathon (`url`), agents from the Mesos master (`mesos_url`).

One round is five GETs to Marathon and one to the master, whatever the cluster's size (no per-app
requests): `/v2/info`, `/v2/apps` with explicit embeds (tasks, counts, deployments, readiness,
lastTaskFailure), `/v2/pods/::status`, `/v2/queue`, `/v2/deployments`, and the master's
`/master/state-summary` (agents with resources and task counts; `/master/state` would add every
task and framework for nothing). Big payloads are decoded by msgspec straight into the typed wire
structs. Leader redirects of both services are followed (see `collectors.marathon.leader`).

Marathon is the core: if `/v2/info` or `/v2/apps` fails, the round fails (`unreachable`,
`unauthorized`, `error`). Everything else is optional and only makes the cluster `degraded`,
naming the part that failed. In particular, Mesos master down while Marathon answers →
`degraded`: workloads, instances and events are current; the nodes are the last ones the master
gave (for up to `STALE_NODES_MAX_S`, said so in the message), or none.
"""
from __future__ import annotations

import base64
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

import requests

from collectors.base import Collector
from collectors.marathon.events import HEARTBEAT_S, SUBSCRIBED, EventFeed
from collectors.marathon.leader import LeaderFollowingClient
from collectors.marathon.normalize import MarathonRaw, NormalizeMemo, apps_read_again, normalize
from collectors.marathon.wire import Agent, AgentList, AppList, AppSlices, Deployment, Info, PodStatus, Queue
from collectors.toolkit import decode, paused_gc
from fleet.config import ClusterConfig
from fleet.source import ClusterData, SourceError, UpstreamError

log = logging.getLogger(__name__)

APP_EMBEDS = ("apps.tasks", "apps.counts", "apps.deployments", "apps.readiness", "apps.lastTaskFailure")
STALE_NODES_MAX_S = 600.0
# the apps are read afresh at least this often, whatever the event stream says
APPS_MAX_AGE_S = 300.0
# how long the first round waits for an event stream opened with it (`polled_continuously`) before
# reading the apps: read while it is connected, the next round can take them when nothing changed
FIRST_STREAM_WAIT_S = 1.0
T = TypeVar("T")


def auth_headers(config: ClusterConfig) -> dict[str, str]:
    """DC/OS token (`Authorization: token=...`) or HTTP basic; the values stay in the header."""
    if config.token is not None:
        return {"Authorization": f"token={config.token.reveal()}"}
    if config.option("username") and config.secret("password") is not None:
        pair = f"{config.option('username')}:{config.secret('password').reveal()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {}


class MarathonCollector(Collector[MarathonRaw]):
    orchestrator = "marathon"

    def __init__(self, config: ClusterConfig):
        super().__init__(config)
        headers = auth_headers(config)
        self.marathon = LeaderFollowingClient(config.url or "", config, service="Marathon", headers=headers)
        self.mesos = LeaderFollowingClient(config.option("mesos_url", ""), config, service="Mesos master",
                                           headers=headers)
        self._last_agents: tuple[float, list[Agent]] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mesos-{config.name}")
        self._rounds = 0
        self.feed = EventFeed(self.open_event_stream)
        self._memo = NormalizeMemo()
        # (the stream's mark before the apps were read, when, the apps): see _apps
        self._apps_read: tuple[tuple[int, int], float, AppList] | None = None
        self.apps_reused = 0  # rounds that took the last apps (tests, the bench)

    # --- fetch ----------------------------------------------------------------------------------
    def get(self, client: LeaderFollowingClient, path: str, kind: type[T], timeout_s: float,
            params: dict[str, Any] | None = None) -> T:
        body = client.get_bytes(path, timeout_s=timeout_s, params=params)
        return decode(body, kind, self.request_name(client, path))

    @staticmethod
    def request_name(client: LeaderFollowingClient, path: str) -> str:
        return f"GET {path} on {client.leader_url or client.base_url}"

    def fetch(self, timeout_s: float) -> MarathonRaw:
        # the master is read beside Marathon: its transfer overlaps the decoding of Marathon's apps
        agents = self._pool.submit(self.read_agents, timeout_s)
        info = self.get(self.marathon, "/v2/info", Info, timeout_s)
        apps = self._apps(timeout_s)
        raw = MarathonRaw(collected_at=datetime.now(timezone.utc), info=info, apps=apps)
        raw.pods = self.optional(raw, "pods", lambda: self.get(self.marathon, "/v2/pods/::status", list[PodStatus],
                                                               timeout_s), default=[], missing_ok=True)
        raw.queue = self.optional(raw, "launch queue", lambda: self.get(self.marathon, "/v2/queue", Queue, timeout_s),
                                  default=Queue())
        raw.deployments = self.optional(raw, "deployments", lambda: self.get(
            self.marathon, "/v2/deployments", list[Deployment], timeout_s), default=[])
        raw.agents, problem = agents.result()
        if problem:
            raw.problems.append(problem)
        for service, client in (("Marathon", self.marathon), ("Mesos master", self.mesos)):
            if client.leader_url:
                raw.leaders.append((service, client.base_url, client.leader_url))
        self._rounds += 1
        if self._rounds == 2:  # a one-shot snapshot never opens the stream
            self.feed.start(self.name)
        raw.streamed = self.feed.recent()
        return raw

    def _apps(self, timeout_s: float) -> AppList:
        """Every app with its tasks (the round's biggest read), or the last round's apps when the
        event stream vouches that nothing changed since they were read: it stayed connected (one
        connection throughout), announced no change (CHANGES), and they are not older than
        APPS_MAX_AGE_S. Marathon announces every change of what Podium reads of an app; the agents
        (the Mesos master announces nothing here) are read every round."""
        if self._rounds == 0 and self.feed.started:
            self.feed.wait_connected(FIRST_STREAM_WAIT_S)
        mark, last = self.feed.mark(), self._apps_read
        if last is not None and mark is not None and last[0] == mark and time.monotonic() - last[1] < APPS_MAX_AGE_S:
            self.apps_reused += 1
            return last[2]
        started = time.monotonic()
        params = {"embed": list(APP_EMBEDS)}
        if self._memo.apps:  # a later read: app by app, keeping the apps already held where equal
            slices = self.get(self.marathon, "/v2/apps", AppSlices, timeout_s, params)
            with paused_gc():
                apps = apps_read_again(slices, self._memo, self.request_name(self.marathon, "/v2/apps"))
        else:
            apps = self.get(self.marathon, "/v2/apps", AppList, timeout_s, params)
        self._apps_read = (mark, started, apps) if mark is not None else None
        return apps

    def polled_continuously(self) -> None:
        """The poller polls again and again (the dashboard): the event stream opens now, before the
        first round reads the apps, rather than from the second round on (what a one-shot snapshot
        does not reach). The second round can then take the first round's apps when nothing changed:
        before, the apps (143 MB for 20,000 apps) were read in full in each of the first three rounds."""
        self.feed.start(self.name)

    def open_event_stream(self) -> requests.Response:
        """The event stream of the leader the polls found (credentials and TLS as for the polls)."""
        client = self.marathon.leader or self.marathon.configured
        return client.session.get(client.base_url + "/v2/events", params={"event_type": list(SUBSCRIBED)},
                                  headers={"Accept": "text/event-stream"}, stream=True, timeout=(10, HEARTBEAT_S),
                                  verify=client.session.verify, allow_redirects=False)

    def optional(self, raw: MarathonRaw, part: str, read: Callable[[], T], default: T,
                 missing_ok: bool = False) -> T:
        try:
            return read()
        except UpstreamError as exc:
            if missing_ok and "HTTP 404" in exc.message:  # Marathon < 1.4 has no pods
                return default
            raw.problems.append(f"{part}: {exc.message}")
        except SourceError as exc:
            raw.problems.append(f"{part}: {exc.message}")
        return default

    def read_agents(self, timeout_s: float) -> tuple[list[Agent] | None, str | None]:
        """(agents, problem): the last good agents, with a note, when the master fails."""
        try:
            agents = self.get_agents(timeout_s)
        except SourceError as exc:
            note = f"nodes: Mesos master {exc.message}; {self.stale_note()}"
            return (self._last_agents[1] if self.stale_ok() else None), note
        self._last_agents = (time.monotonic(), agents)
        return agents, None

    def get_agents(self, timeout_s: float) -> list[Agent]:
        try:
            return self.get(self.mesos, "/master/state-summary", AgentList, timeout_s).slaves
        except UpstreamError as exc:
            if "HTTP 404" not in exc.message:
                raise
        # masters before 0.23 have no state-summary; their full state has the same agents
        return self.get(self.mesos, "/master/state.json", AgentList, timeout_s).slaves

    def stale_ok(self) -> bool:
        return self._last_agents is not None and time.monotonic() - self._last_agents[0] <= STALE_NODES_MAX_S

    def stale_note(self) -> str:
        if not self.stale_ok():
            return "no nodes shown"
        assert self._last_agents is not None
        return f"nodes shown are {time.monotonic() - self._last_agents[0]:.0f}s old"

    # --- normalize ------------------------------------------------------------------------------
    def normalize(self, raw: MarathonRaw) -> ClusterData:
        with paused_gc():
            return normalize(raw, self._memo)

    def close(self) -> None:
        self.feed.stop()
        self._pool.shutdown(wait=False)
        self.marathon.close()
        self.mesos.close()
