"""Docker Swarm: nodes, services and their current tasks, through the Docker Engine API.

Talks to one manager (unix socket, or tcp with client TLS) with the docker SDK's low-level client.
Read-only: only list/inspect calls. Engine API reference: docs.docker.com/engine/api (Node,
Service with `status=true`, Task). The SDK's JSON answers become typed wire structs here, at the
fetch boundary; `normalize` is pure.
"""
from __future__ import annotations

import logging
from typing import Any

import docker
import requests

from collectors.base import Collector
from collectors.swarm import wire
from collectors.swarm.normalize import TASK_ID_LABEL, SwarmRaw, local_task_health, normalize
from collectors.toolkit import convert, retry_after_s, short
from collectors.transport import transport_problem
from fleet.source import ClusterData, MalformedPayload, Unauthorized, Unreachable, UpstreamError

log = logging.getLogger(__name__)


class SwarmCollector(Collector[SwarmRaw]):
    orchestrator = "swarm"

    def __init__(self, config):
        super().__init__(config)
        self._client: docker.APIClient | None = None

    def _connect(self, timeout_s: float) -> docker.APIClient:
        if self._client is None:
            tls: docker.tls.TLSConfig | bool = False
            files = self.config.tls
            if files.cert_file or files.ca_file or self.config.url.startswith("https://"):
                tls = docker.tls.TLSConfig(
                    client_cert=(files.cert_file, files.key_file) if files.cert_file else None,
                    ca_cert=files.ca_file or self.config.ca_file,
                    verify=(files.ca_file or self.config.ca_file or True) if self.config.verify_tls else False,
                )
            self._client = _EngineClient(base_url=self.config.url, version="auto", timeout=timeout_s, tls=tls)
        self._client.timeout = timeout_s
        return self._client

    def fetch(self, timeout_s: float) -> SwarmRaw:
        try:
            client = self._connect(timeout_s)
            version = client.version()
            nodes = client.nodes()
            services = client.services(status=True)
            tasks = client.tasks()
            containers = self._local_containers(client)
        except Exception as exc:
            self.close()
            raise self._translate(exc) from None
        return read_answers(self.endpoint, version, nodes, services, tasks, containers)

    def _local_containers(self, client: docker.APIClient) -> Any:
        """Containers of tasks on this manager, for their health checks: optional (a proxy in front
        of the engine may not pass /containers/json), so a refusal only leaves health unknown."""
        try:
            return client.containers(filters={"label": TASK_ID_LABEL})
        except docker.errors.APIError as exc:
            log.info("swarm cluster %s: container health not read: %s", self.name, short(exc))
            return []

    def _translate(self, exc: Exception) -> Exception:
        where = self.endpoint
        if isinstance(exc, docker.errors.APIError) and exc.response is not None:
            code = exc.response.status_code
            text = exc.explanation or str(exc)
            if code in (401, 403):
                return Unauthorized(f"{where}: access denied ({code}): {text}; check the client certificate "
                                    "(tls.cert_file, tls.key_file) or the credentials of a proxy in front of "
                                    "the engine")
            if code == 503 and "not a swarm manager" in str(text):
                return UpstreamError(f"{where} is not a swarm manager: point url at a manager node ({text})")
            return UpstreamError(f"{where}: HTTP {code}: {text}",
                                 retry_after_s=retry_after_s(exc.response.headers.get("Retry-After")))
        if isinstance(exc, requests.exceptions.JSONDecodeError):  # before OSError: it is both
            return MalformedPayload(f"{where} answered with invalid JSON: {short(exc)}")
        if isinstance(exc, requests.exceptions.SSLError) or "SSL" in type(exc).__name__:
            return Unreachable(f"TLS failure talking to {where}: {transport_problem(exc)}")
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            docker.errors.DockerException, OSError)):
            return Unreachable(f"cannot reach the Docker engine at {where}: {connection_problem(exc)}")
        if isinstance(exc, ValueError):
            return MalformedPayload(f"{where} answered with invalid JSON: {short(exc)}")
        return UpstreamError(f"{where}: {type(exc).__name__}: {short(exc)}")

    def normalize(self, raw: SwarmRaw) -> ClusterData:
        return normalize(raw)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class _EngineClient(docker.APIClient):
    """The configured CA file must win: requests otherwise lets REQUESTS_CA_BUNDLE override a
    session's `verify`, and the engine's certificate fails against the system bundle."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def connection_problem(exc: BaseException) -> str:
    text = str(exc)
    for needle, plain in (("FileNotFoundError", "no such socket"), ("Connection refused", "connection refused"),
                          ("ConnectionRefusedError", "connection refused"), ("PermissionError", "permission denied"),
                          ("timed out", "timed out"), ("Read timed out", "timed out")):
        if needle in text:
            return plain
    return transport_problem(exc)


def read_answers(endpoint: str, version: Any, nodes: Any, services: Any, tasks: Any,
                 containers: Any = ()) -> SwarmRaw:
    """The SDK's decoded answers as wire structs; a wrong shape is a MalformedPayload naming the call."""
    def what(call: str) -> str:
        return f"GET {call} on {endpoint}"
    return SwarmRaw(
        version=convert(version, wire.EngineVersion, what("/version")),
        nodes=convert(nodes, list[wire.Node], what("/nodes")),
        services=convert(services, list[wire.Service], what("/services")),
        tasks=convert(tasks, list[wire.Task], what("/tasks")),
        local_health=local_task_health(convert(containers, list[wire.ContainerSummary],
                                                    what("/containers/json"))),
    )
