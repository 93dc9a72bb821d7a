"""TLS: verification on by default, a custom CA, client certificates (Kubernetes via kubeconfig,
Nomad via tls files, Swarm over tcp+TLS to a dockerd started with --tlsverify), and
`verify_tls: false` working but warned about on the cluster's card."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from collectors import build_collector
from fleet.config import ClusterConfig, Secret, Settings, TlsFiles
from fleet.model import Cluster
from fleet.poller import Poller
from sim.nomad import build, start
from tests.engines import Dockerd, free_port
from tests.trust.conftest import kind_params
from tests.trust.pki import Authority
from tests.trust.targets import KUBE_TOKEN, NOMAD_TOKEN, running

SETTINGS = Settings(poll_interval_s=30.0, timeout_s=5.0)


def collect_once(config: ClusterConfig) -> Cluster:
    poller = Poller([build_collector(config)], SETTINGS)
    try:
        return poller.poll_once(force=True).clusters[0]
    finally:
        poller.stop()


@pytest.mark.parametrize("kind", kind_params())
def test_verification_is_on_by_default_so_an_unknown_ca_is_refused(kind, authority, engine):
    with running(kind, authority.issue("server"), None, engine) as target:
        cluster = collect_once(target.config)
    assert target.config.verify_tls is True
    assert (cluster.status, cluster.verify_tls) == ("unreachable", True)
    assert "certificate verify failed" in cluster.error and "ca_file" in cluster.error


@pytest.mark.parametrize("kind", kind_params())
def test_a_custom_ca_file_is_trusted(kind, authority, engine):
    with running(kind, authority.issue("server"), authority.ca_file, engine) as target:
        cluster = collect_once(target.config)
    assert cluster.status == "ok", cluster.error


@pytest.mark.parametrize("kind", kind_params())
def test_verify_tls_false_collects_and_is_marked_in_the_snapshot(kind, authority, engine):
    with running(kind, authority.issue("server"), None, engine) as target:
        cluster = collect_once(replace(target.config, verify_tls=False))
    assert (cluster.status, cluster.verify_tls) == ("ok", False), cluster.error


def card_script(verify_tls: bool) -> None:
    from fleet.model import Cluster
    from views.overview import render_cluster_card

    render_cluster_card(Cluster(name="edge", orchestrator="swarm", endpoint="tcp://edge:2376", status="ok",
                                verify_tls=verify_tls))


def test_verify_tls_false_shows_a_warning_on_the_cluster_card():
    app = AppTest.from_function(card_script, args=(False,)).run()
    assert any("TLS verification is off" in w.value for w in app.warning)


def test_a_verified_cluster_card_has_no_tls_warning():
    app = AppTest.from_function(card_script, args=(True,)).run()
    assert not any("TLS verification" in w.value for w in app.warning)


# -- client certificates ----------------------------------------------------------------------------

def kubeconfig(path: Path, url: str, ca_file: str, cert_file: str | None, key_file: str | None) -> Path:
    # the emulator authenticates by token only: the certificate gets through the TLS handshake
    user = {"token": KUBE_TOKEN, **({"client-certificate": cert_file, "client-key": key_file} if cert_file else {})}
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "tls",
        "clusters": [{"name": "tls", "cluster": {"server": url, "certificate-authority": ca_file}}],
        "users": [{"name": "reader", "user": user}],
        "contexts": [{"name": "tls", "context": {"cluster": "tls", "user": "reader"}}]}))
    return path


@pytest.fixture
def kube_wanting_client_certs(authority: Authority):
    with running("kubernetes", authority.issue("server")) as target:
        target.front.present(*vars(authority.issue("server")).values(), client_ca=authority.ca_file)
        yield target


def test_kubernetes_client_certificate_from_a_kubeconfig_is_presented(kube_wanting_client_certs, authority,
                                                                      tmp_path):
    client = authority.issue("podium-reader", client=True)
    path = kubeconfig(tmp_path / "kubeconfig", kube_wanting_client_certs.config.url, authority.ca_file,
                      client.cert_file, client.key_file)
    cluster = collect_once(ClusterConfig(name="kube", orchestrator="kubernetes", options={"kubeconfig": str(path)}))
    assert cluster.status == "ok", cluster.error


def test_kubernetes_server_wanting_a_client_certificate_refuses_a_collector_without_one(
        kube_wanting_client_certs, authority, tmp_path):
    path = kubeconfig(tmp_path / "kubeconfig", kube_wanting_client_certs.config.url, authority.ca_file, None, None)
    cluster = collect_once(ClusterConfig(name="kube", orchestrator="kubernetes", options={"kubeconfig": str(path)}))
    assert cluster.status == "unreachable" and "tls.cert_file" in cluster.error


@pytest.fixture
def nomad_wanting_client_certs(authority: Authority) -> Iterator[str]:
    server = authority.issue("server")
    with start(build(3, regions=1, datacenters=1, nodes=3, jobs=2), tokens={NOMAD_TOKEN: "read-only"},
               certfile=server.cert_file, keyfile=server.key_file, client_ca=authority.ca_file) as cluster:
        yield cluster.url


def test_nomad_client_certificate_from_tls_files_is_presented(nomad_wanting_client_certs, authority):
    client = authority.issue("podium-reader", client=True)
    config = ClusterConfig(name="batch", orchestrator="nomad", url=nomad_wanting_client_certs, token=Secret(NOMAD_TOKEN), tls=TlsFiles(authority.ca_file, client.cert_file, client.key_file), options={"regions": "all"})
    cluster = collect_once(config)
    assert cluster.status == "ok", cluster.error


def test_nomad_job_specs_read_by_the_worker_present_the_client_certificate_too(nomad_wanting_client_certs,
                                                                              authority):
    from collectors.nomad.fetch import NomadCollector

    client = authority.issue("podium-reader", client=True)
    config = ClusterConfig(name="batch", orchestrator="nomad", url=nomad_wanting_client_certs, token=Secret(NOMAD_TOKEN), tls=TlsFiles(authority.ca_file, client.cert_file, client.key_file), options={"regions": "all"})
    collector = NomadCollector(config, spec_offload_min=1)
    try:
        collector.worker.start(wait=True)
        data = collector.collect(10.0)
    finally:
        collector.close()
    assert collector.specs_from_worker == len(data.workloads) > 0  # each read over verified, client-cert TLS


def test_nomad_server_wanting_a_client_certificate_refuses_a_collector_without_one(nomad_wanting_client_certs,
                                                                                   authority):
    config = ClusterConfig(name="batch", orchestrator="nomad", url=nomad_wanting_client_certs, token=Secret(NOMAD_TOKEN), ca_file=authority.ca_file, options={"regions": "all"})
    cluster = collect_once(config)
    assert cluster.status == "unreachable" and "tls.cert_file" in cluster.error, cluster.error


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory: pytest.TempPathFactory):
    """A second real dockerd listening on tcp with --tlsverify: only clients its CA signed get in."""
    authority = Authority("dockerd", tmp_path_factory.mktemp("pki-dockerd"))
    server = authority.issue("dockerd")
    port = free_port()
    engine = Dockerd("tls", extra_args=["-H", f"tcp://127.0.0.1:{port}", "--tlsverify",
                                        "--tlscacert", authority.ca_file, "--tlscert", server.cert_file,
                                        "--tlskey", server.key_file]).start().init_swarm()
    yield authority, f"tcp://127.0.0.1:{port}"
    engine.remove()


@pytest.mark.swarm
def test_swarm_over_tcp_with_a_client_certificate_is_collected(tls_engine):
    authority, url = tls_engine
    client = authority.issue("podium", client=True)
    cluster = collect_once(ClusterConfig(name="edge", orchestrator="swarm", url=url,
                                         tls=TlsFiles(authority.ca_file, client.cert_file, client.key_file)))
    assert (cluster.status, cluster.summary.nodes_total) == ("ok", 1), cluster.error


@pytest.mark.swarm
def test_swarm_engine_with_tlsverify_refuses_a_collector_without_a_client_certificate(tls_engine):
    authority, url = tls_engine
    cluster = collect_once(ClusterConfig(name="edge", orchestrator="swarm", url=url,
                                         tls=TlsFiles(ca_file=authority.ca_file)))
    assert cluster.status == "unreachable" and "tls.cert_file" in cluster.error, cluster.error


@pytest.mark.swarm
def test_swarm_engine_certificate_from_another_ca_is_refused(tls_engine, impostor):
    _, url = tls_engine
    client = impostor.issue("podium", client=True)
    cluster = collect_once(ClusterConfig(name="edge", orchestrator="swarm", url=url,
                                         tls=TlsFiles(impostor.ca_file, client.cert_file, client.key_file)))
    assert cluster.status == "unreachable" and "certificate verify failed" in cluster.error, cluster.error
