"""Start an emulated Nomad cluster: one HTTP server per region over one shared state store.

Any server answers for any region (`?region=` forwarding), as Nomad's do. `timeline()` makes a
scenario evolve with wall-clock time: every `period_s` a different subset of problems is active,
so problems come and go while a dashboard watches.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable

from sim.httpserver import EmulatorServer
from sim.nomad.scenario import PROBLEMS, Scenario, build
from sim.nomad.server import NomadApi
from sim.nomad.store import Store


# on in every phase: the demo always shows a service with no ready backend and an autoscaler at its maximum
STANDING = ("service_down", "autoscaler_max")


def problems_in(phase: int) -> tuple[str, ...]:
    """Each problem is on in two phases out of three, staggered: every phase shows a different mix."""
    return tuple(p for i, p in enumerate(PROBLEMS) if (i + phase) % 3 != 0 or p in STANDING)


def timeline(seed: int = 0, *, period_s: float = 120.0, clock: Callable[[], float] = time.time,
             **sizes: int) -> Callable[[], Scenario]:
    """The scenario of the current phase (`clock() // period_s`), built once per phase."""

    @lru_cache(maxsize=2)
    def phase(number: int) -> Scenario:
        return build(seed, problems=problems_in(number), now_s=number * period_s, **sizes)

    return lambda: phase(int(clock() // period_s))


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
