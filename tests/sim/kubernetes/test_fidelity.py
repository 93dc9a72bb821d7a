"""Fidelity proof: the official client and kubectl accept the emulator; recorded payloads serve verbatim."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import requests

from sim.kubernetes import Knobs, load_payload, start, tls
from sim.kubernetes.store import Store
from tests.sim.kubernetes.harness import TOKEN, running
from tests.upstream import upstream_json

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    # kubectl sends bearer tokens only over TLS: serve HTTPS with a token where openssl can make a CA
    secure = tls.available()
    with running(Knobs(seed=51, nodes=10, pods_per_node=12, problem_share=0.4), token=TOKEN if secure else None,
                 tls=secure) as cluster:
        path = cluster.kubeconfig(tmp_path_factory.mktemp("kube") / "config")
        api = config.new_client_from_config(str(path))
        yield cluster, api
        api.close()


LISTS = [
    ("CoreV1Api", "list_node", {}), ("CoreV1Api", "list_pod_for_all_namespaces", {}),
    ("CoreV1Api", "list_namespaced_pod", {"namespace": "default"}), ("CoreV1Api", "list_namespace", {}),
    ("CoreV1Api", "list_event_for_all_namespaces", {}), ("CoreV1Api", "list_namespaced_event", {"namespace": "batch"}),
    ("AppsV1Api", "list_deployment_for_all_namespaces", {}), ("AppsV1Api", "list_replica_set_for_all_namespaces", {}),
    ("AppsV1Api", "list_stateful_set_for_all_namespaces", {}), ("AppsV1Api", "list_daemon_set_for_all_namespaces", {}),
    ("AppsV1Api", "list_namespaced_deployment", {"namespace": "shop"}),
    ("BatchV1Api", "list_job_for_all_namespaces", {}), ("BatchV1Api", "list_cron_job_for_all_namespaces", {}),
    ("CoreV1Api", "list_service_for_all_namespaces", {}), ("CoreV1Api", "list_endpoints_for_all_namespaces", {}),
    ("DiscoveryV1Api", "list_endpoint_slice_for_all_namespaces", {}),
    ("AutoscalingV2Api", "list_horizontal_pod_autoscaler_for_all_namespaces", {}),
    ("AutoscalingV1Api", "list_horizontal_pod_autoscaler_for_all_namespaces", {}),
]


@pytest.mark.parametrize("api_name, method, kwargs", LISTS, ids=[m for _, m, _ in LISTS])
def test_official_client_deserializes_every_list_into_typed_models(official, api_name, method, kwargs):
    cluster, api = official
    result = getattr(getattr(client, api_name)(api), method)(**kwargs)
    assert result.items, method
    assert result.metadata.resource_version


def test_official_client_pages_with_limit_and_continue(official):
    cluster, api = official
    core, seen, token = client.CoreV1Api(api), [], None
    while True:
        page = core.list_pod_for_all_namespaces(limit=25, _continue=token)
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert len(seen) == len(cluster.scenario.expected.pods)


def test_official_client_reads_single_objects(official):
    cluster, api = official
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    node = next(iter(cluster.scenario.expected.nodes))
    assert core.read_node(node).status.node_info.kubelet_version == "v1.31.4"
    assert core.read_namespaced_pod("debug-shell", "default").status.phase == "Running"
    assert apps.read_namespaced_daemon_set("kube-proxy", "kube-system").status.desired_number_scheduled == 10
    assert batch.read_namespaced_cron_job("report-generator", "batch").spec.suspend is True
    assert client.VersionApi(api).get_code().git_version == "v1.31.4"


def test_official_client_reads_metrics_and_discovery(official):
    cluster, api = official
    custom = client.CustomObjectsApi(api)
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert nodes["items"] and nodes["items"][0]["usage"]["cpu"].endswith("n")
    assert client.ApisApi(api).get_api_versions().groups
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]


def test_official_watch_receives_typed_events(official):
    cluster, api = official
    stream = watch.Watch().stream(client.CoreV1Api(api).list_namespace, timeout_seconds=1)
    events = list(stream)
    assert {e["type"] for e in events} == {"ADDED"}
    assert {e["object"].metadata.name for e in events} >= {"default", "kube-system"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_gets_nodes_pods_and_deployments(official, tmp_path):
    cluster, _ = official
    path = cluster.kubeconfig(tmp_path / "config")
    result = subprocess.run(["kubectl", "--kubeconfig", str(path), "get", "nodes,pods,deploy", "-A", "-o", "name"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert sum(line.startswith("node/") for line in lines) == 10
    assert sum(line.startswith("pod/") for line in lines) == len(cluster.scenario.expected.pods)
    assert sum(line.startswith("deployment.apps/") for line in lines) == \
        cluster.scenario.expected.workloads_by_kind()["Deployment"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_prints_the_servers_table_columns(official, tmp_path):
    cluster, _ = official
    path = cluster.kubeconfig(tmp_path / "config")
    result = subprocess.run(["kubectl", "--kubeconfig", str(path), "get", "nodes,pods,deploy", "-A"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert "node/ip-10-0-0-10.eu-west-1.compute.internal" in result.stdout
    for word in ("NotReady", "CrashLoopBackOff", "ImagePullBackOff", "UP-TO-DATE", "control-plane"):
        assert word in result.stdout, word


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_gets_services_endpointslices_and_hpas(official, tmp_path):
    cluster, _ = official
    path = cluster.kubeconfig(tmp_path / "config")
    kubectl = ["kubectl", "--kubeconfig", str(path), "get", "svc,endpointslices,hpa", "-A"]
    named = subprocess.run(kubectl + ["-o", "name"], capture_output=True, text=True, timeout=120)
    assert named.returncode == 0, named.stderr
    lines = named.stdout.split()
    expected = cluster.scenario.expected
    assert sum(line.startswith("service/") for line in lines) == len(expected.services)
    assert sum(line.startswith("horizontalpodautoscaler.autoscaling/") for line in lines) == len(expected.autoscalers)
    assert any(line.startswith("endpointslice.discovery.k8s.io/") for line in lines)
    table = subprocess.run(kubectl, capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    for word in ("CLUSTER-IP", "LoadBalancer", "ExternalName", "ADDRESSTYPE", "IPv6", "MAXPODS", "Deployment/"):
        assert word in table.stdout, word


VERBATIM = ["node-item-minikube-k9s.json", "pod-item-init-containers-k9s.json", "pod-item-rs-owned-k9s.json",
            "pod-item-sidecar-terminated-k9s.json", "deployment-item-k9s.json", "statefulset-item-k9s.json",
            "daemonset-item-k9s.json", "replicaset-item-k9s.json", "event-item-k9s.json",
            "podlist-kubelet-k8s1.2-dd-agent.json", "eventlist-gke-2016-dd-agent.json",
            "metrics-nodemetrics-item-k8s-docs.json", "metrics-podmetrics-item-k8s-docs.json",
            "podlist-pending-containercreating-datadog-agent.json", "podmetricslist-synthetic-popeye.json",
            "nodemetricslist-synthetic-popeye.json", "podlist-kubelet-k8s1.1-gke-dd-agent.json",
            "servicelist-minikube-k8s1.35-nri-kubernetes.json", "service-item-headless-kubectl-neat.json",
            "list-dualstack-services-endpointslices-ipv6-kind-k8s1.26-cilium.json",
            "endpointslist-notready-minikube-k8s1.26-nri-kubernetes.json"]


def without_resource_version(obj: dict) -> dict:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


@pytest.mark.parametrize("name", VERBATIM)
def test_recorded_payloads_are_served_verbatim(name):
    payload = upstream_json(f"kubernetes/{name}")
    original = [json.loads(json.dumps(item)) for item in payload.get("items", [payload])]
    store = Store()
    load_payload(store, payload)
    cluster = start()
    cluster.api.store = store
    try:
        served = []
        for item in original:
            group_version = item.get("apiVersion") or payload.get("apiVersion", "v1")
            base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            plural = {"Node": "nodes", "Pod": "pods", "Deployment": "deployments", "StatefulSet": "statefulsets",
                      "DaemonSet": "daemonsets", "ReplicaSet": "replicasets", "Event": "events",
                      "NodeMetrics": "nodes", "PodMetrics": "pods", "Service": "services", "Endpoints": "endpoints",
                      "EndpointSlice": "endpointslices"}[item.get("kind") or payload["kind"][:-4]]
            namespace = (item.get("metadata") or {}).get("namespace")
            where = f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"
            served.append(requests.get(f"{cluster.url}{where}/{item['metadata']['name']}", timeout=5).json())
    finally:
        cluster.stop()
    assert [without_resource_version(s) for s in served] == [without_resource_version(o) for o in original]
