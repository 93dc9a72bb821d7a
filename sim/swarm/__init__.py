"""An emulated Docker Engine API for a swarm: nodes, services, tasks, containers, events.

`build(seed, ...)` makes a scenario that states what a correct collector must report
(`expected(scenario)`); `start(scenario)` serves it; `demo(seed)` is the dashboard's demo swarm.
Imports nothing from the app: it speaks the engine's wire format only.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.demo import DemoCluster
from sim.httpserver import EmulatorServer
from sim.swarm.scenario import (Engine, Expected, NodeDef, PortDef, Scenario, ServiceDef, build, demo_scenario,
                                expected, fidelity)
from sim.swarm.server import SwarmApi
from sim.swarm.store import Store


@dataclass
class SwarmCluster:
    store: Store
    server: EmulatorServer
    api: SwarmApi

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def docker_host(self) -> str:
        """The address in the form the docker CLI and SDK take (`-H tcp://...`)."""
        return f"tcp://127.0.0.1:{self.server.port}"

    @property
    def scenario(self) -> Scenario:
        return self.store.scenario

    def update(self, scenario: Scenario) -> None:
        self.store.update(scenario)

    def stop(self) -> None:
        self.store.close()
        self.server.stop()

    def __enter__(self) -> "SwarmCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(scenario: Scenario, *, port: int = 0, certfile: str | None = None, keyfile: str | None = None,
          client_ca: str | None = None) -> SwarmCluster:
    store = Store(scenario)
    api = SwarmApi(store)
    server = EmulatorServer(api, port=port, certfile=certfile, keyfile=keyfile, client_ca=client_ca).start()
    return SwarmCluster(store, server, api)


def demo(seed: int = 0) -> DemoCluster:
    """A 12-node swarm (3 managers) with stacks, a drained node, a failing image and a failing check."""
    cluster = start(demo_scenario(seed))
    config = {"name": "demo-swarm", "orchestrator": "swarm", "url": cluster.docker_host}
    return DemoCluster("demo-swarm", config, [cluster.server])


__all__ = ["DemoCluster", "Engine", "Expected", "NodeDef", "PortDef", "Scenario", "ServiceDef", "SwarmCluster",
           "build", "demo", "demo_scenario", "expected", "fidelity", "start"]
