"""Ways to reach a cluster: url + token over HTTPS, kubeconfig contexts (token, exec plugin), in-cluster."""
from __future__ import annotations

import json
import sys

import pytest

from collectors.kubernetes import client as kubernetes_client
from collectors.kubernetes.fetch import KubernetesCollector
from fleet.config import ClusterConfig, Secret
from fleet.source import Unreachable, UpstreamError
from sim.kubernetes import Knobs, tls
from tests.sim.kubernetes.harness import TOKEN, running

SMALL = Knobs(seed=21, nodes=3, pods_per_node=6)
needs_openssl = pytest.mark.skipif(not tls.available(), reason="openssl is not installed")


def collect(config: ClusterConfig):
    source = KubernetesCollector(config, watch=False)
    try:
        return source.collect(5)
    finally:
        source.close()


@pytest.fixture(scope="module")
def https_cluster():
    if not tls.available():
        pytest.skip("openssl is not installed")
    with running(SMALL, token=TOKEN, tls=True) as cluster:
        yield cluster


@needs_openssl
def test_https_with_the_cluster_ca(https_cluster):
    config = ClusterConfig(name="k", orchestrator="kubernetes", url=https_cluster.url,
                           ca_file=https_cluster.certificates.ca_file, token=Secret(TOKEN))
    assert len(collect(config).nodes) == 3


@needs_openssl
def test_https_with_an_unknown_ca_is_an_unreachable_tls_failure(https_cluster, tmp_path):
    other = tls.make_certificates(tmp_path)
    config = ClusterConfig(name="k", orchestrator="kubernetes", url=https_cluster.url, ca_file=other.ca_file,
                           token=Secret(TOKEN))
    with pytest.raises(Unreachable) as raised:
        collect(config)
    assert "TLS" in raised.value.message and https_cluster.url in raised.value.message


@needs_openssl
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_without_verification_when_chosen(https_cluster):
    config = ClusterConfig(name="k", orchestrator="kubernetes", url=https_cluster.url, verify_tls=False,
                           token=Secret(TOKEN))
    assert len(collect(config).nodes) == 3


@needs_openssl
def test_kubeconfig_context_with_token_and_ca(https_cluster, tmp_path):
    path = https_cluster.kubeconfig(tmp_path / "config", context="prod-eu")
    config = ClusterConfig(name="k", orchestrator="kubernetes", options={"kubeconfig": str(path), "context": "prod-eu"})
    data = collect(config)
    assert (len(data.nodes), data.version) == (3, "v1.31.4")


@needs_openssl
def test_a_kubeconfig_token_is_known_to_the_last_guard_scrub(https_cluster, tmp_path):
    path = https_cluster.kubeconfig(tmp_path / "config", context="prod-eu")
    source = KubernetesCollector(ClusterConfig(name="k", orchestrator="kubernetes", options={"kubeconfig": str(path), "context": "prod-eu"}), watch=False)
    try:
        source.collect(5)
        assert TOKEN in source.secret_values()
    finally:
        source.close()


def test_kubeconfig_exec_plugin_supplies_the_token(tmp_path):
    with running(SMALL, token=TOKEN) as cluster:
        plugin = tmp_path / "token-plugin.py"
        plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                          "'kind': 'ExecCredential', 'status': {'token': %r}}))\n" % TOKEN)
        path = cluster.kubeconfig(tmp_path / "config", context="exec", token="placeholder")
        doc = json.loads(path.read_text())
        doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                                            "args": [str(plugin)], "interactiveMode": "Never"}}
        path.write_text(json.dumps(doc))
        config = ClusterConfig(name="k", orchestrator="kubernetes", options={"kubeconfig": str(path), "context": "exec"})
        assert len(collect(config).nodes) == 3


def test_kubeconfig_with_an_unknown_context_is_a_clear_error(tmp_path):
    with running(SMALL) as cluster:
        path = cluster.kubeconfig(tmp_path / "config", context="real")
    config = ClusterConfig(name="k", orchestrator="kubernetes", options={"kubeconfig": str(path), "context": "nope"})
    with pytest.raises(UpstreamError) as raised:
        collect(config)
    assert str(path) in raised.value.message and "nope" in raised.value.message


@needs_openssl
def test_in_cluster_service_account(https_cluster, tmp_path, monkeypatch):
    from kubernetes.config import incluster_config

    token = tmp_path / "token"
    token.write_text(TOKEN)
    host, port = https_cluster.url.removeprefix("https://").split(":")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", https_cluster.certificates.ca_file)
    monkeypatch.setattr(kubernetes_client, "SERVICE_ACCOUNT_TOKEN", str(token))
    config = ClusterConfig(name="k", orchestrator="kubernetes")
    assert config.endpoint == "in-cluster"
    assert len(collect(config).nodes) == 3


@pytest.fixture(scope="module")
def mutual_tls_cluster():
    if not tls.available():
        pytest.skip("openssl is not installed")
    with running(SMALL, client_certificates=True) as cluster:
        yield cluster


@needs_openssl
def test_kubeconfig_with_a_client_certificate(mutual_tls_cluster, tmp_path):
    path = mutual_tls_cluster.kubeconfig(tmp_path / "config", context="certs")
    assert "client-certificate" in path.read_text()
    config = ClusterConfig(name="k", orchestrator="kubernetes", options={"kubeconfig": str(path), "context": "certs"})
    assert len(collect(config).nodes) == 3


@needs_openssl
def test_url_with_client_certificate_files(mutual_tls_cluster):
    from fleet.config import TlsFiles

    certs = mutual_tls_cluster.certificates
    config = ClusterConfig(name="k", orchestrator="kubernetes", url=mutual_tls_cluster.url,
                           tls=TlsFiles(certs.ca_file, certs.client_cert_file, certs.client_key_file))
    assert len(collect(config).nodes) == 3


@needs_openssl
def test_without_the_client_certificate_the_handshake_fails(mutual_tls_cluster):
    config = ClusterConfig(name="k", orchestrator="kubernetes", url=mutual_tls_cluster.url,
                           ca_file=mutual_tls_cluster.certificates.ca_file)
    with pytest.raises(Unreachable):
        collect(config)
