"""Start an emulated Nomad cluster: one HTTP server per region over one shared state store.

Any server answers for any region (`?region=` forwarding), as Nomad's do. `Timeline` makes a
scenario evolve with wall-clock time: every `period_s` a different subset of problems is active,
so problems come and go while a dashboard watches.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sim.httpserver import EmulatorServer
from sim.nomad.scenario import PROBLEMS, Scenario, build
from sim.nomad.server import NomadApi
from sim.nomad.store import Store


class Timeline:
    """The scenario at the current time: phase = clock() // period_s picks which problems are on."""

    def __init__(self, seed: int = 0, *, period_s: float = 120.0, clock: Callable[[], float] = time.time,
                 **sizes: int):
        self.seed, self.period_s, self.clock, self.sizes = seed, period_s, clock, sizes
        self._lock = threading.Lock()
        self._phase: int | None = None
        self._scenario: Scenario | None = None

    def problems_in(self, phase: int) -> tuple[str, ...]:
        # each problem is on two phases out of three, staggered, so problems come and go
        return tuple(p for i, p in enumerate(PROBLEMS) if (i + phase) % 3 != 0)

    def __call__(self) -> Scenario:
        phase = int(self.clock() // self.period_s)
        with self._lock:
            if phase != self._phase or self._scenario is None:
                self._scenario = build(self.seed, problems=self.problems_in(phase), now_s=self.clock(),
                                       **self.sizes)
                self._phase = phase
            return self._scenario


@dataclass
class NomadCluster:
    store: Store
    servers: list[EmulatorServer]
    apis: list[NomadApi]
    tokens: dict[str, str] | None = None
    extra: list[EmulatorServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.servers[0].url

    @property
    def scenario(self) -> Scenario:
        return self.store.scenario

    def stop(self) -> None:
        self.store.close()
        for server in self.servers:
            server.stop()

    def __enter__(self) -> "NomadCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(scenario: Scenario | Callable[[], Scenario], *, tokens: dict[str, str] | None = None,
          heartbeat_s: float = 10.0, regions: Iterable[str] | None = None, certfile: str | None = None,
          keyfile: str | None = None, client_ca: str | None = None) -> NomadCluster:
    """Serve `scenario` (or a Timeline); one server per region unless `regions` picks some."""
    store = Store(scenario)
    names = list(regions) if regions is not None else list(store.scenario.regions)
    servers, apis = [], []
    for name in names:
        api = NomadApi(store, name, tokens=tokens, heartbeat_s=heartbeat_s)
        server = EmulatorServer(api, certfile=certfile, keyfile=keyfile, client_ca=client_ca).start()
        servers.append(server)
        apis.append(api)
    return NomadCluster(store, servers, apis, tokens)
