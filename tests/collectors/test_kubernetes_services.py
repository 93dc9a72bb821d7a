"""Services and autoscalers through the emulator: the collector must report what each scenario states."""
from __future__ import annotations

import time

from sim.kubernetes import Knobs
from sim.kubernetes.scenario import resource
from tests.collectors.test_kubernetes_scenarios import collected  # noqa: F401 (the fixture: one round per size)
from tests.sim.kubernetes.harness import TOKEN, collector, running

SMALL = Knobs(seed=5, nodes=8, pods_per_node=10, namespaces=3, problem_share=0.3)


def service_row(service):
    return (service.kind, service.addresses, [(p.port, p.protocol, p.target, p.published) for p in service.ports],
            service.workload_ids, service.backends_total, service.backends_ready, service.status)


def truth_row(truth):
    return (truth.kind, truth.addresses, truth.ports, truth.workload_ids, truth.backends_total, truth.backends_ready,
            truth.status)


def autoscaler_row(scaler):
    return (scaler.min, scaler.max, scaler.current, scaler.desired, scaler.metrics, scaler.limited, scaler.message)


def assert_services_match(expected, data):
    assert {s.id: service_row(s) for s in data.services} == \
        {key: truth_row(truth) for key, truth in expected.services.items()}


def assert_autoscalers_match(expected, data):
    found = {w.id: autoscaler_row(w.autoscaler) for w in data.workloads if w.autoscaler is not None}
    assert found == {key: autoscaler_row(truth) for key, truth in expected.autoscalers.items()}


def test_every_service_matches_the_scenario(collected):
    expected, data = collected
    assert_services_match(expected, data)


def test_every_autoscaler_sits_on_its_workload_as_stated(collected):
    expected, data = collected
    assert_autoscalers_match(expected, data)


def test_a_dual_stack_pod_is_one_backend(collected):
    expected, data = collected
    dual = [s for s in data.services if any(":" in a for a in s.addresses)]
    assert len(dual) == sum(any(":" in a for a in t.addresses) for t in expected.services.values())
    for service in dual:
        assert service.backends_total == expected.services[service.id].backends_total


def test_problem_scenario_has_a_service_without_ready_backends_and_an_autoscaler_at_max():
    with running(SMALL, token=TOKEN) as cluster, collector(cluster, watch=False) as source:
        data = source.collect(10.0)
    typo = next(s for s in data.services if s.name == "checkout-v1")
    assert (typo.status, typo.backends_total, typo.workload_ids) == ("down", 0, [])
    pinned = [w.autoscaler for w in data.workloads if w.autoscaler and w.autoscaler.limited]
    assert len(pinned) == 1 and pinned[0].current == pinned[0].max


def test_without_endpointslices_backends_come_from_v1_endpoints():
    with running(SMALL, token=TOKEN, unserved={"discovery.k8s.io/v1"}) as cluster, \
            collector(cluster, watch=False) as source:
        data = source.collect(10.0)
    assert data.degraded_reason is None
    assert_services_match(cluster.scenario.expected, data)


def test_forbidden_endpointslices_fall_back_to_v1_endpoints():
    with running(SMALL, token=TOKEN, forbidden={("discovery.k8s.io", "endpointslices")}) as cluster, \
            collector(cluster, watch=False) as source:
        data = source.collect(10.0)
    assert data.degraded_reason is None
    assert_services_match(cluster.scenario.expected, data)


def test_without_autoscaling_v2_the_v1_api_gives_the_same_autoscalers_but_only_the_cpu_metric():
    with running(SMALL, token=TOKEN, unserved={"autoscaling/v2"}) as cluster, \
            collector(cluster, watch=False) as source:
        data = source.collect(10.0)
    expected = cluster.scenario.expected
    for truth in expected.autoscalers.values():
        truth.metrics = [line for line in truth.metrics if line.startswith("cpu ")]
    assert any(w.autoscaler and w.autoscaler.limited for w in data.workloads)
    assert_autoscalers_match(expected, data)


def test_forbidden_services_degrade_the_round_and_keep_the_rest():
    with running(SMALL, token=TOKEN, forbidden={("", "services")}) as cluster, \
            collector(cluster, watch=False) as source:
        data = source.collect(10.0)
    assert data.services == [] and data.nodes
    assert "services could not be read" in data.degraded_reason and "forbidden (403)" in data.degraded_reason


def test_forbidden_autoscalers_degrade_and_name_both_apis():
    with running(SMALL, token=TOKEN, forbidden={("autoscaling", "horizontalpodautoscalers")}) as cluster, \
            collector(cluster, watch=False) as source:
        data = source.collect(10.0)
    assert all(w.autoscaler is None for w in data.workloads)
    assert "autoscalers could not be read" in data.degraded_reason
    assert "/apis/autoscaling/v1/horizontalpodautoscalers" in data.degraded_reason


def test_a_watched_slice_turning_not_ready_shows_in_the_next_round():
    with running(SMALL, token=TOKEN, bookmark_interval_s=0.2) as cluster, collector(cluster) as source:
        before = {s.id: s for s in source.collect(10.0).services}
        slices = resource("discovery.k8s.io", "endpointslices")
        target = next(obj for obj in cluster.store.objects(slices)
                      if obj["endpoints"] and all(e["conditions"]["ready"] for e in obj["endpoints"])
                      and obj["metadata"]["namespace"] != "default" and obj["addressType"] == "IPv4"
                      and before[f"Service/{obj['metadata']['namespace']}/"
                                 f"{obj['metadata']['labels']['kubernetes.io/service-name']}"].backends_total
                      == len(obj["endpoints"]))
        service_id = f"Service/{target['metadata']['namespace']}/{target['metadata']['labels']['kubernetes.io/service-name']}"
        changed = {**target, "endpoints": [{**e, "conditions": {"ready": False, "serving": False, "terminating": False}}
                                           for e in target["endpoints"]]}
        cluster.store.put(slices, changed)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            service = next(s for s in source.collect(10.0).services if s.id == service_id)
            if service.backends_ready == 0:
                break
            time.sleep(0.1)
        assert (service.backends_ready, service.status) == (0, "down")
        assert before[service_id].status == "ok"
