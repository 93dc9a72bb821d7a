"""An emulated Nomad HTTP API (`/v1/...`): multi-region, namespaced, with ACLs and blocking queries.

`build(seed, ...)` makes a scenario that states what a correct collector must report;
`start(scenario)` serves it; `demo(seed)` is the dashboard's demo cluster (problems come and go
with wall-clock time). Imports nothing from the app: it speaks Nomad's wire format only.
"""
from __future__ import annotations

from sim.demo import DemoCluster
from sim.nomad.cluster import NomadCluster, start, timeline
from sim.nomad.scenario import PROBLEMS, Expected, Scenario, build

DEMO_TOKEN = "6b0bdc9e-9a8d-4d9f-8f51-0d3c3e1b7a42"  # a demo ACL token, not a secret of anyone's
DEMO_TOKEN_ENV = "PODIUM_DEMO_NOMAD_TOKEN"


def demo(seed: int = 0) -> DemoCluster:
    """A mid-size two-region cluster (4 datacenters, 16 nodes, 20 jobs) whose problems come and go."""
    cluster = start(timeline(seed, period_s=120.0, regions=2, datacenters=2, nodes=16, jobs=20),
                    tokens={DEMO_TOKEN: "read-only"})
    config = {"name": "demo-nomad", "orchestrator": "nomad", "url": cluster.url, "token_env": DEMO_TOKEN_ENV,
              "regions": "all", "namespace": "*"}
    return DemoCluster("demo-nomad", config, cluster.servers, {DEMO_TOKEN_ENV: DEMO_TOKEN})


__all__ = ["DEMO_TOKEN", "PROBLEMS", "DemoCluster", "Expected", "NomadCluster", "Scenario", "build", "demo", "start",
           "timeline"]
