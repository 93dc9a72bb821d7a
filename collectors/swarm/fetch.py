"""Docker Swarm: nodes, services and their current tasks, through the Docker Engine API.

Talks to one manager (unix socket, or tcp with client TLS) through the docker SDK's session, which
holds the unix/tcp/TLS adapters. Read-only: only list/inspect calls. Engine API reference:
docs.docker.com/engine/api (Node, Service with `status=true`, Task). Each request is bounded in
time (the cluster's timeout) and size (max_answer_mib) and its body is decoded straight into typed
wire structs here, at the fetch boundary; `normalize` is pure.
"""
from __future__ import annotations

import logging
from typing import Any, TypeVar

import docker
import msgspec
import requests
import urllib3

from collectors.base import Collector
from collectors.deadline import MIB, bounded, read_capped
from collectors.swarm import wire
from collectors.swarm.normalize import TASK_ID_LABEL, SwarmRaw, local_task_health, normalize
from collectors.toolkit import convert, decode, retry_after_s, short
from collectors.transport import transport_problem
from fleet.source import (ClusterData, MalformedPayload, SourceError, Unauthorized, Unreachable,
                          UpstreamError)

log = logging.getLogger(__name__)
T = TypeVar("T")
# the socket read timeout only backs up the request's deadline, which cuts first and says so
READ_TIMEOUT_SLACK_S = 5.0


class SwarmCollector(Collector[SwarmRaw]):
    orchestrator = "swarm"

    def __init__(self, config, *, live: bool = True):
        super().__init__(config)
        self._client: docker.APIClient | None = None
        self.max_bytes = int(config.max_answer_mib * MIB)
        # `api_version: "1.40"` pins the Engine API version; by default the engine's own is used
        self.pinned_api = config.option("api_version")

    @property
    def tls(self) -> bool:
        files = self.config.tls
        return bool(files.cert_file or files.ca_file or self.config.url.startswith("https://"))

    def _connect(self, timeout_s: float) -> docker.APIClient:
        if self._client is None:
            tls: docker.tls.TLSConfig | bool = False
            files = self.config.tls
            if self.tls:
                tls = docker.tls.TLSConfig(
                    client_cert=(files.cert_file, files.key_file) if files.cert_file else None,
                    ca_cert=files.ca_file or self.config.ca_file,
                    verify=(files.ca_file or self.config.ca_file or True) if self.config.verify_tls else False,
                )
            # an explicit version: version="auto" would ask GET /version inside the constructor,
            # unbounded; fetch reads /version itself, bounded, and sets the engine's own version
            self._client = _EngineClient(base_url=self.config.url, timeout=timeout_s, tls=tls,
                                         version=docker.constants.MINIMUM_DOCKER_API_VERSION)
        return self._client

    def fetch(self, timeout_s: float) -> SwarmRaw:
        try:
            client = self._connect(timeout_s)
            version = self._read(client, timeout_s, "/version", wire.EngineVersion, versioned=False)
            client._version = negotiate(version, self.pinned_api, self.endpoint)
            nodes = self._read(client, timeout_s, "/nodes", list[wire.Node])
            # older engines (API < 1.41) ignore status=true: their counts come from the tasks (normalize)
            services = self._read(client, timeout_s, "/services", list[wire.Service], params={"status": "true"})
            tasks = self._read(client, timeout_s, "/tasks", list[wire.Task])
            containers = self._local_containers(client, timeout_s)
        except SourceError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise self._translate(exc) from None
        return SwarmRaw(version=version, nodes=nodes, services=services, tasks=tasks,
                        local_health=local_task_health(containers), api_version=client._version)

    def _local_containers(self, client: docker.APIClient, timeout_s: float) -> list[wire.ContainerSummary]:
        """Containers of tasks on this manager, for their health checks: optional (a proxy in front
        of the engine may not pass /containers/json), so a refusal only leaves health unknown."""
        # the SDK's containers(filters=...) query, as it sends it
        params = {"limit": -1, "all": 0, "size": 0, "trunc_cmd": 0,
                  "filters": docker.utils.convert_filters({"label": TASK_ID_LABEL})}
        what, code, body, headers = self._answer(client, timeout_s, "/containers/json", params)
        if code >= 400:
            log.info("swarm cluster %s: container health not read: %s", self.name,
                     short(refusal(what, code, body, headers)))
            return []
        return decode(body, list[wire.ContainerSummary], what)

    def _read(self, client: docker.APIClient, timeout_s: float, path: str, kind: type[T], *,
              params: dict[str, Any] | None = None, versioned: bool = True) -> T:
        what, code, body, headers = self._answer(client, timeout_s, path, params, versioned)
        if code >= 400:
            raise refusal(what, code, body, headers, endpoint=self.endpoint)
        return decode(body, kind, what)

    def _answer(self, client: docker.APIClient, timeout_s: float, path: str, params: dict[str, Any] | None,
                versioned: bool = True) -> tuple[str, int, bytes, Any]:
        """One GET, bounded in time and size, through the SDK's session: (what, status, body, headers)."""
        what = f"GET {path} on {self.endpoint}"
        url = client._url(path, versioned_api=versioned)
        with bounded(timeout_s, what, max_bytes=self.max_bytes) as budget:
            # socket timeouts are a backstop past the budget: the watchdog's cut reports first
            response = client._get(url, params=params, stream=True,
                                   timeout=(timeout_s + READ_TIMEOUT_SLACK_S, timeout_s + READ_TIMEOUT_SLACK_S))
            try:
                body = read_capped(response.raw, budget)
            except urllib3.exceptions.HTTPError as exc:
                if budget.expired:
                    raise
                cause = exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc
                raise Unreachable(f"{what}: the answer broke off ({transport_problem(cause)})") from None
        return what, response.status_code, body, response.headers

    def _translate(self, exc: Exception) -> Exception:
        """A transport failure (the engine never answered) in plain words; anything else the engine
        or the SDK said is an error with its own words, never "cannot reach"."""
        where = self.endpoint
        if isinstance(exc, requests.exceptions.SSLError) or "SSL" in type(exc).__name__:
            return Unreachable(f"TLS failure talking to {where}: {transport_problem(exc)}")
        if isinstance(exc, docker.errors.APIError) and exc.response is not None:
            return refusal(f"{where}", exc.response.status_code, exc.response.content, exc.response.headers,
                           endpoint=where)
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            urllib3.exceptions.HTTPError, OSError)):
            return Unreachable(f"cannot reach the Docker engine at {where}: {connection_problem(exc)}")
        return UpstreamError(f"{where}: {type(exc).__name__}: {short(exc)}")

    def normalize(self, raw: SwarmRaw) -> ClusterData:
        return normalize(raw)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


SWARM_API = (1, 24)  # Swarm mode came with Docker 1.12, API 1.24


def api_tuple(version: str) -> tuple[int, int] | None:
    major, _, minor = version.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def negotiate(engine: wire.EngineVersion, pinned: object, endpoint: str) -> str:
    """The Engine API version to read with: the pinned one (`api_version`), else the newest the
    engine speaks (its `ApiVersion`). A version the engine does not accept is refused by the engine
    itself, with its own message ("client version 1.24 is too old. Minimum supported API version
    is 1.44"), which the round reports as an error."""
    if not engine.ApiVersion or api_tuple(engine.ApiVersion) is None:
        raise MalformedPayload(f"GET /version on {endpoint}: unexpected shape: no ApiVersion "
                               "(is this a Docker engine?)")
    if pinned is None:
        chosen = engine.ApiVersion
    elif isinstance(pinned, str) and api_tuple(pinned) is not None:
        chosen = pinned
    else:
        raise UpstreamError(f"api_version {pinned!r} in the cluster's config is not an Engine API version: "
                            'write it as a quoted string, e.g. api_version: "1.40"')
    if api_tuple(chosen) < SWARM_API:  # type: ignore[operator]
        raise UpstreamError(f"Engine API {chosen} predates Swarm mode (API 1.24, Docker 1.12): "
                            f"the engine at {endpoint} cannot be read as a swarm manager")
    return chosen


def refusal(what: str, code: int, body: bytes, headers: Any, *, endpoint: str = "") -> SourceError:
    """An HTTP error answer, with the engine's own message (`{"message": ...}`)."""
    text = engine_message(body)
    said = f": {text}" if text else ""
    if code in (401, 403):
        return Unauthorized(f"{what}: access denied ({code}){said}; check the client certificate "
                            "(tls.cert_file, tls.key_file) or the credentials of a proxy in front of the engine")
    if code == 503 and "not a swarm manager" in text:
        return UpstreamError(f"{endpoint} is not a swarm manager: point url at a manager node ({text})")
    return UpstreamError(f"{what}: HTTP {code}{said}", retry_after_s=retry_after_s(headers.get("Retry-After")))


def engine_message(body: bytes) -> str:
    """The `message` of an error body, or the body itself when it is not the engine's JSON."""
    try:
        message = msgspec.json.decode(body, type=wire.ErrorAnswer).message
    except msgspec.DecodeError:
        message = None
    return short(message if message is not None else body.decode("utf-8", "replace"))


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
    """Already-parsed answers (recorded payloads) as wire structs; a wrong shape is a MalformedPayload naming the call."""
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
