"""Resources a round can do without: listed then watched like the rest, with fallbacks.

Services, their endpoints and the HPAs are read after the core resources. A missing API (404: an
old server without EndpointSlices or autoscaling/v2) or a forbidden one (403: a role that may not
read it) moves to the next way of reading the same thing (v1 Endpoints, autoscaling/v1), and the
choice sticks for the collector's life. When no way is left, or a read fails otherwise, the round
still succeeds: the failure is one of its `problems` (the cluster shows `degraded`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from collectors.kubernetes.client import NotFound
from collectors.kubernetes.watch import ResourceCache
from fleet.source import SourceError, Unauthorized

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Way:
    name: str  # which list it is, as KubeState names it
    path: str
    item_type: type


class OptionalResource:
    """One optional resource and its ways of reading it, best first."""

    def __init__(self, what: str, ways: list[Way], make_cache: Callable[[Way], ResourceCache[Any]]):
        self.what, self.ways, self._make_cache = what, ways, make_cache
        self.index = 0
        self.refusals: list[str] = []  # why each way tried so far was given up
        self.cache: ResourceCache[Any] | None = None

    @property
    def way(self) -> Way | None:
        return self.ways[self.index] if self.index < len(self.ways) else None

    def read(self, timeout_s: float, watch: bool, problems: list[str]) -> tuple[str, list[Any]] | None:
        """(the way's name, its objects), or None when it could not be read this round."""
        while (way := self.way) is not None:
            if self.cache is None:
                self.cache = self._make_cache(way)
            cache = self.cache
            if not (watch and cache.synced):
                try:
                    cache.relist(timeout_s)
                except (NotFound, Unauthorized) as exc:
                    if "(401)" in exc.message:  # the credentials, not this resource
                        problems.append(f"{self.what} could not be read: {exc.message}")
                        return None
                    log.info("%s: %s; trying the next way", self.what, exc.message)
                    cache.stop()
                    self.refusals.append(exc.message)
                    self.cache, self.index = None, self.index + 1
                    continue
                except SourceError as exc:
                    problems.append(f"{self.what} could not be read: {exc.message}")
                    return None
            if watch:
                cache.start_watch(timeout_s)
            return way.name, cache.values()
        problems.append(f"{self.what} could not be read: " + "; ".join(self.refusals))
        return None

    def stop(self) -> None:
        if self.cache is not None:
            self.cache.stop()
