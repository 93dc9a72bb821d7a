"""Nomad: client nodes, jobs, allocations, deployments and blocked evaluations, region by region.

A handful of list calls per region, never one request per node or allocation for the core data:
`/v1/nodes?resources=true`, `/v1/jobs`, `/v1/allocations` (lean, then with task states for the
troubled ones only), `/v1/deployments` and blocked `/v1/evaluations`; job specs (`/v1/job/:id`)
are read once per JobModifyIndex. Between rounds a blocking-query probe (`index=<last
X-Nomad-Index>`, `per_page=1`) tells which tables moved; unchanged ones are not read again.
Node usage comes from `/v1/client/stats` only in small regions (one call per node). Read-only:
GET only. One region that fails makes the cluster `degraded`, naming it. See docs/nomad.md.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from collectors.base import Collector
from collectors.http import DirectGet, HttpJsonClient
from collectors.nomad.allocs import AllocRow, digest
from collectors.nomad.discovery import Discovery, read_registered, with_scales
from collectors.nomad.normalize import NomadRaw, RegionRaw, normalize
from collectors.nomad.specs import READERS as SPEC_READERS  # here as in the worker
from collectors.nomad.specs import decode_specs, read_specs, spec_path
from collectors.nomad.wire import (AgentSelf, AllocStub, Deployment, Evaluation, HostStats, JobSpec, JobStub,
                                   LeanAlloc, NodeStub)
from collectors.offload import Worker, WorkerGone
from collectors.plainget import PlainTarget
from collectors.toolkit import decode, paused_gc
from fleet.config import ClusterConfig
from fleet.source import ClusterData, MalformedPayload, SourceError, Unauthorized, Unreachable, UpstreamError

log = logging.getLogger(__name__)
PAGE_SIZE = 10_000
PROBE_WAIT = "5ms"  # a blocking query that returns at once when the table moved past our index
PROBE_WAIT_S = 0.005  # the server may hold a probe this long: its bound is timeout_s plus this
STATS_NODE_LIMIT = 64  # usage (one /v1/client/stats call per node) only for regions up to this size
STATS_TIMEOUT_S = 2.0
SPEC_OFFLOAD_MIN = 200  # job specs (or services) to read in one round before the worker process reads them
READERS = 5  # the lists of one region, read at the same time
MAX_REGIONS_AT_ONCE = 4  # a region that hangs does not hold the others up
TROUBLED = 'ClientStatus != "running" and ClientStatus != "complete"'
BLOCKED = 'Status == "blocked"'


@dataclass
class _Table:
    index: int
    value: Any


class NomadCollector(Collector[NomadRaw]):
    orchestrator = "nomad"

    def __init__(self, config: ClusterConfig, spec_offload_min: int = SPEC_OFFLOAD_MIN):
        super().__init__(config)
        headers = {"X-Nomad-Token": config.token.reveal()} if config.token else {}
        self.client = HttpJsonClient(config.url or "", config, headers=headers)
        self._tables: dict[tuple[str | None, str], _Table] = {}
        self._specs: dict[tuple[str | None, str, str], tuple[int, JobSpec]] = {}
        self._discovery: dict[str | None, Discovery] = {}
        self._moved: dict[str | None, set[str]] = {}  # the lists of a region read again this round
        self._leaderless: dict[str | None, int | None] = {}  # region -> ms since a follower heard from a leader
        # full reads so far; a round that made none (every probe said "unchanged") reuses the last model
        self._reads = 0
        self._last: tuple[tuple, ClusterData] | None = None
        self.worker = Worker("job spec reads")  # a process, started by the first big batch of job specs
        self.spec_offload_min = spec_offload_min
        self.specs_from_worker = 0  # for tests and the bench

    # --- one round ------------------------------------------------------------------------------
    def fetch(self, timeout_s: float) -> NomadRaw:
        agent = self.agent(timeout_s)
        regions = self.regions(agent, timeout_s)
        results: list[RegionRaw] = []
        failures: dict[str, SourceError] = {}
        with ThreadPoolExecutor(min(len(regions), MAX_REGIONS_AT_ONCE), thread_name_prefix="nomad-region") as pool:
            futures = [(region, pool.submit(self.region, region, timeout_s)) for region in regions]
            for region, future in futures:  # in config order, whichever finishes first
                try:
                    results.append(future.result())
                except SourceError as exc:
                    log.warning("nomad cluster %s: region %s failed: %s", self.name, region, exc.message)
                    failures[region or "(agent's own)"] = exc
        if not results:
            raise next(iter(failures.values()))
        return NomadRaw(agent.version if agent else None, results, datetime.now(timezone.utc),
                        {name: exc.message for name, exc in failures.items()})

    def normalize(self, raw: NomadRaw) -> ClusterData:
        key = (self._reads, [r.name for r in raw.regions], raw.failed_regions,
               [(r.name, r.leaderless) for r in raw.regions])
        if self._last is not None and self._last[0] == key and not any(r.stats for r in raw.regions):
            return self._last[1]  # nothing moved since the last round, and there is no usage to refresh
        with paused_gc():
            data = normalize(raw)
        self._last = (key, data)
        return data

    def agent(self, timeout_s: float) -> AgentSelf | None:
        """The agent we talk to: version and own region. A token without agent:read still works."""
        try:
            return self.read("/v1/agent/self", {}, AgentSelf, timeout_s)[0]
        except Unauthorized:
            log.info("nomad cluster %s: token cannot read /v1/agent/self; version unknown", self.name)
            return None

    def regions(self, agent: AgentSelf | None, timeout_s: float) -> list[str | None]:
        wanted = self.config.option("regions")
        if wanted == "all":
            names = self.read("/v1/regions", {}, list[str], timeout_s)[0]
            return sorted(names) or [agent.region if agent else None]
        if isinstance(wanted, list):  # plain str: YAML loaders hand back their own string types
            return [str(name) for name in wanted]
        if isinstance(wanted, str):
            return [str(wanted)]
        return [agent.region if agent else None]

    def region(self, region: str | None, timeout_s: float) -> RegionRaw:
        """Every table of one region, read side by side (the server works while we decode)."""
        base: dict[str, str] = {"stale": "true", **({"region": region} if region else {})}
        scoped = {**base, "namespace": str(self.config.option("namespace", "*"))}
        node_params = {**base, "resources": "true", "os": "true"}
        lean_params = {**scoped, "resources": "true", "task_states": "false"}
        self._leaderless.pop(region, None)
        self._moved[region] = set()
        with ThreadPoolExecutor(READERS, thread_name_prefix="nomad-list") as pool, \
                ThreadPoolExecutor(1, thread_name_prefix="nomad-discovery") as beside:
            registered = beside.submit(read_registered, self, region, scoped, timeout_s)  # its own many reads

            def table(path: str, params: dict[str, str], load: Callable[[], tuple[Any, int]]) -> Future:
                return pool.submit(self.table, region, path, params, timeout_s, load)

            nodes = table("/v1/nodes", node_params, lambda: self.pages("/v1/nodes", node_params, NodeStub, timeout_s))
            allocs = table("/v1/allocations", lean_params,
                           lambda: self.allocations(region, scoped, lean_params, timeout_s))
            jobs = table("/v1/jobs", scoped, lambda: self.pages("/v1/jobs", scoped, JobStub, timeout_s))
            deployments = table("/v1/deployments", scoped,
                                lambda: self.pages("/v1/deployments", scoped, Deployment, timeout_s))
            evaluations = table("/v1/evaluations", scoped, lambda: self.pages(
                "/v1/evaluations", {**scoped, "filter": BLOCKED}, Evaluation, timeout_s))
            specs = self.specs(region, base, jobs.result(), timeout_s)
            stats = self.stats(base, nodes.result(), timeout_s)
            lean, troubled = allocs.result()
            versions = {(j.namespace, j.ID): j.JobModifyIndex for j in jobs.result()}
            discovery = self._discovery[region] = with_scales(
                self, registered.result(), scoped, timeout_s, versions, "/v1/allocations" in self._moved[region],
                self._discovery.get(region))
            return RegionRaw(region, nodes.result(), jobs.result(), lean, deployments.result(), evaluations.result(),
                             specs=specs, troubled=troubled, stats=stats, leaderless=region in self._leaderless,
                             last_contact_ms=self._leaderless.get(region), discovery=discovery)

    def allocations(self, region: str | None, scoped: dict[str, str], lean_params: dict[str, str],
                    timeout_s: float) -> tuple[tuple[list[AllocRow], list[AllocStub]], int]:
        """All allocations without task states, digested, and again with task states for the
        troubled ones only."""
        with ThreadPoolExecutor(1, thread_name_prefix="nomad-troubled") as pool:
            troubled = pool.submit(self.pages, "/v1/allocations",
                                   {**scoped, "resources": "true", "filter": TROUBLED}, AllocStub, timeout_s)
            prefix = f"{region}/" if region else ""
            rows, index = self.pages("/v1/allocations", lean_params, LeanAlloc, timeout_s,
                                     lambda alloc: digest(alloc, prefix))
            return (rows, troubled.result()[0]), index

    # --- reading --------------------------------------------------------------------------------
    def read(self, path: str, params: dict[str, Any], kind: type, timeout_s: float,
             direct: DirectGet | None = None) -> tuple[Any, Any]:
        headers, body = self.fetch_body(path, params, timeout_s, direct)
        return decode(body, kind, f"GET {path} on {self.endpoint}"), headers

    def fetch_body(self, path: str, params: dict[str, Any], timeout_s: float,
                   direct: DirectGet | None = None) -> tuple[Any, bytes]:
        """Headers and the whole body, read in one go (a 100 MB list in 10 KB chunks costs more).
        `direct`: try the lean path first (many small reads); anything but a 2xx comes here again."""
        answer = direct.get(path, params, timeout_s) if direct is not None else None
        if answer is None:
            response = self.client.get_response(path, timeout_s=timeout_s, params=params)
            answer = response.headers, response.content
        self.note_leader(params.get("region"), answer[0])
        return answer

    def note_leader(self, region: str | None, headers: Any) -> None:
        """Remember a region answering without a known leader (a follower serving a stale read)."""
        if headers.get("X-Nomad-KnownLeader") == "false":
            self._leaderless[region] = _int(headers.get("X-Nomad-LastContact"))

    def pages(self, path: str, params: dict[str, str], kind: type, timeout_s: float,
              convert: Callable[[Any], Any] | None = None) -> tuple[list, int]:
        """Every item of a list endpoint, decoded (and converted as its page is read, so only the
        result is kept), and the list's X-Nomad-Index."""
        items: list = []
        headers: Any = {}
        what = f"GET {path} on {self.endpoint}"
        for headers, body in self.bodies(path, params, timeout_s):
            with paused_gc():  # thousands of acyclic structs: no collector passes over them meanwhile
                decoded = decode(body, list[kind], what)
                items.extend(map(convert, decoded) if convert else decoded)
        return items, _index(headers, path)

    def bodies(self, path: str, params: dict[str, str], timeout_s: float) -> Iterator[tuple[Any, bytes]]:
        """Every page of a list endpoint (`per_page` / `X-Nomad-NextToken`), headers and body; the
        next page is asked for while the caller works on this one. Each page is a request of its own
        within `timeout_s`; the whole list within the cluster's `max_list_s`."""
        deadline = time.monotonic() + self.config.max_list_s
        pages = 0

        def get(token: str | None) -> tuple[Any, bytes]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unreachable(f"GET {path} on {self.endpoint}: the list did not finish within "
                                  f"{self.config.max_list_s:g}s ({pages} pages of {PAGE_SIZE:,} read); "
                                  "raise max_list_s if this region really needs longer")
            page_params = {**params, "per_page": str(PAGE_SIZE), **({"next_token": token} if token else {})}
            return self.fetch_body(path, page_params, min(timeout_s, left))

        with ThreadPoolExecutor(1, thread_name_prefix="nomad-page") as pool:
            pending: Future | None = pool.submit(get, None)
            while pending is not None:
                headers, body = pending.result()
                pages += 1
                token = headers.get("X-Nomad-NextToken")
                pending = pool.submit(get, token) if token else None
                yield headers, body

    def table(self, region: str | None, path: str, params: dict[str, str], timeout_s: float,
              load: Callable[[], tuple[Any, int]]) -> Any:
        """A list, read again only when a blocking-query probe says its table moved."""
        cached = self._tables.get((region, path))
        if cached is not None:
            probe = {**params, "per_page": "1", "index": str(cached.index), "wait": PROBE_WAIT}
            _, headers = self.read(path, probe, list[Any], timeout_s + PROBE_WAIT_S)
            if _index(headers, path) == cached.index:
                return cached.value
        value, index = load()
        self._reads += 1
        self._moved.setdefault(region, set()).add(path)
        self._tables[(region, path)] = _Table(index, value)
        return value

    def specs(self, region: str | None, base: dict[str, str], jobs: list[JobStub],
              timeout_s: float) -> dict[tuple[str, str], JobSpec]:
        """Job specs (task-group counts, tasks), read once per JobModifyIndex (see `read_in_bulk`)."""
        stale = [j for j in jobs if self._specs.get((region, j.namespace, j.ID), (None,))[0] != j.JobModifyIndex]

        def read_spec(job: tuple[str, str], direct: DirectGet | None) -> JobSpec | None:
            try:
                return self.read(spec_path(job[1]), {**base, "namespace": job[0]}, JobSpec, timeout_s, direct)[0]
            except UpstreamError as exc:  # deleted between the list and the read
                log.debug("job %s/%s not read: %s", *job, exc.message)
                return None

        found, from_worker = self.read_in_bulk(read_specs, decode_specs, base, [(j.namespace, j.ID) for j in stale],
                                               read_spec, SPEC_READERS, timeout_s)
        self.specs_from_worker += from_worker
        self.keep_specs(region, zip(stale, found))
        return {(j.namespace, j.ID): self._specs[(region, j.namespace, j.ID)][1]
                for j in jobs if (region, j.namespace, j.ID) in self._specs}

    def keep_specs(self, region: str | None, read: Iterable[tuple[JobStub, JobSpec | None]]) -> None:
        for job, spec in read:
            if spec is not None:
                self._specs[(region, job.namespace, job.ID)] = (job.JobModifyIndex, spec)
                self._reads += 1

    def read_in_bulk(self, read_there: Callable[[PlainTarget, dict[str, str], list[Any], float], bytes],
                     decode_there: Callable[[bytes], list[Any]], params: dict[str, str], items: list[Any],
                     read_here: Callable[[Any, DirectGet | None], Any], readers: int,
                     timeout_s: float) -> tuple[list[Any], int]:
        """One answer per item, in order, and how many the worker process gave: a batch of
        `spec_offload_min` or more is read there (`read_there`, see `in_worker`); whatever it could
        not read, and a smaller batch, is read here by `read_here(item, direct)` over `readers`
        threads, without requests' per-call work."""
        there = self.in_worker(read_there, decode_there, params, items, timeout_s) \
            if len(items) >= self.spec_offload_min else []
        answers = there or [None] * len(items)
        left = [index for index, answer in enumerate(answers) if answer is None]
        if left:
            direct = self.client.direct()
            with ThreadPoolExecutor(readers, thread_name_prefix="nomad-bulk") as pool:
                for index, answer in zip(left, pool.map(lambda index: read_here(items[index], direct), left)):
                    answers[index] = answer
        return answers, sum(answer is not None for answer in there)

    def in_worker(self, read: Callable[[PlainTarget, dict[str, str], list[Any], float], bytes],
                  decode: Callable[[bytes], list[Any]], params: dict[str, str], items: list[Any],
                  timeout_s: float) -> list[Any]:
        """`read`'s batch of plain GETs run by the worker process, decoded: one answer per item, in
        order (None: read that one here); [] without a worker."""
        target = self.client.plain_target()
        if target is None:
            return []
        self.worker.start()
        future = self.worker.run(read, target, params, items, timeout_s)
        if future is None:
            return []
        try:
            # the batch is a list of reads, each bounded by timeout_s: bounded in all like a paged list
            return decode(self.worker.answer(future, self.config.max_list_s))
        except SourceError:  # the server timed out or answered too much there: here it would too
            raise
        except WorkerGone:  # stopped or ended: read them here; a fresh worker is started next time
            return []
        except Exception as exc:  # the worker sent garbage: read them here from now on
            self.worker.give_up(exc)
            return []

    def stats(self, base: dict[str, str], nodes: list[NodeStub], timeout_s: float) -> dict[str, HostStats]:
        """Host usage of ready nodes whose agents answer; none at all for large regions."""
        ready = [n for n in nodes if n.Status == "ready"]
        if not ready or len(ready) > STATS_NODE_LIMIT:
            return {}

        def read_stats(node: NodeStub) -> HostStats | None:
            try:
                return self.read("/v1/client/stats", {**base, "node_id": node.ID}, HostStats,
                                 min(timeout_s, STATS_TIMEOUT_S))[0]
            except SourceError as exc:
                log.debug("no usage for node %s: %s", node.Name, exc.message)
                return None

        with ThreadPoolExecutor(SPEC_READERS, thread_name_prefix="nomad-stats") as pool:
            found = dict(zip((n.ID for n in ready), pool.map(read_stats, ready)))
        return {node_id: stats for node_id, stats in found.items() if stats is not None}

    def close(self) -> None:
        self.client.close()
        self.worker.close()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _index(headers: Any, path: str) -> int:
    value = headers.get("X-Nomad-Index")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        raise MalformedPayload(f"GET {path}: X-Nomad-Index is not a number: {value!r}") from None
