"""Podium never writes to a cluster: collectors only read, the audit catches a write, and the
permissions documented in docs/security.md are read-only and enough for what the collectors read."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import yaml

from collectors import build_collector
from collectors.http import HttpJsonClient
from collectors.kubernetes.fetch import KubernetesCollector
from sim.httpserver import AUDIT_ENV, READ_METHODS, EmulatorServer, json_response
from tests.trust.conftest import kind_params
from tests.trust.targets import running

ROOT = Path(__file__).resolve().parents[2]
SECURITY = (ROOT / "docs" / "security.md").read_text()


def fenced(language: str, after: str) -> str:
    """The first ```language block after the heading or phrase `after` in docs/security.md."""
    start = SECURITY.index(after)
    found = re.search(rf"```{language}\n(.*?)```", SECURITY[start:], re.DOTALL)
    assert found, f"no {language} block after {after!r}"
    return found.group(1)


@pytest.mark.parametrize("kind", kind_params())
def test_a_collector_sends_only_reads(kind, engine):
    with running(kind, engine=engine) as target:
        collector = build_collector(target.config)
        try:
            collector.collect(5.0)
            collector.collect(5.0)
        finally:
            collector.close()
        methods = target.front.methods_seen()
    assert methods and methods <= READ_METHODS


def test_the_shared_http_client_can_only_get():
    assert not {"post", "put", "patch", "delete"} & {name.lower() for name in vars(HttpJsonClient)}


def test_a_write_from_a_collector_is_caught_by_the_audit(tmp_path, monkeypatch):
    audit = tmp_path / "writes.log"
    monkeypatch.setenv(AUDIT_ENV, str(audit))
    with EmulatorServer(lambda request: json_response({})) as server:
        requests.post(server.url + "/v1/job/web/stop", headers={"User-Agent": "podium/1"}, timeout=10)
    assert audit.read_text().startswith("POST /v1/job/web/stop")


def test_a_test_poking_an_emulator_by_hand_is_not_counted_as_podium(tmp_path, monkeypatch):
    audit = tmp_path / "writes.log"
    monkeypatch.setenv(AUDIT_ENV, str(audit))
    with EmulatorServer(lambda request: json_response({})) as server:
        requests.post(server.url + "/v2/apps", timeout=10)
    assert not audit.exists()


def kubernetes_resources_read() -> set[tuple[str, str]]:
    """(API group, resource) of every list/watch the Kubernetes collector sends in a round."""
    with running("kubernetes") as target:
        collector = KubernetesCollector(target.config)
        try:
            collector.collect(5.0)
        finally:
            collector.close()
        paths = {path for _, path, _ in target.front.requests}
    resources = set()
    for path in paths:
        parts = path.strip("/").split("/")
        if parts[0] == "api":
            resources.add(("", parts[2]))
        elif parts[0] == "apis":
            resources.add((parts[1], parts[3]))
    return resources


def documented_cluster_role() -> dict:
    return yaml.safe_load(fenced("yaml", "### Kubernetes: a read-only ClusterRole"))


def test_the_documented_cluster_role_grants_only_reads():
    role = documented_cluster_role()
    assert role["kind"] == "ClusterRole"
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} <= {"get", "list", "watch"}


def test_the_documented_cluster_role_grants_everything_the_collector_reads():
    granted = {(group, resource) for rule in documented_cluster_role()["rules"] if "list" in rule["verbs"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    assert kubernetes_resources_read() <= granted


def test_the_documented_nomad_policy_is_read_only_for_namespaces_nodes_and_agent():
    policy = fenced("hcl", "### Nomad: a read-only ACL policy")
    rules = re.findall(r'^(\w+)(?: "([^"]*)")? \{\s*policy = "(\w+)"\s*\}', policy, re.MULTILINE)
    assert {(scope, value) for scope, _, value in rules} == {("namespace", "read"), ("node", "read"),
                                                              ("agent", "read")}


def test_the_docs_say_why_the_docker_socket_is_root_and_show_a_get_only_proxy():
    section = SECURITY[SECURITY.index("### Docker Swarm"):SECURITY.index("### Marathon")]
    assert "root" in section and "POST: 0" in fenced("yaml", "### Docker Swarm")
