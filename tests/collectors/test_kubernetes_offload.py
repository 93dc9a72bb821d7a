"""Big pod lists digested in a worker process: same output as inline, and a failing worker is survived."""
from __future__ import annotations

from concurrent.futures import Future

import msgspec
import pytest

from collectors.kubernetes.offload import PodOffload, digest_page
from fleet.model import encode_snapshot
from fleet.source import MalformedPayload
from sim.httpserver import Request, json_response
from sim.kubernetes import Knobs
from tests.sim.kubernetes.harness import TOKEN, collector, running

KNOBS = Knobs(seed=7, nodes=9, pods_per_node=14, namespaces=4, problem_share=0.3)


def as_json(data) -> bytes:
    return msgspec.json.encode(data)


def test_offloaded_list_gives_exactly_the_inline_result():
    with running(KNOBS, token=TOKEN) as cluster:
        with collector(cluster, watch=False, page_size=7, offload_min_items=10**9) as inline:
            expected = inline.collect(10.0)
            assert inline.offload.pages_offloaded == 0
        with collector(cluster, watch=False, page_size=7, offload_min_items=1) as shared:
            shared.offload.start(wait=True)
            got = shared.collect(10.0)
            assert shared.offload.pages_offloaded > 0  # the worker took part
            again = shared.collect(10.0)  # the same worker serves the next list
    assert as_json(got) == as_json(expected) == as_json(again)
    assert len(got.instances) == len(cluster.scenario.expected.pods)


def test_a_garbled_page_through_the_worker_is_a_malformed_payload():
    calls = {"n": 0}

    def garble(request: Request):
        if request.path == "/api/v1/pods" and request.query.get("continue"):
            calls["n"] += 1
            if calls["n"] == 2:
                return json_response({"kind": "PodList", "items": "not a list"})
        return None

    with running(KNOBS, token=TOKEN) as cluster, \
            collector(cluster, watch=False, page_size=10, offload_min_items=1) as source:
        source.offload.start(wait=True)
        cluster.server.fault = garble
        with pytest.raises(MalformedPayload) as raised:
            source.collect(10.0)
    assert "/api/v1/pods" in raised.value.message and "unexpected shape" in raised.value.message


def test_digest_page_reports_what_is_wrong():
    assert digest_page(b"{not json").error
    assert digest_page(b'{"kind":"Status"}').not_a_list
    assert digest_page(b'{"items":null}').rows == []


def test_a_dead_worker_falls_back_to_digesting_here():
    offload = PodOffload(min_items=1)
    dead: Future[bytes] = Future()
    dead.set_exception(RuntimeError("worker died"))
    page = b'{"metadata":{},"items":[{"metadata":{"name":"a","namespace":"n"},"status":{"phase":"Running"}}]}'
    rows = offload.collect(dead, page).rows
    assert [(row.key, row.state) for row in rows] == [("n/a", "running")]
    assert offload.broken and not offload.has_room(0) and offload.submit(page) is None
    offload.close()


def sleep_forever(seconds: float) -> bytes:
    import time
    time.sleep(seconds)
    return b""


def test_a_worker_that_overruns_the_budget_is_replaced_and_the_page_digested_here():
    import time
    offload = PodOffload(min_items=1)
    offload.start(wait=True)
    try:
        stuck = offload.run(sleep_forever, 30)
        page = b'{"metadata":{},"items":[{"metadata":{"name":"a","namespace":"n"},"status":{"phase":"Running"}}]}'
        started = time.monotonic()
        rows = offload.collect(stuck, page, within_s=1.0).rows
        assert time.monotonic() - started < 3.5
        assert [row.key for row in rows] == ["n/a"]
        assert not offload.broken and offload.worth(1)  # the next big list starts a fresh worker
        offload.start(wait=True)
        assert offload.up and offload.collect(offload.submit(page), page, within_s=10).rows[0].key == "n/a"
    finally:
        offload.close()
