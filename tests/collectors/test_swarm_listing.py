"""A large swarm's listing: tasks read in parts by the collector and its worker process, what is kept."""
from __future__ import annotations

import dataclasses
import json

import pytest
import requests

from collectors.swarm import engine, wire
from collectors.swarm.fetch import SwarmCollector
from collectors.swarm.listing import plain_target
from collectors.swarm.normalize import normalize
from collectors.toolkit import decode
from fleet.config import ClusterConfig
from fleet.config.types import TlsFiles
from sim.swarm import build, start

SCENARIO = dict(nodes=12, services=16, replicas=3, global_services=2, history=4, problems=True)


def swarm_config(url: str) -> ClusterConfig:
    return ClusterConfig(name="swarm", orchestrator="swarm", url=url)


def collected(url: str, *, worker: bool, change_worker=None):
    """One listing; with `worker`, the collector's worker process is up before it starts."""
    collector = SwarmCollector(swarm_config(url), live=False)
    try:
        if worker:
            collector.worker.min_tasks = 0
            if change_worker is not None:
                change_worker(collector.worker)
            collector.worker.start(wait=True)
        return collector.collect(timeout_s=30), collector.worker
    finally:
        collector.close()


def same_model(one, other) -> None:
    assert one.instances == other.instances
    assert one.workloads == other.workloads
    assert one.events == other.events
    assert one.services == other.services
    assert one.nodes == other.nodes


@pytest.fixture()
def swarm(monkeypatch):
    """The emulated swarm, its whole listing in one `/tasks`, then parts of a few services each."""
    with start(build(3, **SCENARIO)) as cluster:
        whole, _ = collected(cluster.docker_host, worker=False)
        monkeypatch.setattr(engine, "TASKS_PER_PART", 7)
        cluster.server.requests.clear()
        yield cluster, whole


def test_the_worker_reads_parts_and_the_model_is_what_one_listing_gives(swarm):
    cluster, whole = swarm
    in_parts, worker = collected(cluster.docker_host, worker=True)
    assert worker.parts_read > 0  # some parts were read by the worker process, some here
    asked = [s for _, path, query in cluster.server.requests if path.endswith("/tasks")
             for s in json.loads(query["filters"][0])["service"]]
    assert sorted(asked) == sorted(w.id for w in whole.workloads)  # each service read once, by one of them
    same_model(in_parts, whole)


def test_a_worker_that_cannot_reach_the_engine_leaves_its_parts_to_the_collector(swarm):
    cluster, whole = swarm

    def unreachable(worker) -> None:
        worker.target = dataclasses.replace(worker.target, port=1)  # nothing listens there
    in_parts, worker = collected(cluster.docker_host, worker=True, change_worker=unreachable)
    assert worker.parts_read > 0
    same_model(in_parts, whole)


def test_a_worker_that_died_leaves_its_parts_to_the_collector(swarm):
    cluster, whole = swarm
    in_parts, worker = collected(cluster.docker_host, worker=True,
                                 change_worker=lambda w: (w.start(wait=True), w._current.popen.kill()))
    assert worker.broken
    same_model(in_parts, whole)


def test_only_the_tasks_that_decide_the_model_are_kept_and_they_give_the_same_model(swarm):
    cluster, whole = swarm
    collector = SwarmCollector(swarm_config(cluster.docker_host), live=False)
    try:
        raw = collector.fetch(timeout_s=30)
    finally:
        collector.close()
    listed = engine_tasks(cluster)
    assert raw.split is not None and len(raw.tasks) < len(listed)  # history shut down on purpose is left out
    assert {t.ID for t in raw.tasks} <= {t.ID for t in listed}
    # splitting the kept tasks again (as a live round after an event does) gives the same model
    again = normalize(dataclasses.replace(raw, split=None))
    same_model(again, whole)
    same_model(normalize(dataclasses.replace(raw, tasks=listed, split=None)), whole)


def engine_tasks(cluster) -> list[wire.Task]:
    body = requests.get(cluster.docker_host.replace("tcp://", "http://") + "/v1.47/tasks", timeout=30).content
    return decode(body, list[wire.Task], "GET /tasks")


@pytest.mark.parametrize("url, tls, expected", [
    ("unix:///var/run/docker.sock", TlsFiles(), ("http", None, "/var/run/docker.sock")),
    ("tcp://10.0.0.5:2375", TlsFiles(), ("http", 2375, None)),
    ("tcp://10.0.0.5:2376", TlsFiles(ca_file="/ca.pem", cert_file="/c.pem", key_file="/k.pem"), ("https", 2376, None)),
])
def test_the_worker_dials_the_engine_as_the_collector_does(url, tls, expected):
    target = plain_target(ClusterConfig(name="s", orchestrator="swarm", url=url, tls=tls))
    assert target is not None
    assert (target.scheme, target.port if target.unix_socket is None else None, target.unix_socket) == expected
    if tls.cert_file:
        assert target.cert == ("/c.pem", "/k.pem") and target.verify == "/ca.pem"
    assert target.headers == ()  # no credential goes to the worker


@pytest.mark.parametrize("url", ["ssh://admin@manager", "tcp://user:secret@10.0.0.5:2375", "npipe:////./pipe/docker_engine"])
def test_what_the_worker_cannot_dial_or_must_not_see_stays_in_the_collector(url):
    assert plain_target(ClusterConfig(name="s", orchestrator="swarm", url=url)) is None


@pytest.mark.parametrize("api_version", ["1.24", "1.40"])
def test_an_older_engine_read_in_parts_counts_its_services_as_one_listing_does(api_version, monkeypatch):
    """Before API 1.41 there is no ServiceStatus: desired and running come from the tasks, so the
    tasks kept from the parts must still count every task meant to run."""
    def collected_at(url: str, worker: bool):
        collector = SwarmCollector(ClusterConfig(name="swarm", orchestrator="swarm", url=url,
                                                 options={"api_version": api_version}), live=False)
        try:
            if worker:
                collector.worker.min_tasks = 0
                collector.worker.start(wait=True)
            return collector.collect(timeout_s=30), collector.worker.parts_read
        finally:
            collector.close()

    with start(build(3, **SCENARIO)) as cluster:
        whole, _ = collected_at(cluster.docker_host, worker=False)
        monkeypatch.setattr(engine, "TASKS_PER_PART", 7)
        in_parts, parts_read = collected_at(cluster.docker_host, worker=True)
    assert parts_read > 0
    assert api_version in (whole.version or "")
    same_model(in_parts, whole)
