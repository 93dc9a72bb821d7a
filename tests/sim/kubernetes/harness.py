"""Shared by the Kubernetes emulator and collector tests: start a cluster, point a collector at it."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sim.kubernetes import Knobs, KubeCluster, generate, start

TOKEN = "s3cr3t-reader-token-0123456789"


@contextmanager
def running(knobs: Knobs | None = None, *, empty: bool = False, **options: Any) -> Iterator[KubeCluster]:
    """A started emulator for a generated scenario (or an empty one), stopped afterwards."""
    scenario = None if empty else generate(knobs or Knobs())
    cluster = start(scenario, **options)
    try:
        yield cluster
    finally:
        cluster.stop()


def cluster_config(cluster: KubeCluster, token: str | None = TOKEN, **fields: Any) -> Any:
    from fleet.config import ClusterConfig, Secret

    return ClusterConfig(name="k8s-test", orchestrator="kubernetes", url=cluster.url,
                         token=Secret(token) if token else None, **fields)


@contextmanager
def collector(cluster: KubeCluster, token: str | None = TOKEN, **options: Any) -> Iterator[Any]:
    from collectors.kubernetes.fetch import KubernetesCollector

    instance = KubernetesCollector(cluster_config(cluster, token), **options)
    try:
        yield instance
    finally:
        instance.close()
