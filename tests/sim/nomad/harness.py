"""Shared by the Nomad emulator and collector tests: a cluster config and a one-round collection."""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator

from collectors.nomad.fetch import NomadCollector
from fleet.config import ClusterConfig, Secret
from fleet.source import ClusterData
from sim.nomad import NomadCluster

TOKEN = "c8f2f1a0-5d43-4b1e-9d7e-6a1d2f3b4c5d"
TOKENS = {TOKEN: "read-only", "jobs-only-token": "jobs-only", "no-agent-token": "no-agent"}


def config(url: str, token: str | None = TOKEN, *, regions: str | list[str] = "all", namespace: str = "*",
           **values: Any) -> ClusterConfig:
    return ClusterConfig(name="batch", orchestrator="nomad", url=url, token_env="NOMAD_TOKEN" if token else None,
                         token=Secret(token) if token else None,
                         options={"regions": regions, "namespace": namespace}, **values)


def collect(cluster: NomadCluster, **values: Any) -> ClusterData:
    collector = NomadCollector(config(cluster.url, **values))
    try:
        return collector.collect(timeout_s=10)
    finally:
        collector.close()


def by(items: list[Any], attribute: str = "status") -> dict[str, int]:
    return dict(Counter(getattr(item, attribute) for item in items))


@contextmanager
def changed(target: Any, **values: Any) -> Iterator[Any]:
    """Set attributes (a region's `reachable`, `has_leader`...) for the duration, then restore them."""
    before = {name: getattr(target, name) for name in values}
    for name, value in values.items():
        setattr(target, name, value)
    try:
        yield target
    finally:
        for name, value in before.items():
            setattr(target, name, value)
