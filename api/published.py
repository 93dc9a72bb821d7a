"""What the API serves for one snapshot, encoded once and kept until the next round.

Each round the poller publishes a new Snapshot object; the first answer that needs an encoding (or
the warm-up that follows each round, off the poller's thread) builds it, and every later request
for the same snapshot reuses the bytes, compressed and not.
"""
from __future__ import annotations

import gzip
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import msgspec

from fleet.analysis import SnapshotAnalysis, to_builtins
from fleet.model import Cluster, Snapshot
from fleet.problems import Problem, fleet_problems

log = logging.getLogger(__name__)

# level 1: at 150,000 instances (33 MiB) 0.17 s and 2.2 MiB, against level 6's 0.37 s and 1.8 MiB
GZIP_LEVEL = 1
# an answer a request asked for within this long is built again right after each round
WARM_FOR_S = 600.0
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Body:
    """One JSON answer, as sent and as gzip."""

    raw: bytes
    gzipped: bytes

    @classmethod
    def of(cls, value: Any) -> "Body":
        raw = _encoder.encode(value)
        return cls(raw, gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0))


def cluster_row(cluster: Cluster) -> dict[str, Any]:
    return {"name": cluster.name, "orchestrator": cluster.orchestrator, "status": cluster.status,
            "error": cluster.error, "collected_at": cluster.collected_at, "stale": cluster.stale}


def problem_row(problem: Problem) -> dict[str, Any]:
    return {"severity": problem.severity, "cluster": problem.cluster, "kind": problem.kind,
            "object": problem.object, "message": problem.summary}


def analysis_document(analysis: SnapshotAnalysis, *, all_nodes: bool) -> dict[str, Any]:
    """What `python -m fleet analyze [--all-nodes]` prints."""
    document = to_builtins(analysis)
    if not all_nodes:
        for cluster in document["clusters"]:
            del cluster["node_loss"]
    return document


Key = tuple[str, str]  # which answer: ("snapshot", ""), ("cluster", name), ("analysis", "True"), ...


class Published:
    """The encodings of one snapshot, each built once on first use; `asked` hears which answer a
    request wanted (not the warm-up's)."""

    def __init__(self, snapshot: Snapshot, analyze: Callable[[Snapshot], SnapshotAnalysis],
                 asked: Callable[[Key], None] = lambda key: None):
        self.snapshot = snapshot
        self._analyze = analyze
        self._asked = asked
        self._lock = threading.Lock()
        self._bodies: dict[Key, Body] = {}

    def _body(self, key: Key, build: Callable[[], Any], warming: bool = False) -> Body:
        if not warming:
            self._asked(key)
        with self._lock:  # concurrent first requests wait for one encoding instead of making their own
            if key not in self._bodies:
                self._bodies[key] = Body.of(build())
            return self._bodies[key]

    def whole(self, warming: bool = False) -> Body:
        return self._body(("snapshot", ""), lambda: self.snapshot, warming)

    def clusters(self, warming: bool = False) -> Body:
        return self._body(("clusters", ""), lambda: [cluster_row(c) for c in self.snapshot.clusters], warming)

    def cluster(self, name: str, warming: bool = False) -> Body | None:
        found = next((c for c in self.snapshot.clusters if c.name == name), None)
        return None if found is None else self._body(("cluster", name), lambda: found, warming)

    def problems(self, warming: bool = False) -> Body:
        return self._body(("problems", ""), lambda: [problem_row(p) for p in fleet_problems(self.snapshot)],
                          warming)

    def analysis(self, *, all_nodes: bool = False, warming: bool = False) -> Body:
        return self._body(("analysis", str(all_nodes)),
                          lambda: analysis_document(self._analyze(self.snapshot), all_nodes=all_nodes), warming)

    def warm(self, key: Key) -> None:
        """Build the answer a request asked for in an earlier round."""
        kind, detail = key
        if kind == "snapshot":
            self.whole(warming=True)
        elif kind == "clusters":
            self.clusters(warming=True)
        elif kind == "cluster":
            self.cluster(detail, warming=True)
        elif kind == "problems":
            self.problems(warming=True)
        elif kind == "analysis":
            self.analysis(all_nodes=detail == "True", warming=True)


class Publisher:
    """The Published of the latest snapshot; after each round, the answers requests asked for in the
    last WARM_FOR_S are built again on a thread of its own (a client polling the whole snapshot gets
    it at once), the others on their next request: at the seed's size the whole snapshot is ~1 s of
    encoding and compressing, which a dashboard nobody asks the API of should not spend every round."""

    def __init__(self, latest: Callable[[], Snapshot | None], analyze: Callable[[Snapshot], SnapshotAnalysis]):
        self._latest = latest
        self._analyze = analyze
        self._lock = threading.Lock()
        self._current: Published | None = None
        self._warming: threading.Thread | None = None
        self._asked: dict[Key, float] = {}  # when a request last asked for each answer (monotonic)

    def current(self) -> Published | None:
        snapshot = self._latest()
        if snapshot is None:
            return None
        return self.of(snapshot)

    def of(self, snapshot: Snapshot) -> Published:
        with self._lock:
            if self._current is None or self._current.snapshot is not snapshot:
                self._current = Published(snapshot, self._analyze, self._note)
            return self._current

    def _note(self, key: Key) -> None:
        with self._lock:
            self._asked[key] = time.monotonic()

    def recently_asked(self) -> list[Key]:
        now = time.monotonic()
        with self._lock:
            return [key for key, at in self._asked.items() if now - at < WARM_FOR_S]

    def warm(self, snapshot: Snapshot) -> None:
        """Build the new round's recently asked answers now rather than on their next request (the
        round hook)."""
        wanted = self.recently_asked()
        if not wanted:
            return
        published = self.of(snapshot)
        if self._warming is not None and self._warming.is_alive():
            return  # still encoding an earlier round: this one is encoded on its first request
        self._warming = threading.Thread(target=self._warm, args=(published, wanted), name="api-warm", daemon=True)
        self._warming.start()

    @staticmethod
    def _warm(published: Published, wanted: list[Key]) -> None:
        try:
            for key in wanted:
                published.warm(key)
        except Exception:
            log.exception("encoding the snapshot for the API failed")
