"""Scripted sources for poller and CLI tests: each call to collect() takes the next step."""
from __future__ import annotations

import threading
from typing import Callable

from fleet.model import Node, Workload
from fleet.source import ClusterData

Step = ClusterData | Exception | Callable[[], ClusterData]


def small_cluster(version: str = "1.0", nodes: int = 2) -> ClusterData:
    return ClusterData(
        version=version,
        nodes=[Node(id=f"n{i}", name=f"node-{i}", status="ready", schedulable=True, cpu_capacity_cores=4,
                    cpu_allocatable_cores=4, mem_capacity_bytes=2**33, mem_allocatable_bytes=2**33)
               for i in range(nodes)],
        workloads=[Workload(id="w1", name="web", kind="ReplicatedService", desired=2, running=2, status="healthy")],
    )


class ScriptedSource:
    orchestrator = "swarm"
    verify_tls = True

    def __init__(self, name: str, steps: list[Step], *, secrets: list[str] | None = None):
        self.name = name
        self.endpoint = f"tcp://{name}:2376"
        self.steps = list(steps)
        self.calls = 0
        self.closed = False
        self._secrets = secrets or []

    def collect(self, timeout_s: float) -> ClusterData:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if isinstance(step, Exception):
            raise step
        return step() if callable(step) else step

    def secret_values(self) -> list[str]:
        return self._secrets

    def close(self) -> None:
        self.closed = True


class Gate:
    """A step that blocks until released: a cluster that accepts and never answers."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self) -> ClusterData:
        self.release.wait(30)
        return small_cluster()
