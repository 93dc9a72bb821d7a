"""Job specs read in bulk by the worker process: the same model as read here, and every failure
of the worker's plain path is read again the usual way."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Iterator

import msgspec
import pytest

from collectors.nomad.fetch import NomadCollector
from sim.httpserver import json_response
from sim.nomad import NomadCluster, build, start
from tests.sim.nomad.harness import TOKEN, TOKENS, config


@pytest.fixture(scope="module")
def scenario():
    return build(5, nodes=12, jobs=24)


@pytest.fixture
def cluster(scenario) -> Iterator[NomadCluster]:
    with start(scenario, tokens=TOKENS) as running:
        yield running


def model(data) -> bytes:
    """The whole model but the times of events stamped "now" (each round has its own)."""
    events = [(e.object, e.reason, e.message) for e in data.events]
    return msgspec.json.encode([data.nodes, data.workloads, data.instances, events, data.version])


def collect(cluster: NomadCluster, spec_offload_min: int, prepare=None):
    collector = NomadCollector(config(cluster.url), spec_offload_min=spec_offload_min)
    try:
        if prepare:
            prepare(collector)
        return collector.collect(10.0), collector
    finally:
        collector.close()


def job_reads(cluster: NomadCluster, region: str) -> list[str]:
    return [path for server in cluster.servers for _, path, query in server.requests
            if path.startswith("/v1/job/") and query.get("region") == [region]]


def test_specs_read_by_the_worker_give_exactly_the_model_read_here(cluster, scenario):
    here, inline = collect(cluster, 10**9)
    there, shared = collect(cluster, 1, lambda c: c.worker.start(wait=True))
    jobs = sum(len(region.jobs) for region in scenario.regions.values())
    assert (inline.specs_from_worker, shared.specs_from_worker) == (0, jobs)
    assert model(there) == model(here)
    assert all(w.images for w in there.workloads if w.status != "stopped")


def test_a_spec_the_worker_cannot_read_plainly_is_read_again_here(cluster):
    job = cluster.scenario.regions["eu-west"].jobs[0]
    refused: list[str] = []

    def fault(request):
        if request.path == f"/v1/job/{job.id}" and request.param("region") == "eu-west" and not refused:
            refused.append(request.header("x-nomad-token") or "")
            return json_response({"message": "try again"}, 500)
        return None

    cluster.servers[0].fault = fault
    data, collector = collect(cluster, 1, lambda c: c.worker.start(wait=True))
    assert refused == [TOKEN]  # the worker sent the cluster's token
    assert job_reads(cluster, "eu-west").count(f"/v1/job/{job.id}") == 2  # the worker's read, then the usual one
    workload = next(w for w in data.workloads if w.id == f"eu-west/{job.namespace}/{job.id}")
    assert workload.images and workload.desired is not None


def test_a_dead_worker_means_the_specs_are_read_here(cluster):
    def dead(collector: NomadCollector) -> None:
        def run(*args):
            future: Future = Future()
            future.set_exception(RuntimeError("worker died"))
            return future
        collector.worker.run = run

    here, _ = collect(cluster, 10**9)
    data, collector = collect(cluster, 1, dead)
    assert collector.worker.broken and collector.specs_from_worker == 0
    assert model(data) == model(here)


def services(data) -> bytes:
    return msgspec.json.encode(sorted(data.services, key=lambda s: s.id))


def worker_batches(collector: NomadCollector, batches: list[str]) -> None:
    """Start the worker and note each batch of reads handed to it."""
    collector.worker.start(wait=True)
    hand_over = collector.in_worker

    def noted(read, decode, *args):
        answers = hand_over(read, decode, *args)
        batches.append(f"{read.__name__}: {sum(a is not None for a in answers)} read")
        return answers
    collector.in_worker = noted


def test_service_registrations_read_by_the_worker_give_the_same_services(cluster):
    here, _ = collect(cluster, 10**9)
    batches: list[str] = []
    there, _ = collect(cluster, 1, lambda c: worker_batches(c, batches))
    registered = [s for s in here.services if s.kind == "nomad" and s.backends_total]
    assert registered and services(there) == services(here)
    assert any(b.startswith("read_registrations") and not b.endswith(": 0 read") for b in batches)


def test_a_service_the_worker_cannot_read_plainly_is_read_again_here(cluster):
    here, _ = collect(cluster, 10**9)
    refused: list[str] = []

    def fault(request):
        if request.path.startswith("/v1/service/") and not refused:
            refused.append(request.path)
            return json_response({"message": "try again"}, 500)
        return None

    cluster.servers[0].fault = fault
    batches: list[str] = []
    there, _ = collect(cluster, 1, lambda c: worker_batches(c, batches))
    reads = [path for server in cluster.servers for _, path, _ in server.requests]
    assert refused and reads.count(refused[0]) >= 2  # the worker's read, then the usual one
    assert services(there) == services(here)
