"""An emulated Marathon (with its Mesos master) and the demo cluster built on it."""
from __future__ import annotations

from dataclasses import dataclass

from sim.demo import DemoCluster
from sim.marathon.cluster import MarathonCluster, Timeline, serve
from sim.marathon.scenario import PROBLEMS, Expected, Scenario, build

DEMO_TOKEN_ENV = "PODIUM_DEMO_MARATHON_TOKEN"

__all__ = ["DEMO_TOKEN_ENV", "PROBLEMS", "Expected", "MarathonCluster", "Scenario", "Timeline", "build",
           "demo", "serve"]


@dataclass
class MarathonDemo(DemoCluster):
    cluster: MarathonCluster | None = None

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()  # also ends the event streams and the failure ticker


def demo(seed: int = 0) -> DemoCluster:
    """A mid-size Marathon-on-Mesos cluster (15 agents, 20 apps, 2 pods) whose problems change every 90 s."""
    cluster = serve(Timeline(seed, period_s=90.0, agents=15, apps=20, pods=2))
    config = {"name": "demo-marathon", "orchestrator": "marathon", "url": cluster.marathon.url,
              "mesos_url": cluster.mesos.url}
    return MarathonDemo(name="demo-marathon", config=config, servers=cluster.servers, cluster=cluster)
