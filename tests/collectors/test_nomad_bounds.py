"""Nomad against servers that hang, drip, talk forever, reset or answer 503: every collection
ends within its deadline (plus a margin) with the status and a one-line message naming what
happened; the job specs the worker process reads are bounded the same way."""
from __future__ import annotations

import re
import time

import pytest

from collectors.deadline import AnswerTooLarge
from collectors.nomad.fetch import NomadCollector
from fleet.source import SourceError, Unreachable, UpstreamError
from sim.nomad import build, start
from tests.collectors.faultservers import FAULTS, failing_collect, raw_server, unavailable
from tests.sim.nomad.harness import TOKEN, TOKENS, config

MARGIN_S = 2.5  # a deadline is a correctness property: asserted generously, never a speed target
CUT = r"GET /v1/agent/self on http://127\.0\.0\.1:\d+ did not finish within 1s"
EXPECTED = {
    "hang": (Unreachable, CUT),
    "headers then drip": (Unreachable, CUT),
    "slow headers": (Unreachable, CUT),
    "endless chunked body": (AnswerTooLarge, r"GET /v1/agent/self on http://127\.0\.0\.1:\d+: answer larger than "
                                             r"8 MiB refused \(it kept coming\)"),
    "huge Content-Length": (AnswerTooLarge, r"answer larger than 8 MiB refused \(it declares 3,815 MiB\)"),
    "TLS port that never speaks TLS": (Unreachable, r"on https://127\.0\.0\.1:\d+: TLS handshake got no answer "
                                                    r"within 1s: is this a TLS port\?"),
    "reset": (Unreachable, r"127\.0\.0\.1:\d+: the server closed the connection without answering"),
}


def collect_failing(url: str) -> tuple[SourceError, float]:
    return failing_collect(NomadCollector(config(url, max_answer_mib=8, verify_tls=False)))


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_misbehaving_server_ends_the_collection_in_time_naming_what_happened(fault):
    behaviour, tls = FAULTS[fault]
    with raw_server(behaviour) as url:
        error, seconds = collect_failing(url.replace("http://", "https://") if tls else url)
    kind, says = EXPECTED[fault]
    assert isinstance(error, kind) and re.search(says, error.message), error.message
    assert "\n" not in error.message and TOKEN not in error.message
    assert seconds < 1 + MARGIN_S


@pytest.mark.parametrize("body, says", [
    (b"No cluster leader", "No cluster leader"),
    (b'{"message": "rpc error: No cluster leader", "code": 503}', "rpc error: No cluster leader"),
])
def test_a_503_quotes_the_servers_own_message_on_one_line(body, says):
    with raw_server(unavailable(body + b"\n\n" + b"x" * 400 if body[:1] != b"{" else body)) as url:
        error, _ = collect_failing(url)
    assert isinstance(error, UpstreamError)
    assert error.message.startswith(f"GET /v1/agent/self on {url}: HTTP 503 {says}")
    assert "\n" not in error.message and len(error.message) <= 200 and '"code"' not in error.message


@pytest.fixture(scope="module")
def scenario():
    return build(0)


def test_a_region_whose_list_drips_degrades_within_the_deadline_and_names_the_list(scenario):
    from sim.httpserver import Response

    def drip_jobs(request):
        if request.path == "/v1/jobs" and request.param("region") == "us-east":
            return Response(200, headers={"Content-Type": "application/json"},
                            stream=(time.sleep(0.2) or b" " for _ in range(100)))
        return None

    with start(scenario, tokens=TOKENS) as cluster:
        cluster.servers[0].fault = drip_jobs
        collector = NomadCollector(config(cluster.url))
        started = time.monotonic()
        try:
            data = collector.collect(timeout_s=1)
        finally:
            collector.close()
    assert re.search(r"region us-east unavailable: GET /v1/jobs on http://127\.0\.0\.1:\d+ did not finish within 1s",
                     data.degraded_reason)
    assert time.monotonic() - started < 1 + MARGIN_S


def test_job_specs_read_by_the_worker_are_cut_at_the_deadline(scenario):
    from sim.httpserver import Response

    def hang_specs(request):
        if request.path.startswith("/v1/job/"):
            time.sleep(5)
            return Response(200, b"{}")
        return None

    with start(scenario, tokens=TOKENS) as cluster:
        cluster.servers[0].fault = hang_specs
        collector = NomadCollector(config(cluster.url, regions=["eu-west"]), spec_offload_min=1)
        collector.worker.start(wait=True)
        error, seconds = failing_collect(collector)
    assert isinstance(error, Unreachable)
    assert re.search(r"GET /v1/job/\S+ on http://127\.0\.0\.1:\d+ did not finish within 1s", error.message)
    assert collector.specs_from_worker == 0
    assert seconds < 1 + MARGIN_S
