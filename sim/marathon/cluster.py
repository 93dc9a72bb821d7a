"""Start a Marathon and a Mesos master emulator over one scenario, optionally with a standby of each.

A standby (non-leading) instance redirects to the leader, as the real ones do; pointing a client
at the standby is how tests prove leader redirects are followed. `Timeline` makes the scenario
evolve with wall-clock time: every `period_s` a different subset of problems is active.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from sim.httpserver import EmulatorServer
from sim.marathon.model import MarathonState
from sim.marathon.scenario import PROBLEMS, Scenario, build, iso
from sim.marathon.server import MarathonServer
from sim.mesos.auth import Auth
from sim.mesos.master import MesosMaster, MesosState


class Timeline:
    """The scenario at the current time: phase = clock() // period_s picks which problems are on."""

    def __init__(self, seed: int = 0, *, period_s: float = 90.0, clock: Callable[[], float] = time.time,
                 **sizes: int):
        self.seed, self.period_s, self.clock, self.sizes = seed, period_s, clock, sizes
        self._lock = threading.Lock()
        self._phase: int | None = None
        self._scenario: Scenario | None = None

    def problems_in(self, phase: int) -> tuple[str, ...]:
        # each problem is on two phases out of three, staggered, so problems come and go
        return tuple(p for i, p in enumerate(PROBLEMS) if (i + phase) % 3 != 0)

    def current(self) -> Scenario:
        phase = int(self.clock() // self.period_s)
        with self._lock:
            if phase != self._phase or self._scenario is None:
                self._scenario = build(self.seed, problems=self.problems_in(phase), now_s=self.clock(), **self.sizes)
                self._phase = phase
            return self._scenario


class FailureTicker:
    """Publishes a `status_update_event` (TASK_FAILED) for each crash-looping app every `every_s`,
    as Marathon does while it keeps relaunching it, so the demo's event stream is not silent."""

    def __init__(self, api: MarathonServer, scenario: Callable[[], Scenario], every_s: float = 30.0):
        self.api, self.scenario, self.every_s = api, scenario, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="marathon-failures", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            for app in self.scenario().marathon.apps:
                if app.last_failure is not None:
                    failure = app.last_failure
                    self.api.publish("status_update_event", {
                        "appId": app.id, "taskId": f"{failure.task_id}-{int(time.time())}", "host": failure.host,
                        "slaveId": failure.agent_id, "taskStatus": "TASK_FAILED", "message": failure.message,
                        "version": app.version, "timestamp": iso(time.time())})

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class MarathonCluster:
    marathon: EmulatorServer
    mesos: EmulatorServer
    marathon_api: MarathonServer
    mesos_api: MesosMaster
    standbys: list[EmulatorServer] = field(default_factory=list)
    ticker: FailureTicker | None = None

    @property
    def servers(self) -> list[EmulatorServer]:
        return [self.marathon, self.mesos, *self.standbys]

    def stop(self) -> None:
        if self.ticker is not None:
            self.ticker.stop()
        self.marathon_api.close()
        for server in self.servers:
            server.stop()


def serve(source: Scenario | Timeline, *, auth: Auth | None = None, standbys: bool = False,
          certfile: str | None = None, keyfile: str | None = None) -> MarathonCluster:
    """Start the leading Marathon and Mesos master (and, with `standbys`, a redirecting standby of each)."""
    def scenario() -> Scenario:
        return source.current() if isinstance(source, Timeline) else source

    def marathon_state() -> MarathonState:
        return scenario().marathon

    def mesos_state() -> MesosState:
        return scenario().mesos

    tls = {"certfile": certfile, "keyfile": keyfile}
    mesos_api = MesosMaster(mesos_state, auth=auth)
    mesos = EmulatorServer(mesos_api, **tls).start()
    mesos_api.hostname = f"127.0.0.1:{mesos.port}"
    marathon_api = MarathonServer(marathon_state, auth=auth)
    marathon = EmulatorServer(marathon_api, **tls).start()
    marathon_api.address = f"127.0.0.1:{marathon.port}"
    cluster = MarathonCluster(marathon, mesos, marathon_api, mesos_api)
    if isinstance(source, Timeline):
        cluster.ticker = FailureTicker(marathon_api, scenario)
    if standbys:
        cluster.standbys = [
            EmulatorServer(MarathonServer(marathon_state, auth=auth, leader=marathon_api.address), **tls).start(),
            EmulatorServer(MesosMaster(mesos_state, auth=auth, leader=mesos_api.hostname), **tls).start(),
        ]
    return cluster
