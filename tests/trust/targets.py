"""One small running cluster per orchestrator, behind a server whose fault knobs the trust tests turn.

Kubernetes, Nomad and Marathon are their emulators; Swarm is the real engine (the session's
`swarm_engine`) behind a read-only forwarding front, so faults reach the Docker client as they
would from a broken engine or a misbehaving proxy.
"""
from __future__ import annotations

import http.client
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

from fleet.config import ClusterConfig, Secret, TlsFiles
from sim.httpserver import READ_METHODS, EmulatorServer, Request, Response
from tests.trust.pki import KeyPair

KINDS = ("kubernetes", "nomad", "marathon", "swarm")
KUBE_TOKEN = "trust-kube-reader-token"
NOMAD_TOKEN = "5e1f0c1e-7a55-4b52-9b11-2a7a6c3f0d11"


@dataclass
class Target:
    """A healthy cluster: its config, the server faults are injected on, and its optional API."""

    kind: str
    config: ClusterConfig
    front: EmulatorServer
    optional_api: Callable[[str], bool]
    mesos: EmulatorServer | None = None  # Marathon's second API: the Mesos master (nodes)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout_s: float):
        super().__init__("docker", timeout=timeout_s)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class EngineFront:
    """Forwards reads to a Docker engine's unix socket; anything else is refused (405)."""

    def __init__(self, socket_path: str):
        self.socket_path = socket_path

    def __call__(self, request: Request) -> Response:
        if request.method not in READ_METHODS:
            return Response(405, {"message": "read-only front"}, {"Content-Type": "application/json"})
        target = request.path + (f"?{urlencode(request.query, doseq=True)}" if request.query else "")
        connection = _UnixConnection(self.socket_path, 30.0)
        try:
            connection.request(request.method, target)
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        return Response(answer.status, body, {"Content-Type": answer.getheader("Content-Type") or "application/json"})


def tls_options(server: KeyPair | None) -> dict[str, str | None]:
    return {"certfile": server.cert_file if server else None, "keyfile": server.key_file if server else None}


@lru_cache(maxsize=None)
def _scenario(kind: str) -> Any:
    if kind == "kubernetes":
        from sim.kubernetes import Knobs, generate
        return generate(Knobs(seed=8, nodes=3, pods_per_node=4, namespaces=2))
    if kind == "nomad":
        from sim.nomad import build
        return build(8, regions=1, datacenters=1, nodes=4, jobs=4)
    from sim.marathon import build
    return build(8, agents=3, apps=4, pods=1)


@contextmanager
def kubernetes(server: KeyPair | None, ca_file: str | None, **_: Any) -> Iterator[Target]:
    from sim.kubernetes import start

    cluster = start(_scenario("kubernetes"), token=KUBE_TOKEN, tls=server is not None)
    if server is not None:
        cluster.server.present(server.cert_file, server.key_file)
    config = ClusterConfig(name="kube", orchestrator="kubernetes", url=cluster.url, token=Secret(KUBE_TOKEN),
                           ca_file=ca_file)
    try:
        yield Target("kubernetes", config, cluster.server, lambda path: path.startswith("/apis/metrics.k8s.io"))
    finally:
        cluster.stop()


@contextmanager
def nomad(server: KeyPair | None, ca_file: str | None, **_: Any) -> Iterator[Target]:
    from sim.nomad import start

    cluster = start(_scenario("nomad"), tokens={NOMAD_TOKEN: "read-only"}, **tls_options(server))
    config = ClusterConfig(name="batch", orchestrator="nomad", url=cluster.url, token=Secret(NOMAD_TOKEN), ca_file=ca_file, options={"regions": "all"})
    try:
        yield Target("nomad", config, cluster.servers[0], lambda path: path == "/v1/client/stats")
    finally:
        cluster.stop()


@contextmanager
def marathon(server: KeyPair | None, ca_file: str | None, **_: Any) -> Iterator[Target]:
    from sim.marathon import serve

    cluster = serve(_scenario("marathon"), **tls_options(server))
    config = ClusterConfig(name="legacy", orchestrator="marathon", url=cluster.marathon.url, ca_file=ca_file, options={"mesos_url": cluster.mesos.url})
    try:
        yield Target("marathon", config, cluster.marathon, lambda path: path.startswith("/v2/pods"), cluster.mesos)
    finally:
        cluster.stop()


@contextmanager
def swarm(server: KeyPair | None, ca_file: str | None, *, engine: Any = None, **_: Any) -> Iterator[Target]:
    front = EmulatorServer(EngineFront(str(engine.socket)), **tls_options(server)).start()
    scheme = "https" if server else "tcp"  # https: TLS with verification, as with any https URL
    config = ClusterConfig(name="swarm", orchestrator="swarm", url=f"{scheme}://127.0.0.1:{front.port}",
                           tls=TlsFiles(ca_file=ca_file) if server else TlsFiles())
    try:
        yield Target("swarm", config, front, lambda path: path.endswith("/containers/json"))
    finally:
        front.stop()


STARTERS = {"kubernetes": kubernetes, "nomad": nomad, "marathon": marathon, "swarm": swarm}


@contextmanager
def running(kind: str, server: KeyPair | None = None, ca_file: str | None = None,
            engine: Any = None) -> Iterator[Target]:
    with STARTERS[kind](server, ca_file, engine=engine) as target:
        yield target
