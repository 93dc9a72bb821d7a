"""Shared by the Marathon emulator and collector tests: start a scenario, build a cluster config."""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator

from collectors.marathon.fetch import MarathonCollector
from fleet.config import ClusterConfig, Secret
from fleet.source import ClusterData
from sim.marathon import MarathonCluster, Scenario, serve


@contextmanager
def running(scenario: Scenario, **options: Any) -> Iterator[MarathonCluster]:
    cluster = serve(scenario, **options)
    try:
        yield cluster
    finally:
        cluster.stop()


MARATHON_OPTIONS = ("username", "password_env", "password_file")


def config(url: str, mesos_url: str, *, password: Secret | None = None, **values: Any) -> ClusterConfig:
    """A Marathon cluster config: common keys as fields, Marathon's own keys as options."""
    options = {"mesos_url": mesos_url, **{key: values.pop(key) for key in MARATHON_OPTIONS if key in values}}
    secrets = {"password": password} if password is not None else {}
    return ClusterConfig(name="legacy", orchestrator="marathon", url=url, options=options, secrets=secrets, **values)


def token_config(url: str, mesos_url: str, token: str, **values: Any) -> ClusterConfig:
    return config(url, mesos_url, token_env="DCOS_TOKEN", token=Secret(token), **values)


def collect(cluster: MarathonCluster, **values: Any) -> ClusterData:
    collector = MarathonCollector(config(cluster.marathon.url, cluster.mesos.url, **values))
    try:
        return collector.collect(timeout_s=10)
    finally:
        collector.close()


def by_status(items: list[Any], attribute: str = "status") -> dict[str, int]:
    return dict(Counter(getattr(item, attribute) for item in items))


def collect_config(entry: dict[str, Any]) -> ClusterData:
    """Collect a cluster described by a clusters.yaml entry (as the demo fleet gives it)."""
    collector = MarathonCollector(config(entry["url"], entry["mesos_url"]))
    try:
        return collector.collect(timeout_s=10)
    finally:
        collector.close()
