"""One bounded, read-only session with a Docker engine: the GETs the collector and its live feed send.

Talks to one manager (unix socket, or tcp with client TLS) through the docker SDK's session, which
holds the unix/tcp/TLS adapters. Each request is bounded in time (the cluster's timeout) and size
(max_answer_mib) and its body is decoded straight into typed wire structs. Failures come out as
`fleet.source` errors: the engine's own refusals (4xx/5xx with `{"message": ...}`) are errors in its
words; only a connection that fails (refused, reset, timed out, TLS) is `unreachable`.
"""
from __future__ import annotations

import json
from typing import Any, TypeVar

import docker
import msgspec
import requests
import urllib3

from collectors.deadline import MIB, bounded, read_capped
import collectors.urllib3_deadline  # noqa: F401  (urllib3's requests inside bounded() are cuttable)
from collectors.swarm import wire
from collectors.toolkit import decode, retry_after_s, short
from collectors.transport import transport_problem
from fleet.config import ClusterConfig
from fleet.source import MalformedPayload, SourceError, Unauthorized, Unreachable, UpstreamError

T = TypeVar("T")
# the socket read timeout only backs up the request's deadline, which cuts first and says so
READ_TIMEOUT_SLACK_S = 5.0
SWARM_API = (1, 24)  # Swarm mode came with Docker 1.12, API 1.24
# a large swarm's tasks are read in parts, by service (collectors/swarm/listing.py)
TASKS_PER_PART = 2_000  # tasks meant to run (each with its history) in one part


class NotFound(UpstreamError):
    """404: the object is gone (removed between an event and its re-read)."""


class EngineSession:
    def __init__(self, config: ClusterConfig, timeout_s: float):
        self.endpoint = config.endpoint
        self.max_bytes = int(config.max_answer_mib * MIB)
        files = config.tls
        tls: docker.tls.TLSConfig | bool = False
        if uses_tls(config):
            tls = docker.tls.TLSConfig(
                client_cert=(files.cert_file, files.key_file) if files.cert_file else None,
                ca_cert=files.ca_file or config.ca_file,
                verify=tls_verify(config),
            )
        # an explicit version: version="auto" would ask GET /version inside the constructor,
        # unbounded; `negotiate` reads /version itself, bounded, and sets the version to speak
        self.client = _EngineClient(base_url=config.url, timeout=timeout_s, tls=tls,
                                    version=docker.constants.MINIMUM_DOCKER_API_VERSION)
        self.api_version = ""
        self.date_header: str | None = None  # of the last /version answer: the engine's clock

    def negotiate(self, timeout_s: float, pinned: object) -> wire.EngineVersion:
        version = self.read(timeout_s, "/version", wire.EngineVersion, versioned=False)
        self.api_version = self.client._version = negotiate(version, pinned, self.endpoint)
        return version

    def part(self, timeout_s: float, services: list[str]) -> bytes:
        """The `/tasks` answer for these services, bounded like any request (not yet decoded)."""
        what, code, body, headers = self.answer(timeout_s, "/tasks", params={"filters": filters(service=services)})
        if code >= 400:
            raise refusal(what, code, body, headers, endpoint=self.endpoint)
        return body

    def read(self, timeout_s: float, path: str, kind: type[T], *, params: dict[str, Any] | None = None,
             versioned: bool = True) -> T:
        what, code, body, headers = self.answer(timeout_s, path, params, versioned)
        if code >= 400:
            raise refusal(what, code, body, headers, endpoint=self.endpoint)
        if path == "/version":
            self.date_header = headers.get("Date")
        return decode(body, kind, what)

    def answer(self, timeout_s: float, path: str, params: dict[str, Any] | None = None,
               versioned: bool = True) -> tuple[str, int, bytes, Any]:
        """One GET, bounded in time and size, through the SDK's session: (what, status, body, headers)."""
        what = f"GET {path} on {self.endpoint}"
        url = self.client._url(path, versioned_api=versioned)
        try:
            with bounded(timeout_s, what, max_bytes=self.max_bytes) as budget:
                # socket timeouts are a backstop past the budget: the watchdog's cut reports first
                response = self.client._get(url, params=params, stream=True,
                                            timeout=(timeout_s + READ_TIMEOUT_SLACK_S, timeout_s + READ_TIMEOUT_SLACK_S))
                try:
                    body = read_capped(response.raw, budget)
                except urllib3.exceptions.HTTPError as exc:
                    if budget.expired:
                        raise
                    cause = exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc
                    raise Unreachable(f"{what}: the answer broke off ({transport_problem(cause)})") from None
        except SourceError:
            raise
        except Exception as exc:
            raise translate(exc, self.endpoint) from None
        return what, response.status_code, body, response.headers

    def close(self) -> None:
        self.client.close()


def uses_tls(config: ClusterConfig) -> bool:
    files = config.tls
    return bool(files.cert_file or files.ca_file or (config.url or "").startswith("https://"))


def tls_verify(config: ClusterConfig) -> bool | str:
    """How the engine's certificate is checked: against the configured CA file, the default
    bundle (True), or not at all (verify_tls: false)."""
    return (config.tls.ca_file or config.ca_file or True) if config.verify_tls else False


def task_parts(services: list[wire.Service], node_count: int) -> list[list[str]]:
    """Service IDs (in ID order) in runs of about TASKS_PER_PART tasks meant to run: the engine's
    desired count, else the replica count, a node count for a global service, one for a job."""
    parts: list[list[str]] = [[]]
    weight = 0
    for service in sorted(services, key=lambda s: s.ID):
        tasks = expected_tasks(service, node_count)
        if parts[-1] and weight + tasks > TASKS_PER_PART:
            parts.append([])
            weight = 0
        parts[-1].append(service.ID)
        weight += tasks
    return parts if parts[-1] else []


def expected_tasks(service: wire.Service, node_count: int) -> int:
    if service.ServiceStatus is not None and service.ServiceStatus.DesiredTasks is not None:
        return max(1, service.ServiceStatus.DesiredTasks)
    mode = service.Spec.Mode
    if mode is not None and mode.Replicated is not None:
        return max(1, mode.Replicated.Replicas or 1)
    if mode is not None and mode.Global is not None:
        return max(1, node_count)
    return 1


def filters(**values: list[str]) -> str:
    """The engine's `filters` query parameter: `{"service": ["id"]}` as JSON."""
    return json.dumps(values)


def translate(exc: Exception, where: str) -> SourceError:
    """A transport failure (the engine never answered) in plain words; anything else the engine
    or the SDK said is an error with its own words, never "cannot reach"."""
    if isinstance(exc, requests.exceptions.SSLError) or "SSL" in type(exc).__name__:
        return Unreachable(f"TLS failure talking to {where}: {transport_problem(exc)}")
    if isinstance(exc, docker.errors.APIError) and exc.response is not None:
        return refusal(where, exc.response.status_code, exc.response.content, exc.response.headers, endpoint=where)
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                        urllib3.exceptions.HTTPError, OSError)):
        return Unreachable(f"cannot reach the Docker engine at {where}: {connection_problem(exc)}")
    return UpstreamError(f"{where}: {type(exc).__name__}: {short(exc)}")


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
    if code == 404:
        return NotFound(f"{what}: HTTP 404{said}")
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
