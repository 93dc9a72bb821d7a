"""Older Engine API versions against a real engine: the collector pinned to 1.24 … 1.45 reads the
same desired and running counts as with the engine's own `ServiceStatus` (API 1.41+), says which
version it used, and a version the engine refuses is an `error` in the engine's words."""
from __future__ import annotations

import pytest

from collectors.swarm.fetch import SwarmCollector, api_tuple
from collectors.swarm.normalize import SwarmRaw
from fleet.config import ClusterConfig
from fleet.source import ClusterData, SourceError
from tests.collectors.test_swarm_engine import create_service, workload
from tests.engines import wait_for

pytestmark = pytest.mark.swarm

PINNED = ["1.24", "1.30", "1.40", "1.41", "1.45"]


def fetch(engine, api_version: str | None = None) -> tuple[SwarmRaw, ClusterData]:
    options = {"api_version": api_version} if api_version else {}
    collector = SwarmCollector(ClusterConfig(name="swarm-api", orchestrator="swarm", url=engine.url, options=options))
    try:
        raw = collector.fetch(timeout_s=10)
        return raw, collector.normalize(raw)
    finally:
        collector.close()


def collect(engine, api_version: str | None = None) -> ClusterData:
    return fetch(engine, api_version)[1]


def counts(data: ClusterData) -> dict[str, tuple]:
    return {w.name: (w.kind, w.desired, w.running, w.status) for w in data.workloads if w.name.startswith("old-")}


@pytest.fixture(scope="module")
def converged(swarm_engine):
    client = swarm_engine.client
    ids = [create_service(client, "old-web", replicas=2), create_service(client, "old-agent", mode="global"),
           create_service(client, "old-ghost", image="podium/does-not-exist:1"),
           create_service(client, "old-zero", replicas=0)]

    def settled() -> ClusterData | None:
        data = collect(swarm_engine)
        web, agent = workload(data, "old-web"), workload(data, "old-agent")
        return data if (web.running, agent.running) == (2, 1) else None

    yield wait_for(settled, timeout_s=120, interval_s=1, what="old-* services to converge")
    for service_id in ids:
        client.remove_service(service_id)


def accepted(engine) -> tuple[tuple[int, int], tuple[int, int]]:
    version = engine.client.version()
    return api_tuple(version.get("MinAPIVersion") or "1.24"), api_tuple(version["ApiVersion"])


@pytest.mark.parametrize("api_version", PINNED)
def test_a_pinned_api_version_reads_the_counts_the_engine_reports(api_version, converged, swarm_engine):
    low, high = accepted(swarm_engine)
    if not low <= api_tuple(api_version) <= high:
        pytest.skip(f"this engine speaks API {low[0]}.{low[1]}–{high[0]}.{high[1]} (next test: refused)")
    # the engine's own ServiceStatus (1.41+) and the counts computed from tasks must agree; the
    # ghost service never runs, so its counts do not move while the two collections run
    reference = collect(swarm_engine)
    raw, pinned = fetch(swarm_engine, api_version)
    # below 1.41 the engine leaves ServiceStatus out: the counts are Podium's own
    engine_counted = api_tuple(api_version) >= (1, 41)
    assert {s.ServiceStatus is not None for s in raw.services} == {engine_counted}
    assert counts(pinned) == counts(reference)
    assert counts(pinned)["old-agent"] == ("GlobalService", 1, 1, "healthy")
    assert counts(pinned)["old-zero"] == ("ReplicatedService", 0, 0, "stopped")
    assert pinned.version.endswith(f"(API {api_version})")
    assert pinned.version.startswith(f"Docker {swarm_engine.client.version()['Version']}")


@pytest.mark.parametrize("api_version", PINNED)
def test_a_version_the_engine_refuses_is_an_error_in_its_words(api_version, swarm_engine):
    low, high = accepted(swarm_engine)
    if low <= api_tuple(api_version) <= high:
        pytest.skip(f"this engine accepts API {api_version}")
    with pytest.raises(SourceError) as caught:
        collect(swarm_engine, api_version)
    assert caught.value.status == "error"
    assert "too new" in caught.value.message or "too old" in caught.value.message
    assert caught.value.message.startswith(f"GET /nodes on {swarm_engine.url}: HTTP 400: client version {api_version}")


def test_the_default_is_the_engines_newest_version(converged, swarm_engine):
    newest = swarm_engine.client.version()["ApiVersion"]
    assert converged.version == f"Docker {swarm_engine.client.version()['Version']} (API {newest})"
