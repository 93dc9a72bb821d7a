"""Normalization of every recorded Kubernetes payload in the shared fixtures, with exact values."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TypeVar

import msgspec
import pytest

from collectors.kubernetes import wire as w
from collectors.kubernetes.normalize import KubeState, normalize_events, normalize_state
from collectors.kubernetes.pods import digest, effective_request
from collectors.units import cpu_cores, mem_bytes
from fleet.source import ClusterData
from tests.upstream import upstream_json


T = TypeVar("T")


def convert(payload: object, item_type: type[T]) -> T:
    """One already-parsed JSON object (a recorded fixture) as `item_type`."""
    return msgspec.convert(payload, item_type, strict=False)


def items(name: str, item_type: type) -> list:
    payload = upstream_json(f"kubernetes/{name}")
    return [convert(item, item_type) for item in payload.get("items", [payload])]


def normalized(**lists: list) -> ClusterData:
    if "pods" in lists:  # the collector digests pods as it decodes them
        lists["pods"] = [digest(pod) for pod in lists["pods"]]
    return normalize_state(KubeState(**lists))


def by_id(entries: list) -> dict:
    return {entry.id: entry for entry in entries}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


# -- nodes ----------------------------------------------------------------------------------------
def test_minikube_node_maps_every_field():
    node, = normalized(nodes=items("node-item-minikube-k9s.json", w.Node)).nodes
    assert (node.id, node.status, node.schedulable, node.roles) == ("minikube", "ready", True, ["master"])
    assert node.address == "192.168.64.107"
    assert (node.zone, node.region) == (None, None)
    assert (node.cpu_capacity_cores, node.mem_capacity_bytes) == (4.0, 8165556 * 1024)
    assert (node.cpu_allocatable_cores, node.mem_allocatable_bytes) == (4.0, 8063156 * 1024)
    assert (node.version, node.os, node.arch) == ("v1.15.2", "linux", "amd64")
    assert (node.cpu_used_cores, node.mem_used_bytes) == (None, None)
    assert node.labels["kubernetes.io/hostname"] == "minikube"


def test_synthetic_node_list_statuses_follow_the_ready_condition():
    nodes = by_id(normalized(nodes=items("nodelist-synthetic-popeye.json", w.Node)).nodes)
    assert {n.id: n.status for n in nodes.values()} == {
        "n1": "ready", "n2": "ready", "n3": "ready", "n4": "not_ready", "n5": "unknown"}
    assert [n.id for n in nodes.values() if not n.schedulable] == ["n4"]


def test_synthetic_node_roles_come_from_role_labels():
    nodes = by_id(normalized(nodes=items("nodelist-synthetic-popeye.json", w.Node)).nodes)
    assert nodes["n1"].roles == ["control-plane", "master"]
    assert nodes["n2"].roles == []


def test_node_without_allocatable_falls_back_to_nothing_and_keeps_platform_from_labels():
    nodes = by_id(normalized(nodes=items("nodelist-synthetic-popeye.json", w.Node)).nodes)
    assert (nodes["n3"].cpu_capacity_cores, nodes["n3"].mem_capacity_bytes, nodes["n3"].address) == (0.0, 0, None)
    assert (nodes["n3"].os, nodes["n3"].arch, nodes["n3"].version) == ("linux", "arm64", None)
    assert (nodes["n5"].cpu_capacity_cores, nodes["n5"].cpu_allocatable_cores) == (1.0, 0.1)
    assert nodes["n5"].mem_allocatable_bytes == 10 * 1024 ** 2


def test_node_metrics_list_sets_usage_even_from_a_bare_number():
    data = normalized(nodes=items("nodelist-synthetic-popeye.json", w.Node),
                      node_metrics=items("nodemetricslist-synthetic-popeye.json", w.NodeMetrics))
    nodes = by_id(data.nodes)
    assert (nodes["n1"].cpu_used_cores, nodes["n1"].mem_used_bytes) == (0.144965, 770776 * 1024)
    assert (nodes["n5"].cpu_used_cores, nodes["n5"].mem_used_bytes) == (20.0, 40 * 1024 ** 2)
    assert nodes["n2"].cpu_used_cores is None


def test_node_metrics_docs_sample_in_nanocores():
    data = normalized(nodes=items("node-item-minikube-k9s.json", w.Node),
                      node_metrics=items("metrics-nodemetrics-item-k8s-docs.json", w.NodeMetrics))
    assert (data.nodes[0].cpu_used_cores, data.nodes[0].mem_used_bytes) == (0.487558, 732212 * 1024)


def test_allocated_sums_the_requests_of_pods_placed_on_the_node():
    data = normalized(nodes=items("node-item-minikube-k9s.json", w.Node),
                      pods=items("pod-item-init-containers-k9s.json", w.Pod))
    assert (data.nodes[0].cpu_allocated_cores, data.nodes[0].mem_allocated_bytes) == (0.1, 100 * 1024 ** 2)


def test_pod_metrics_docs_sample_quantities():
    usage = upstream_json("kubernetes/metrics-podmetrics-item-k8s-docs.json")["containers"][0]["usage"]
    assert (cpu_cores(usage["cpu"]), mem_bytes(usage["memory"])) == (0.00955963, 22244 * 1024)


# -- pods -----------------------------------------------------------------------------------------
def test_pod_with_completed_init_container_is_running_and_healthy():
    instance, = normalized(pods=items("pod-item-init-containers-k9s.json", w.Pod)).instances
    assert instance.id == "default/hurry-up-and-wait"
    assert (instance.state, instance.health, instance.reason, instance.restarts) == ("running", "healthy", None, 0)
    assert (instance.node_id, instance.started_at) == ("minikube", utc("2020-01-18T06:31:29Z"))


def test_native_sidecar_requests_add_to_the_running_phase_and_init_phase_wins():
    pod, = items("pod-item-sidecar-terminated-k9s.json", w.Pod)
    request = effective_request(pod.spec)
    # init "init" 333m/333Mi runs alone; afterwards sidecar 20m/40Mi + sleep 30m/10Mi = 50m/50Mi
    assert (request.cpu_cores, request.mem_bytes) == (0.333, 333 * 1024 ** 2)
    workload, = normalized(pods=[pod]).workloads
    assert (workload.cpu_request_cores, workload.mem_request_bytes) == (0.333, 333 * 1024 ** 2)


def test_pod_owned_by_an_unlisted_replicaset_stands_alone():
    data = normalized(pods=items("pod-item-rs-owned-k9s.json", w.Pod))
    assert [wl.id for wl in data.workloads] == ["Pod/default/nginx-7fb78fb6d8-2w75j"]
    assert data.instances[0].workload_id == "Pod/default/nginx-7fb78fb6d8-2w75j"
    assert (data.workloads[0].cpu_request_cores, data.workloads[0].mem_request_bytes) == (0.2, 20 * 1024 ** 2)


def test_gke_2016_pod_list_with_a_mirror_pod_without_status():
    data = normalized(pods=items("podlist-kubelet-k8s1.1-gke-dd-agent.json", w.Pod))
    states = {i.name: (i.state, i.health) for i in data.instances}
    assert states["fluentd-cloud-logging-gke-cluster-1-8046fdfa-node-ld35"] == ("unknown", "unknown")
    assert sum(state == ("running", "healthy") for state in states.values()) == 5
    workloads = by_id(data.workloads)
    assert workloads["Pod/kube-system/l7-lb-controller-ecp9w"].cpu_request_cores == 0.11
    assert workloads["Pod/kube-system/l7-lb-controller-ecp9w"].mem_request_bytes == 70 * 1024 ** 2
    assert workloads["Pod/kube-system/fluentd-cloud-logging-gke-cluster-1-8046fdfa-node-ld35"].status == "unknown"


def test_unscheduled_pending_pod_without_reason_is_progressing():
    data = normalized(pods=items("podlist-kubelet-k8s1.2-dd-agent.json", w.Pod))
    instances = by_id(data.instances)
    pending = instances["default/dd-agent"]
    assert (pending.state, pending.health, pending.reason, pending.node_id) == ("pending", "unknown", None, None)
    assert by_id(data.workloads)["Pod/default/dd-agent"].status == "progressing"
    assert by_id(data.workloads)["Pod/default/dd-agent-1rxlh"].cpu_request_cores == 0.25


def test_container_creating_pod_is_pending_with_its_reason():
    instance, = normalized(pods=items("podlist-pending-containercreating-datadog-agent.json", w.Pod)).instances
    assert (instance.state, instance.health, instance.reason) == ("pending", "unknown", "ContainerCreating")
    assert instance.node_id == "my-node-name"


def test_synthetic_pods_with_null_conditions_and_restarts():
    data = normalized(pods=items("podlist-synthetic-popeye.json", w.Pod))
    instances = by_id(data.instances)
    assert {i.name: i.state for i in instances.values()} == {
        "p1": "running", "p2": "unknown", "p3": "running", "p4": "running", "p5": "running"}
    assert instances["default/p4"].restarts == 2000  # init container 1000 + container 1000
    assert {i.name for i in instances.values() if i.health == "unhealthy"} == {"p1", "p3", "p4", "p5"}
    assert by_id(data.workloads)["Pod/default/p4"].images == ["blee", "zorg:latest"]


# -- workloads ------------------------------------------------------------------------------------
def test_available_deployment_is_healthy():
    workload, = normalized(deployments=items("deployment-item-k9s.json", w.Deployment)).workloads
    assert (workload.id, workload.kind, workload.status, workload.desired) == (
        "Deployment/icx/icx-db", "Deployment", "healthy", 1)
    assert workload.images == ["postgres:9.2-alpine"]
    assert (workload.cpu_request_cores, workload.mem_request_bytes) == (0.25, 256 * 1024 ** 2)


def test_deployment_list_statuses():
    workloads = by_id(normalized(deployments=items("deploymentlist-synthetic-popeye.json", w.Deployment)).workloads)
    assert {k: v.status for k, v in workloads.items()} == {
        "Deployment/default/dp1": "healthy", "Deployment/default/dp2": "failed", "Deployment/default/dp3": "stopped"}
    assert workloads["Deployment/default/dp3"].desired == 0


def test_statefulsets():
    workloads = by_id(normalized(statefulsets=items("statefulset-item-k9s.json", w.StatefulSet)
                                 + items("statefulsetlist-synthetic-popeye.json", w.StatefulSet)).workloads)
    assert {k: v.status for k, v in workloads.items()} == {
        "StatefulSet/default/nginx-sts": "healthy", "StatefulSet/default/sts1": "healthy",
        "StatefulSet/default/sts2": "healthy", "StatefulSet/default/sts3": "failed"}
    assert workloads["StatefulSet/default/nginx-sts"].desired == 4
    assert (workloads["StatefulSet/default/sts2"].cpu_request_cores,
            workloads["StatefulSet/default/sts2"].mem_request_bytes) == (1.0, 1024 ** 2)


def test_daemonsets():
    data = normalized(daemonsets=items("daemonset-item-k9s.json", w.DaemonSet)
                      + items("daemonsetlist-synthetic-popeye.json", w.DaemonSet))
    fluentd = by_id(data.workloads)["DaemonSet/kube-system/fluentd-gcp-v3.2.0"]
    assert (fluentd.status, fluentd.desired, fluentd.cpu_request_cores, fluentd.mem_request_bytes) == (
        "healthy", 2, 0.1, 200 * 1024 ** 2)
    assert fluentd.images == ["gcr.io/stackdriver-agents/stackdriver-logging-agent:0.6-1.6.0-1",
                              "k8s.gcr.io/prometheus-to-sd:v0.3.1"]
    assert [wl.id for wl in data.workloads].count("DaemonSet/default/ds2") == 2  # the fixture repeats the name
    assert by_id(data.workloads)["DaemonSet/default/ds1"].cpu_request_cores == 0.001


def test_daemonsets_run_on_every_node_and_deployments_do_not():
    data = normalized(daemonsets=items("daemonset-item-k9s.json", w.DaemonSet),
                      deployments=items("deployment-item-k9s.json", w.Deployment),
                      statefulsets=items("statefulset-item-k9s.json", w.StatefulSet))
    assert {wl.id: wl.per_node for wl in data.workloads} == {
        "DaemonSet/kube-system/fluentd-gcp-v3.2.0": True, "Deployment/icx/icx-db": False,
        "StatefulSet/default/nginx-sts": False}


def test_replicaset_without_a_deployment_is_its_own_workload():
    workload, = normalized(replicasets=items("replicaset-item-k9s.json", w.ReplicaSet)).workloads
    assert (workload.id, workload.status, workload.desired) == ("ReplicaSet/default/nginx-pv-6476d7d5c8", "healthy", 1)


def test_replicaset_owned_by_its_deployment_is_folded_into_it():
    replicaset, = items("replicaset-item-k9s.json", w.ReplicaSet)
    owner = replicaset.metadata.owner_references[0]
    deployment = convert({"metadata": {"name": owner.name, "namespace": "default"}, "spec": {"replicas": 1},
                            "status": {"availableReplicas": 1, "updatedReplicas": 1, "replicas": 1}}, w.Deployment)
    data = normalized(deployments=[deployment], replicasets=[replicaset])
    assert [wl.id for wl in data.workloads] == [f"Deployment/default/{owner.name}"]


# -- events ---------------------------------------------------------------------------------------
def test_normal_events_are_not_reported():
    assert normalized(events=items("eventlist-gke-2016-dd-agent.json", w.Event)
                      + items("event-item-k9s.json", w.Event)).events == []


def test_warning_event_names_its_object_and_time():
    payload = dict(upstream_json("kubernetes/event-item-k9s.json"), type="Warning")
    event, = normalize_events([convert(payload, w.Event)])
    assert (event.severity, event.object, event.reason) == ("warning", "Pod/default/hello-1567197780-mn4mv", "Pulled")
    assert event.message == 'Successfully pulled image "blang/busybox-bash"'
    assert event.time == utc("2019-08-30T20:43:05Z")


def test_events_are_newest_first_and_bounded():
    payload = upstream_json("kubernetes/eventlist-gke-2016-dd-agent.json")
    warnings = [convert(dict(item, type="Warning"), w.Event) for item in payload["items"]]
    events = normalize_events(warnings, limit=3)
    assert [(e.object, e.reason) for e in events] == [
        ("DaemonSet/test-namespace-1/dd-agent-a769", "SuccessfulDelete"),
        ("Pod/default/hello-node-47289321-91tfd", "Started"),
        ("Pod/default/hello-node-47289321-a3x8n", "Pulled"),
    ]
    assert len(normalize_events(warnings)) == 19


@pytest.mark.parametrize("name", ["podlist-kubelet-k8s1.1-gke-dd-agent.json", "podlist-synthetic-popeye.json"])
def test_list_payloads_decode_from_bytes_like_the_live_path(name):
    from tests.upstream import upstream_path

    page = w.list_decoder(w.Pod).decode(upstream_path(f"kubernetes/{name}").read_bytes())
    assert len(page.items) == len(items(name, w.Pod))


def test_replicaset_templates_are_decoded_only_for_standalone_replicasets():
    from collectors.kubernetes.workloads import slim_replicaset

    payload = upstream_json("kubernetes/replicaset-item-k9s.json")
    owned = slim_replicaset(msgspec.json.decode(msgspec.json.encode(payload), type=w.ReplicaSetHead))
    alone = dict(payload, metadata={k: v for k, v in payload["metadata"].items() if k != "ownerReferences"})
    standalone = slim_replicaset(msgspec.json.decode(msgspec.json.encode(alone), type=w.ReplicaSetHead))
    assert owned.spec.template.spec.containers is None and owned.spec.replicas == 1
    assert [c.image for c in standalone.spec.template.spec.containers] == ["k8s.gcr.io/nginx-slim:0.8"]


def test_recorded_payloads_read_through_the_emulator_normalize_the_same():
    from sim.kubernetes import load_payload, start
    from tests.sim.kubernetes.harness import collector

    names = {"nodes": ("nodelist-synthetic-popeye.json", w.Node), "pods": ("podlist-synthetic-popeye.json", w.Pod),
             "deployments": ("deploymentlist-synthetic-popeye.json", w.Deployment),
             "statefulsets": ("statefulset-item-k9s.json", w.StatefulSet),
             "daemonsets": ("daemonset-item-k9s.json", w.DaemonSet)}
    direct = normalized(**{field: items(name, kind) for field, (name, kind) in names.items()})
    cluster = start(metrics="absent")
    try:
        for name, _ in names.values():
            load_payload(cluster.store, upstream_json(f"kubernetes/{name}"))
        with collector(cluster, token=None, watch=False) as source:
            served = source.collect(5)
    finally:
        cluster.stop()
    assert (served.nodes, served.workloads, served.instances) == (direct.nodes, direct.workloads, direct.instances)
