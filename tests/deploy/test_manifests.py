"""The deploy/ files say what docs/deployment.md promises: non-root, read-only root filesystem, no
capabilities, a read-only Docker API proxy, configs that Podium itself accepts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fleet.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def documents(path: Path) -> list[dict]:
    return [doc for doc in YAML(typ="safe").load_all(path.read_text()) if doc]


def kubernetes_objects() -> dict[str, dict]:
    return {doc["kind"]: doc for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
            if path.name != "kustomization.yaml" for doc in documents(path)}


def test_every_container_runs_non_root_read_only_without_capabilities():
    spec = kubernetes_objects()["Deployment"]["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]


def test_the_deployment_probes_the_contract_routes_and_mounts_only_data_and_tmp():
    [container] = kubernetes_objects()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {mount["mountPath"] for mount in container["volumeMounts"]} == {"/data", "/tmp"}


def test_the_service_and_the_service_monitor_select_the_pods():
    objects = kubernetes_objects()
    labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert objects["Service"]["spec"]["selector"].items() <= labels.items()
    [monitor] = documents(DEPLOY / "kubernetes" / "optional" / "servicemonitor.yaml")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= objects["Service"]["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_the_kustomization_lists_every_manifest():
    listed = set(documents(DEPLOY / "kubernetes" / "kustomization.yaml")[0]["resources"])
    assert listed == {p.name for p in (DEPLOY / "kubernetes").glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_builds_the_kustomization():
    built = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "kubernetes")], capture_output=True, text=True,
                           timeout=60)
    assert built.returncode == 0, built.stderr
    assert built.stdout.count("\nkind: ") + built.stdout.startswith("kind: ") >= 7


def test_the_in_cluster_config_needs_no_url_and_no_kubeconfig(tmp_path):
    text = kubernetes_objects()["ConfigMap"]["data"]["clusters.yaml"]
    [cluster] = parse_config(text, str(tmp_path / "clusters.yaml")).clusters
    assert (cluster.orchestrator, cluster.url, cluster.option("kubeconfig")) == ("kubernetes", None, None)
    assert cluster.endpoint == "in-cluster"


def test_the_swarm_stack_reads_docker_only_through_a_get_only_proxy():
    [stack] = documents(DEPLOY / "swarm" / "podium-stack.yml")
    proxy, podium = stack["services"]["docker-api"], stack["services"]["podium"]
    assert proxy["environment"]["POST"] == "0"
    assert proxy["volumes"] == ["/var/run/docker.sock:/var/run/docker.sock:ro"]
    enabled = {name for name, value in proxy["environment"].items() if value == "1"}
    assert enabled == {"PING", "VERSION", "NODES", "SERVICES", "TASKS", "CONTAINERS", "EVENTS"}
    assert not any("docker.sock" in str(volume) for volume in podium["volumes"])
    assert (podium["read_only"], podium["user"], podium["cap_drop"]) == (True, "10001:10001", ["ALL"])
    assert stack["networks"]["docker-api"]["internal"] is True


def test_the_swarm_config_points_at_the_proxy(tmp_path):
    [cluster] = parse_config((DEPLOY / "swarm" / "clusters.yaml").read_text(), str(tmp_path / "c.yaml")).clusters
    assert cluster.url == "tcp://docker-api:2375"


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_docker_accepts_the_stack_file():
    checked = subprocess.run(["docker", "stack", "config", "-c", str(DEPLOY / "swarm" / "podium-stack.yml")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_the_nomad_job_runs_read_only_as_the_non_root_user_and_checks_healthz():
    job = (DEPLOY / "nomad" / "podium.nomad.hcl").read_text()
    for setting in ('user   = "10001:10001"', "readonly_rootfs = true", 'cap_drop        = ["all"]',
                    'path     = "/healthz"', 'destination = "/data"', 'target = "/tmp"'):
        assert setting in job, setting


def test_the_role_in_docs_security_is_the_manifest():
    import re

    security = (ROOT / "docs" / "security.md").read_text()
    start = security.index("### Kubernetes: a read-only ClusterRole")
    block = re.search(r"```yaml\n(.*?)```", security[start:], re.DOTALL)
    assert block is not None
    documented = YAML(typ="safe").load(block.group(1))
    [manifest] = documents(DEPLOY / "kubernetes" / "clusterrole.yaml")
    assert documented["rules"] == manifest["rules"]
