"""Valid JSON of the wrong shape, generated (hypothesis): a collector raises only our own error
types (fleet.source.SourceError, e.g. MalformedPayload), so the poller never sees a crash.

Each example takes one real answer of an emulator, replaces a part of it (anything from one field
to the whole body) with arbitrary JSON, and serves it once in place of the real one.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors import build_collector
from collectors.kubernetes.fetch import KubernetesCollector
from collectors.swarm.fetch import SwarmCollector, read_answers
from fleet.config import ClusterConfig, Settings
from fleet.poller import Poller
from fleet.source import ClusterData, SourceError
from sim.httpserver import EmulatorServer, Request, Response
from tests.fleet.fakes import ScriptedSource
from tests.trust.targets import KUBE_TOKEN, NOMAD_TOKEN, running

SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=6))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) |
                    st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)
PATHS = {
    "kubernetes": ["/version", "/api/v1/nodes", "/api/v1/pods", "/api/v1/events", "/apis/apps/v1/deployments",
                   "/apis/apps/v1/replicasets", "/apis/apps/v1/statefulsets", "/apis/apps/v1/daemonsets",
                   "/apis/batch/v1/jobs", "/apis/batch/v1/cronjobs", "/apis/metrics.k8s.io/v1beta1/nodes"],
    "nomad": ["/v1/agent/self", "/v1/regions", "/v1/nodes", "/v1/allocations", "/v1/jobs", "/v1/deployments",
              "/v1/evaluations"],
    "marathon": ["/v2/info", "/v2/apps", "/v2/pods/::status", "/v2/queue", "/v2/deployments"],
    "mesos": ["/master/state-summary", "/master/state"],
}
# the running cluster each API belongs to, and which of its servers answers it
SERVED_BY = {"kubernetes": ("kubernetes", "front"), "nomad": ("nomad", "front"), "marathon": ("marathon", "front"),
             "mesos": ("marathon", "mesos")}
HEADERS = {"kubernetes": {"authorization": f"Bearer {KUBE_TOKEN}"}, "nomad": {"x-nomad-token": NOMAD_TOKEN},
           "marathon": {}, "mesos": {}}
EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """`value` with one part (maybe all of it) replaced by arbitrary JSON."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: draw(mutated(value[key]))}
    if isinstance(value, list) and value and draw(st.booleans()):
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], draw(mutated(value[index])), *value[index + 1:]]
    return draw(JSON)


def real_answer(server: EmulatorServer, api: str, path: str) -> Any:
    response = server.handler(Request("GET", path, {}, HEADERS[api]))
    return json.loads(response.encoded())


def serve_once(server: EmulatorServer, path: str, body: Any) -> None:
    """The next request for `path` gets `body`; every other request, and later ones, the real answer."""
    pending = [json.dumps(body).encode()]

    def fault(request: Request) -> Response | None:
        if request.path == path and pending:
            return Response(200, pending.pop(), {"Content-Type": "application/json"})
        return None
    server.fault = fault


def collector_for(kind: str, config: ClusterConfig) -> Any:
    return KubernetesCollector(config, watch=False) if kind == "kubernetes" else build_collector(config)


def collects_or_raises_our_error(collect: Callable[[], ClusterData]) -> None:
    try:
        collect()
    except SourceError:
        pass


@pytest.mark.parametrize("api", sorted(PATHS))
def test_wrong_shape_answers_raise_only_our_errors(api: str) -> None:
    kind, role = SERVED_BY[api]
    with running(kind) as target:
        server: EmulatorServer = getattr(target, role)
        answers = {path: real_answer(server, api, path) for path in PATHS[api]}

        @EXAMPLES
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            path = data.draw(st.sampled_from(PATHS[api]))
            serve_once(server, path, data.draw(mutated(answers[path])))
            collector = collector_for(kind, target.config)
            try:
                collects_or_raises_our_error(lambda: collector.collect(5.0))
            finally:
                collector.close()
        check()


SWARM_PAYLOADS = {
    "version": {"Version": "27.5.1", "ApiVersion": "1.47"},
    "nodes": [{"ID": "n1", "Description": {"Hostname": "m1", "Resources": {"NanoCPUs": 4_000_000_000,
                                                                          "MemoryBytes": 2**33}},
               "Spec": {"Role": "manager", "Availability": "active", "Labels": {}},
               "Status": {"State": "ready", "Addr": "10.0.0.1"}, "ManagerStatus": {"Leader": True}}],
    "services": [{"ID": "s1", "Spec": {"Name": "web", "Mode": {"Replicated": {"Replicas": 2}},
                                        "TaskTemplate": {"ContainerSpec": {"Image": "nginx:1"},
                                                         "Resources": {"Reservations": {"NanoCPUs": 500_000_000}}}},
                  "ServiceStatus": {"RunningTasks": 1, "DesiredTasks": 2}}],
    "tasks": [{"ID": "t1", "ServiceID": "s1", "NodeID": "n1", "Slot": 1, "DesiredState": "running",
               "CreatedAt": "2026-01-01T00:00:00Z", "Version": {"Index": 3},
               "Status": {"State": "running", "Timestamp": "2026-01-01T00:00:01Z", "Err": None}}],
}


@EXAMPLES
@given(part=st.sampled_from(sorted(SWARM_PAYLOADS)), data=st.data())
def test_wrong_shape_engine_answers_raise_only_our_errors(part: str, data: st.DataObject) -> None:
    payloads = {**SWARM_PAYLOADS, part: data.draw(mutated(SWARM_PAYLOADS[part]))}
    collector = SwarmCollector(ClusterConfig(name="swarm", orchestrator="swarm", url="unix:///nonexistent.sock"))
    collector.fetch = lambda timeout_s: read_answers(  # type: ignore[method-assign]
        collector.endpoint, payloads["version"], payloads["nodes"], payloads["services"], payloads["tasks"])
    collects_or_raises_our_error(lambda: collector.collect(1.0))


def test_a_collector_crash_still_never_stops_the_poller() -> None:
    crashing = ScriptedSource("buggy", [ZeroDivisionError("a bug")])
    poller = Poller([crashing, ScriptedSource("fine", [ClusterData()])], Settings())
    buggy, fine = poller.poll_once(force=True).clusters
    poller.stop()
    assert (buggy.status, fine.status) == ("error", "ok")
    assert "collector error: ZeroDivisionError: a bug" in buggy.error
