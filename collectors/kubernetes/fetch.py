"""The Kubernetes collector: list-then-watch the API server, normalize to the common model.

`fetch` (I/O) checks the server answers (`/version`), lists every resource it has not synced yet
(paged, in parallel) and leaves a watch per resource running so later rounds read a fresh cache
instead of relisting; Warning events and node metrics are read each round. `normalize` hands the
decoded objects (`KubeState`) to the pure `normalize.normalize_state`. See docs/kubernetes.md for
the mapping.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable

from collectors.base import Collector
from collectors.deadline import MIB
from collectors.kubernetes import wire as w
from collectors.kubernetes import wire_services as ws
from collectors.kubernetes.client import PAGE_SIZE, KubeConnection, NotFound, load_configuration
from collectors.kubernetes.normalize import InstanceMemo, KubeState, normalize_state, with_usage
from collectors.kubernetes.optional import OptionalResource, Way
from collectors.kubernetes.offload import OFFLOAD_MIN_ITEMS, PodOffload
from collectors.kubernetes.pods import RequestMemo, keyed_digest
from collectors.kubernetes.watch import ResourceCache
from collectors.kubernetes.workloads import keyed_slim_replicaset
from collectors.toolkit import paused_gc
from fleet.config import ClusterConfig
from fleet.source import ClusterData, SourceError, Unauthorized, UpstreamError

log = logging.getLogger(__name__)

# what the collector reads: name -> (list path across all namespaces, wire type)
WATCHED: dict[str, tuple[str, type]] = {
    "nodes": ("/api/v1/nodes", w.Node),
    "pods": ("/api/v1/pods", w.Pod),
    "deployments": ("/apis/apps/v1/deployments", w.Deployment),
    "replicasets": ("/apis/apps/v1/replicasets", w.ReplicaSetHead),
    "statefulsets": ("/apis/apps/v1/statefulsets", w.StatefulSet),
    "daemonsets": ("/apis/apps/v1/daemonsets", w.DaemonSet),
    "jobs": ("/apis/batch/v1/jobs", w.Job),
    "cronjobs": ("/apis/batch/v1/cronjobs", w.CronJob),
}
# what a cache keeps of each object: pods as compact rows, ReplicaSets without needless templates
KEYED: dict[str, Callable[[Any], tuple[str, Any]]] = {"pods": keyed_digest, "replicasets": keyed_slim_replicaset}
# read after those, each with its fallbacks; a failure here only degrades the round (optional.py)
OPTIONAL: dict[str, list[Way]] = {
    "services": [Way("services", "/api/v1/services", ws.Service)],
    "endpoints": [Way("endpoint_slices", "/apis/discovery.k8s.io/v1/endpointslices", ws.EndpointSlice),
                  Way("endpoints", "/api/v1/endpoints", ws.Endpoints)],
    "autoscalers": [Way("autoscalers", "/apis/autoscaling/v2/horizontalpodautoscalers", ws.HorizontalPodAutoscaler),
                    Way("autoscalers", "/apis/autoscaling/v1/horizontalpodautoscalers", ws.HorizontalPodAutoscaler)],
}
EVENTS_PATH = "/api/v1/events"
NODE_METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/nodes"


class KubernetesCollector(Collector[KubeState]):
    orchestrator = "kubernetes"

    def __init__(self, config: ClusterConfig, *, watch: bool = True, page_size: int = PAGE_SIZE,
                 offload_min_items: int = OFFLOAD_MIN_ITEMS):
        super().__init__(config)
        self.offload = PodOffload(offload_min_items)  # a worker process, started by the first big pod list
        self.watch = watch
        self.page_size = page_size
        self._connection: KubeConnection | None = None
        self._caches: dict[str, ResourceCache[Any]] = {}
        self._warnings: ResourceCache[w.Event] | None = None
        self._optional: list[OptionalResource] = []
        self._lock = threading.Lock()
        self.changes = 0  # watch events applied since start (for tests and the bench)
        self._instances: InstanceMemo = {}
        self._requests = RequestMemo()
        self._last: tuple[tuple, ClusterData, list[w.NodeMetrics] | None] | None = None  # see normalize

    # -- fetch ----------------------------------------------------------------------------------
    def connection(self) -> KubeConnection:
        if self._connection is None:
            self._connection = KubeConnection(load_configuration(self.config),
                                              max_bytes=int(self.config.max_answer_mib * MIB),
                                              max_list_s=self.config.max_list_s)
            self._caches = {name: ResourceCache(self._connection, path, item_type, self._count_change, self.page_size,
                                                keyed=KEYED.get(name), sink=self.offload if name == "pods" else None)
                            for name, (path, item_type) in WATCHED.items()}
            self._warnings = ResourceCache(self._connection, EVENTS_PATH, w.Event, self._count_change, self.page_size,
                                           params={"fieldSelector": "type=Warning"})
            self._optional = [OptionalResource(what, ways, self._cache_for) for what, ways in OPTIONAL.items()]
        return self._connection

    def _cache_for(self, way: Way) -> ResourceCache[Any]:
        assert self._connection is not None, "connection() builds the caches"
        return ResourceCache(self._connection, way.path, way.item_type, self._count_change, self.page_size)

    def _count_change(self) -> None:
        self.changes += 1

    def fetch(self, timeout_s: float) -> KubeState:
        with self._lock:
            connection = self.connection()
            version = connection.get_object("/version", w.Version, timeout_s=timeout_s).git_version
            problems: list[str] = []
            with paused_gc(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="kube-optional") as side:
                # services, endpoints and HPAs are listed beside the core resources, not after them
                optional = [side.submit(part.read, timeout_s, self.watch, problems) for part in self._optional]
                self._sync(timeout_s)  # a first list allocates millions of objects that hold no cycles
                found = [future.result() for future in optional]
            state = KubeState(version=version, problems=problems,
                              **{name: cache.values() for name, cache in self._caches.items()})
            for pair in found:
                if pair is not None:
                    setattr(state, *pair)
            state.events = self._events(timeout_s, state.problems)
            state.node_metrics = self._node_metrics(connection, timeout_s, state.problems)
            if self.watch:
                state.generations = self._seen_generations()
            return state

    def _seen_generations(self) -> tuple[int | None, ...]:
        """Which state of every cache this round's objects came from (see `normalize`)."""
        caches = [*self._caches.values(), self._warnings, *(part.cache for part in self._optional)]
        return tuple(cache.seen if cache is not None else None for cache in caches)

    def _sync(self, timeout_s: float) -> None:
        """List every resource whose cache is not fresh; then keep it fresh with a watch."""
        stale = [cache for cache in self._caches.values() if not (self.watch and cache.synced)]
        if stale:
            with ThreadPoolExecutor(max_workers=min(4, len(stale)), thread_name_prefix="kube-list") as pool:
                outcomes = list(pool.map(lambda cache: _try(cache.relist, timeout_s), stale))
            errors = [error for error in outcomes if error is not None]
            if errors:
                raise _most_telling(errors)
        if self.watch:
            for cache in self._caches.values():
                cache.start_watch(timeout_s)

    def _events(self, timeout_s: float, problems: list[str]) -> list[w.Event]:
        """Warning events, listed then watched like the rest; a failure here only degrades."""
        cache = self._warnings
        assert cache is not None, "connection() builds the caches"
        if not (self.watch and cache.synced):
            try:
                cache.relist(timeout_s)
            except SourceError as exc:
                problems.append(f"events could not be read: {exc.message}")
                return []
        if self.watch:
            cache.start_watch(timeout_s)
        return cache.values()

    def _node_metrics(self, connection: KubeConnection, timeout_s: float,
                      problems: list[str]) -> list[w.NodeMetrics] | None:
        try:
            metrics, _ = connection.list_all(NODE_METRICS_PATH, w.NodeMetrics, timeout_s=timeout_s,
                                             page_size=self.page_size)
            return metrics
        except NotFound:
            log.debug("%s: metrics.k8s.io is not served (no metrics-server); usage stays empty", self.name)
            return None
        except SourceError as exc:
            problems.append(f"node usage unavailable, metrics-server failed: {exc.message}")
            return None

    # -- normalize ------------------------------------------------------------------------------
    def normalize(self, raw: KubeState) -> ClusterData:
        """A round whose objects are those of the last one (no watch event, no list since) reuses its
        result, with the nodes' measured usage as read now: a quiet round of 150,000 pods then costs
        milliseconds, not seconds."""
        key = (raw.generations, raw.version, tuple(raw.problems))
        last = self._last
        if raw.generations is not None and last is not None and last[0] == key:
            data, metrics = last[1], last[2]
            if raw.node_metrics != metrics:
                data = replace(data, nodes=with_usage(data.nodes, raw.node_metrics))
        else:
            with paused_gc():  # ~10^6 live objects: let reference counting free what a round drops
                data = normalize_state(raw, self._instances, self._requests)
        self._last = (key, data, raw.node_metrics) if raw.generations is not None else None
        return data

    def secret_values(self) -> list[str]:
        """Configured secrets plus the credentials a kubeconfig or service account brought in."""
        loaded = self._connection.secrets if self._connection is not None else []
        return super().secret_values() + list(loaded)

    def close(self) -> None:
        for cache in [*self._caches.values(), *([self._warnings] if self._warnings else [])]:
            cache.stop()
        for optional in self._optional:
            optional.stop()
        if self._connection is not None:
            self._connection.close()
        self.offload.close()


def _try(call: Any, *args: Any) -> SourceError | None:
    try:
        call(*args)
        return None
    except SourceError as exc:
        return exc


def _most_telling(errors: list[SourceError]) -> SourceError:
    """Of several failures in one round, the one that says most: credentials, then connection."""
    for kind in (Unauthorized, UpstreamError):
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]
