"""Older Engine API versions and live updates against the Engine API emulator (sim/swarm): the
collector pinned to 1.24 … 1.45 reports each scenario's stated truth, counting desired and running
from the tasks where the engine sends no ServiceStatus (below 1.41); a version outside the engine's
range is an `error` in the engine's words; a change in the emulator reaches the model by its event
stream. The same checks run against a real dockerd in test_swarm_api_versions.py and test_swarm_live.py."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Iterator

import pytest

from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig
from fleet.source import SourceError
from tests.engines import wait_for

sim_swarm = pytest.importorskip("sim.swarm", reason="the Engine API emulator (sim/swarm, issue #15) is not here yet")

PINNED = ["1.24", "1.30", "1.40", "1.41", "1.45"]


def collector_for(cluster, api_version: str) -> SwarmCollector:
    return SwarmCollector(ClusterConfig(name="sim-swarm", orchestrator="swarm", url=cluster.docker_host,
                                        options={"api_version": api_version}), live=False)


@pytest.mark.parametrize("api_version", PINNED)
def test_a_pinned_version_reports_the_scenarios_truth(api_version):
    scenario = sim_swarm.build(0, nodes=12, services=8, global_services=2, history=2)
    truth = sim_swarm.expected(scenario)
    with sim_swarm.start(scenario) as cluster:
        collector = collector_for(cluster, api_version)
        try:
            raw = collector.fetch(timeout_s=30)
            data = collector.normalize(raw)
        finally:
            collector.close()
    assert {s.ServiceStatus is not None for s in raw.services} == {api_version >= "1.41"}
    assert data.version == f"Docker {scenario.engine.version} (API {api_version})"
    reported = {w.name: (w.desired, w.running, w.status, w.kind) for w in data.workloads}
    assert reported == {name: (t.desired, t.running, t.status, t.kind) for name, t in truth.services.items()}


@pytest.mark.parametrize(("api_version", "said"), [
    ("1.24", "client version 1.24 is too old. Minimum supported API version is 1.44"),
    ("1.48", "client version 1.48 is too new. Maximum supported API version is 1.47"),
])
def test_a_version_outside_the_engines_range_is_an_error_in_its_words(api_version, said):
    scenario = sim_swarm.build(0, nodes=3, services=2)
    scenario = dataclasses.replace(scenario, engine=dataclasses.replace(scenario.engine, api_version="1.47",
                                                                         min_api_version="1.44"))
    with sim_swarm.start(scenario) as cluster:
        collector = collector_for(cluster, api_version)
        try:
            with pytest.raises(SourceError) as caught:
                collector.collect(timeout_s=30)
        finally:
            collector.close()
    assert caught.value.status == "error"
    assert caught.value.message.startswith(f"GET /nodes on {cluster.docker_host}: HTTP 400: {said}")


@pytest.mark.parametrize("api_version", ["1.30", "1.47"])
def test_changes_in_the_emulator_reach_the_model_by_its_event_stream(api_version, monkeypatch):
    from collectors.swarm import live
    monkeypatch.setattr(live, "RESYNC_MIN_S", 3600.0)  # no background relisting: only events
    scenario = sim_swarm.build(0, nodes=8, services=4, problems=False)
    first = scenario.services[0]
    with sim_swarm.start(scenario) as cluster:
        collector = SwarmCollector(ClusterConfig(name="sim-swarm", orchestrator="swarm", url=cluster.docker_host,
                                                 options={"api_version": api_version}))
        try:
            collector.collect(timeout_s=10)
            wait_for(lambda: collector.feed.live(), timeout_s=10, what="the event stream")
            cluster.update(scenario.with_node("wrk-0005", availability="drain")
                           .with_service(first.name, replicas=first.replicas + 1))

            def changed():
                data = collector.collect(timeout_s=10)
                node = next(n for n in data.nodes if n.name == "wrk-0005")
                service = next(w for w in data.workloads if w.name == first.name)
                return not node.schedulable and service.desired == first.replicas + 1
            wait_for(changed, timeout_s=20, interval_s=0.1, what="the drained node and the scaled service")
            assert collector.listings == 1
        finally:
            collector.close()


def test_a_quiet_round_after_the_listing_reuses_the_listing_rounds_result(monkeypatch):
    from collectors.swarm import live
    monkeypatch.setattr(live, "RESYNC_MIN_S", 3600.0)  # no background relisting
    scenario = sim_swarm.build(0, nodes=8, services=4, problems=False)
    with sim_swarm.start(scenario) as cluster:
        collector = SwarmCollector(ClusterConfig(name="sim-swarm", orchestrator="swarm", url=cluster.docker_host))
        try:
            raw = collector.fetch(10)
            first = collector.normalize(raw)
            assert raw.generation is not None  # the listing round is the live state's first generation
            wait_for(lambda: collector.feed.live(), timeout_s=10, what="the event stream")
            again = collector.fetch(10)
            assert collector.listings == 1
            if again.generation == raw.generation:  # no event touched the state meanwhile
                assert collector.normalize(again) is first
        finally:
            collector.close()


@contextmanager
def live_on(cluster) -> Iterator[tuple[SwarmCollector, object]]:
    """A collector that listed the emulated swarm once and follows its event stream; resyncs are the
    test's own (RESYNC_MIN_S set high by the caller). Yields the collector and its first result."""
    collector = SwarmCollector(ClusterConfig(name="sim-swarm", orchestrator="swarm", url=cluster.docker_host))
    try:
        first = collector.collect(timeout_s=10)
        wait_for(lambda: collector.feed.live(), timeout_s=10, what="the event stream")
        yield collector, first
    finally:
        collector.close()


def test_a_background_listing_of_a_quiet_swarm_keeps_the_last_result(monkeypatch):
    from collectors.swarm import live
    monkeypatch.setattr(live, "RESYNC_MIN_S", 3600.0)  # the test lists in the background itself
    scenario = sim_swarm.build(0, nodes=8, services=4, problems=True)
    first_service = scenario.services[0]
    with sim_swarm.start(scenario) as cluster, live_on(cluster) as (collector, first):
        feed = collector.feed
        generation = feed.state.generation
        feed._relist()  # what the feed does every resync_s(): nothing changed since
        assert feed.state.generation == generation
        assert collector.collect(timeout_s=10) is first
        monkeypatch.setattr(feed, "_apply", lambda *args: None)  # only the listing may see the change
        cluster.update(scenario.with_service(first_service.name, replicas=first_service.replicas + 1))
        feed._relist()
        assert feed.state.generation != generation
        scaled = next(w for w in collector.collect(timeout_s=10).workloads if w.name == first_service.name)
        assert scaled.desired == first_service.replicas + 1


def tasks_requests(cluster) -> list[str]:
    return [query.get("filters", [""])[0] for _, path, query in cluster.server.requests if path.endswith("/tasks")]


def test_a_resync_compares_what_is_meant_to_run_and_reads_again_only_what_changed(monkeypatch):
    from collectors.swarm import live
    monkeypatch.setattr(live, "RESYNC_MIN_S", 3600.0)  # the test resyncs itself
    # the emulator stamps every task from its "now" each time it renders: pinned, an unchanged task
    # keeps its times across the update below, as on a real engine (left to the wall clock, a
    # second passing between start and update re-stamped them all)
    scenario = dataclasses.replace(sim_swarm.build(0, nodes=8, services=4, problems=True), now_s=1_764_000_000.0)
    first_service, other = scenario.services[0], scenario.services[1]
    with sim_swarm.start(scenario) as cluster, live_on(cluster) as (collector, first):
        feed = collector.feed
        monkeypatch.setattr(feed, "_apply", lambda *args: None)  # as for tasks on other nodes: no events
        generation = feed.state.generation
        cluster.server.requests.clear()
        feed._resync()
        assert feed.checks == 1 and feed.state.generation == generation
        assert tasks_requests(cluster) == ['{"desired-state": ["running"]}']  # no full listing
        assert collector.collect(timeout_s=10) is first
        cluster.update(scenario.with_service(first_service.name, replicas=first_service.replicas + 1)
                       .with_node("wrk-0005", availability="drain"))
        cluster.server.requests.clear()
        feed._resync()
        assert feed.state.generation != generation
        reread = [f for f in tasks_requests(cluster) if "service" in f]
        assert len(reread) == 1 and other.name not in reread[0]  # only the scaled service is read again
        data = collector.collect(timeout_s=10)
        assert next(w for w in data.workloads if w.name == first_service.name).desired == first_service.replicas + 1
        assert not next(n for n in data.nodes if n.name == "wrk-0005").schedulable
        same = SwarmCollector(ClusterConfig(name="sim-swarm", orchestrator="swarm", url=cluster.docker_host),
                              live=False)
        try:
            fresh = same.collect(timeout_s=10)
        finally:
            same.close()
        assert (data.workloads, data.instances, data.nodes) == (fresh.workloads, fresh.instances, fresh.nodes)


def test_everything_is_listed_again_every_relist_s_and_after_the_stream_dropped(monkeypatch):
    from collectors.swarm import live
    monkeypatch.setattr(live, "RESYNC_MIN_S", 3600.0)
    scenario = sim_swarm.build(0, nodes=8, services=4, problems=False)
    with sim_swarm.start(scenario) as cluster, live_on(cluster) as (collector, _):
        feed = collector.feed
        monkeypatch.setattr(live, "RELIST_S", 0.0)
        cluster.server.requests.clear()
        feed._resync()
        assert feed.checks == 0 and '{"desired-state": ["running"]}' not in tasks_requests(cluster)
        monkeypatch.setattr(live, "RELIST_S", 600.0)
        feed._relist_due = True  # what a dropped stream leaves (`_request_resync`, without waking the thread)
        cluster.server.requests.clear()
        feed._resync()
        assert feed.checks == 0 and tasks_requests(cluster)
        feed._resync()
        assert feed.checks == 1
