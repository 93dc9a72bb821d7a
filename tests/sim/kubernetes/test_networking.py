"""The emulator's Services, EndpointSlices, Endpoints and HPAs: consistent with its pods, served like the rest."""
from __future__ import annotations

import pytest
import requests

from sim.kubernetes import Knobs, generate
from sim.kubernetes.conversions import hpa_v2_to_v1
from sim.kubernetes.demo import PERIOD_S, PHASES, knobs_at
from sim.kubernetes.networking import MAX_PER_SLICE
from tests.sim.kubernetes.harness import TOKEN, running
from tests.upstream import UPSTREAM_DIR, upstream_json

AUTH = {"Authorization": f"Bearer {TOKEN}"}
KNOBS = Knobs(seed=43, nodes=9, pods_per_node=10, problem_share=0.3)


@pytest.fixture(scope="module")
def cluster():
    with running(KNOBS, token=TOKEN) as started:
        yield started


def get(cluster, path: str, **params) -> requests.Response:
    return requests.get(cluster.url + path, params=params, headers=AUTH, timeout=10)


def by_kind(objects, kind: str) -> list[dict]:
    return [obj for _, obj in objects if obj["kind"] == kind]


def test_autoscaling_discovery_offers_v2_preferred_and_v1(cluster):
    group = get(cluster, "/apis/autoscaling").json()
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]
    assert group["preferredVersion"]["version"] == "v2"
    resources = get(cluster, "/apis/autoscaling/v1").json()["resources"]
    assert resources[0]["name"] == "horizontalpodautoscalers" and resources[0]["shortNames"] == ["hpa"]
    core = {r["name"] for r in get(cluster, "/api/v1").json()["resources"]}
    assert {"services", "endpoints"} <= core


def test_every_endpoint_is_a_pod_the_service_selects_ready_as_the_pod(cluster):
    objects = generate(KNOBS).objects
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in by_kind(objects, "Pod")}
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in by_kind(objects, "Service")}
    checked = 0
    for slice_ in by_kind(objects, "EndpointSlice"):
        ns = slice_["metadata"]["namespace"]
        selector = services[(ns, slice_["metadata"]["labels"]["kubernetes.io/service-name"])]["spec"].get("selector")
        for endpoint in slice_["endpoints"]:
            if "targetRef" not in endpoint:
                assert selector is None  # default/kubernetes: the control plane's addresses
                continue
            pod = pods[(ns, endpoint["targetRef"]["name"])]
            assert selector.items() <= pod["metadata"]["labels"].items()
            ready = next(c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready") == "True"
            assert endpoint["conditions"]["ready"] is ready
            assert endpoint["addresses"][0] in [a["ip"] for a in pod["status"]["podIPs"]]
            checked += 1
    assert checked > 50


def test_big_services_are_split_into_slices_of_at_most_a_hundred():
    objects = generate(Knobs(seed=44, nodes=130, pods_per_node=2, problem_share=0.0)).objects
    exporter = [s for s in by_kind(objects, "EndpointSlice")
                if s["metadata"]["labels"]["kubernetes.io/service-name"] == "node-exporter"]
    assert len(exporter) == 2 and max(len(s["endpoints"]) for s in exporter) == MAX_PER_SLICE


def test_v1_hpa_is_the_v2_object_converted(cluster):
    v2 = get(cluster, "/apis/autoscaling/v2/horizontalpodautoscalers").json()
    v1 = get(cluster, "/apis/autoscaling/v1/horizontalpodautoscalers").json()
    assert (v2["kind"], v1["apiVersion"]) == ("HorizontalPodAutoscalerList", "autoscaling/v1")
    assert [i["metadata"]["name"] for i in v1["items"]] == [i["metadata"]["name"] for i in v2["items"]]
    first = v1["items"][0]
    assert first["spec"]["targetCPUUtilizationPercentage"] == 70 and "metrics" not in first["spec"]
    assert "autoscaling.alpha.kubernetes.io/conditions" in first["metadata"]["annotations"]


def test_v1_watch_sends_converted_objects(cluster):
    with requests.get(cluster.url + "/apis/autoscaling/v1/horizontalpodautoscalers",
                      params={"watch": "1", "resourceVersion": "0", "timeoutSeconds": "1"}, headers=AUTH,
                      stream=True, timeout=10) as response:
        first = next(response.iter_lines())
    assert b'"apiVersion":"autoscaling/v1"' in first and b"targetCPUUtilizationPercentage" in first


def test_unserved_group_version_is_a_plain_404_and_left_out_of_discovery():
    with running(KNOBS, token=TOKEN, unserved={"discovery.k8s.io/v1"}) as old:
        assert get(old, "/apis/discovery.k8s.io/v1/endpointslices").status_code == 404
        assert "discovery.k8s.io" not in {g["name"] for g in get(old, "/apis").json()["groups"]}
        assert get(old, "/api/v1/endpoints").status_code == 200


def test_converting_recorded_v2_status_keeps_what_v1_can_say():
    recorded = upstream_json("kubernetes/hpa-item-v2beta2-at-maxreplicas-gitops-engine.json")
    v1 = hpa_v2_to_v1(recorded)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 65
    assert v1["status"]["currentCPUUtilizationPercentage"] == 27
    assert (v1["status"]["currentReplicas"], v1["status"]["desiredReplicas"]) == (1, 1)


@pytest.mark.parametrize("phase", range(PHASES))
def test_every_demo_phase_has_a_service_without_ready_backends_and_one_autoscaler_at_max(phase):
    expected = generate(knobs_at(0, phase * PERIOD_S)).expected
    assert any(s.status == "down" and s.backends_ready == 0 for s in expected.services.values())
    pinned = [a for a in expected.autoscalers.values() if a.limited]
    assert len(pinned) == 1 and pinned[0].current == pinned[0].max == pinned[0].desired


def test_no_problems_means_every_service_is_served_and_no_autoscaler_is_limited():
    expected = generate(Knobs(seed=3, problem_share=0.0)).expected
    assert {s.status for s in expected.services.values()} == {"ok", "unknown"}
    assert expected.autoscalers and not any(a.limited for a in expected.autoscalers.values())


# -- shapes against the recorded payloads ---------------------------------------------------------
KINDS = ("Service", "Endpoints", "EndpointSlice", "HorizontalPodAutoscaler")
# real API fields that no recording happens to carry (types and metrics the recordings do not use)
NOT_RECORDED = {"spec.externalName", "status.loadBalancer.ingress[].ip", "status.loadBalancer.ingress[].ipMode",
                "spec.metrics[].pods", "spec.metrics[].pods.metric", "spec.metrics[].pods.metric.name",
                "spec.metrics[].pods.target", "spec.metrics[].pods.target.averageValue",
                "spec.metrics[].pods.target.type", "status.currentMetrics[].pods", "status.currentMetrics[].pods.current",
                "status.currentMetrics[].pods.current.averageValue", "status.currentMetrics[].pods.metric",
                "status.currentMetrics[].pods.metric.name"}
# what recordings carry that the emulator leaves out on purpose: server bookkeeping, older API versions
LEFT_OUT = ("metadata.managedFields", "metadata.annotations", "metadata.selfLink", "metadata.resourceVersion",
            "endpoints[].topology", "endpoints[].targetRef.resourceVersion", "spec.targetCPUUtilizationPercentage",
            "status.currentCPUUtilizationPercentage", "spec.loadBalancerIP")  # the last: deprecated since 1.24


def key_paths(obj, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else key
            if not prefix.endswith(("labels", "annotations", "selector")):
                found.add(path)
                found |= key_paths(value, path)
    elif isinstance(obj, list):
        for value in obj:
            found |= key_paths(value, prefix + "[]")
    return found


def recorded_paths() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for path in sorted((UPSTREAM_DIR / "kubernetes").glob("*.json")):
        payload = upstream_json(f"kubernetes/{path.name}")
        if isinstance(payload, list):  # the docs' fragment: only a slice's endpoints
            found["EndpointSlice"] |= key_paths(payload, "endpoints")
            continue
        list_kind = payload.get("kind", "").removesuffix("List")
        for item in payload.get("items", [payload]):
            kind = item.get("kind") or list_kind
            if kind in found:
                found[kind] |= key_paths(item)
    return found


def emulated_paths() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for _, obj in generate(KNOBS).objects:
        if obj["kind"] in found:
            found[obj["kind"]] |= key_paths(obj)
    return found


def test_emulated_objects_use_only_fields_the_recordings_have():
    recorded, emulated = recorded_paths(), emulated_paths()
    for kind in KINDS:
        assert emulated[kind] - recorded[kind] - NOT_RECORDED == set(), kind


def test_every_field_the_recordings_have_is_emulated():
    recorded, emulated = recorded_paths(), emulated_paths()
    for kind in KINDS:
        missing = {p for p in recorded[kind] - emulated[kind] if not p.startswith(LEFT_OUT)}
        assert missing == set(), kind


def test_past_the_service_budget_only_every_nth_deployment_gets_a_service(monkeypatch):
    from sim.kubernetes import servicemix

    monkeypatch.setattr(servicemix, "DEPLOYMENT_SERVICES", 10)
    scenario = generate(Knobs(seed=43, nodes=20, pods_per_node=15))
    deployments = {f"Service/{w.namespace}/{w.name}" for w in scenario.expected.workloads.values()
                   if w.kind == "Deployment"}
    assert len(deployments) > 20
    assert 0 < len(deployments & set(scenario.expected.services)) <= 10
