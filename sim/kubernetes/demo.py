"""The demo Kubernetes cluster: ~20 nodes and ~300 pods whose problems come and go with the clock.

Every `PERIOD_S` seconds of wall-clock time the scenario moves to its next phase: other nodes go
NotReady or get cordoned, other Deployments crash-loop or roll out. Only what changed is written,
so a collector that watches sees a handful of MODIFIED/ADDED/DELETED events, as in a real cluster.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone

from sim.demo import DemoCluster
from sim.kubernetes.scenario import Knobs, generate
from sim.kubernetes.server import KubeCluster, start

PERIOD_S = 45.0
PHASES = 4
TOKEN_ENV = "PODIUM_DEMO_K8S_TOKEN"


def phase_at(epoch_s: float, period_s: float = PERIOD_S) -> int:
    return int(epoch_s // period_s) % PHASES


def knobs_at(seed: int, epoch_s: float, period_s: float = PERIOD_S) -> Knobs:
    started = datetime.fromtimestamp(epoch_s // period_s * period_s, timezone.utc)
    return Knobs(seed=seed, nodes=20, pods_per_node=15, namespaces=6, problem_share=0.12,
                 phase=phase_at(epoch_s, period_s), now=started)


class Churn(threading.Thread):
    """Moves the cluster to the phase the clock says, until the cluster's store closes."""

    def __init__(self, cluster: KubeCluster, seed: int, period_s: float = PERIOD_S):
        super().__init__(name="kube-demo-churn", daemon=True)
        self.cluster, self.seed, self.period_s = cluster, seed, period_s
        self.knobs = cluster.scenario.knobs if cluster.scenario else knobs_at(seed, time.time(), period_s)

    def step(self, epoch_s: float) -> int:
        wanted = knobs_at(self.seed, epoch_s, self.period_s)
        if (wanted.phase, wanted.now) == (self.knobs.phase, self.knobs.now):
            return 0
        self.knobs = wanted
        scenario = generate(wanted)
        self.cluster.scenario = scenario
        return scenario.apply(self.cluster.store)

    def run(self) -> None:
        store = self.cluster.store
        while not store.closed:
            self.step(time.time())
            with store.changed:
                store.changed.wait(min(5.0, self.period_s / 4))


def demo(seed: int = 0, *, period_s: float = PERIOD_S) -> DemoCluster:
    token = secrets.token_urlsafe(24)
    cluster = start(generate(replace(knobs_at(seed, time.time(), period_s))), token=token)
    Churn(cluster, seed, period_s).start()
    config = {"name": "demo-kubernetes", "orchestrator": "kubernetes", "url": cluster.url, "token_env": TOKEN_ENV}
    return DemoCluster(name="demo-kubernetes", config=config, servers=[cluster.server], environ={TOKEN_ENV: token})
