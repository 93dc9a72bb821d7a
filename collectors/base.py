"""The collector protocol: `fetch` (I/O) is kept apart from `normalize` (pure).

A collector subclasses `Collector`, implements `fetch()` to return the raw upstream payloads and
`normalize()` as a pure function from those payloads to the common model. The poller calls
`collect()`; it owns timing, timeouts, retries and back-off for every collector at once.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from fleet.config import ClusterConfig
from fleet.source import ClusterData, MalformedPayload, SourceError

Raw = TypeVar("Raw")


class Collector(ABC, Generic[Raw]):
    orchestrator: ClassVar[str]

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.name = config.name
        self.endpoint = config.endpoint
        self.verify_tls = config.verify_tls

    @abstractmethod
    def fetch(self, timeout_s: float) -> Raw:
        """Read everything needed from the cluster's API. Raises SourceError subclasses."""

    @abstractmethod
    def normalize(self, raw: Raw) -> ClusterData:
        """Pure: upstream payloads in, model out. Raises MalformedPayload on shapes it cannot read."""

    def collect(self, timeout_s: float) -> ClusterData:
        raw = self.fetch(timeout_s)
        try:
            return self.normalize(raw)
        except SourceError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise MalformedPayload(f"unexpected payload shape from {self.endpoint}: "
                                   f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Release connections. Called when the poller drops this collector."""

    def secret_values(self) -> list[str]:
        """The credentials in play, so the poller can scrub them from any message as a last guard."""
        return self.config.secret_values()
