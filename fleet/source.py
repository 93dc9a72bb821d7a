"""What the poller needs from a collector, and the errors a collector may raise.

The core knows no orchestrator: anything with `name`, `orchestrator`, `endpoint` and `collect()`
is a source. Collectors (in `collectors/`) implement it; the poller turns their errors into
`Cluster.status` / `Cluster.error`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, runtime_checkable

from fleet.model import ClusterStatus, Event, Instance, Node, Service, Workload


@dataclass
class ClusterData:
    """One successful collection of one cluster, already in the common model."""

    version: str | None = None
    nodes: list[Node] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    # set when the core data came in but an optional part failed (status becomes `degraded`)
    degraded_reason: str | None = None


@runtime_checkable
class Source(Protocol):
    name: str
    orchestrator: str
    endpoint: str
    verify_tls: bool  # false only when the cluster's config turns TLS verification off

    def collect(self, timeout_s: float) -> ClusterData:
        """Fetch and normalize one round. Raise a SourceError subclass on failure."""
        ...

    def secret_values(self) -> list[str]:
        """The credentials in play, scrubbed from every message by the poller as a last guard."""
        ...

    def close(self) -> None:
        ...

    # Optional: `polled_continuously(self) -> None`, called once when a poller starts polling the
    # source in the background (never for a one-shot collection), so it may open its watches or
    # event streams before its first round.


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***: servers and proxies may echo credentials back in
    their error bodies, and those bodies end up in messages and logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class SourceError(Exception):
    """A collection failure with the cluster status it maps to and a message a human can act on."""

    status: ClusterStatus = "error"

    def __init__(self, message: str, *, retry_after_s: float | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class Unreachable(SourceError):
    """No connection, timeout, TLS failure."""

    status = "unreachable"


class Unauthorized(SourceError):
    """401 or 403 on a core call."""

    status = "unauthorized"


class UpstreamError(SourceError):
    """The server answered, but with an error (5xx, unexpected status)."""

    status = "error"


class MalformedPayload(SourceError):
    """The server answered with something that is not the shape its API promises."""

    status = "error"
