"""The fleet poller: collects every cluster concurrently and keeps the last good state.

It owns what no collector should do for itself (the netdata way): scheduling on a monotonic
clock, a deadline per cluster, turning failures into `Cluster.status`/`error`, keeping the last
good data marked `stale`, and backing off a failing cluster. One slow or dead cluster never
delays the others: each runs on its own worker, and a round waits for none beyond its deadline.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Collection

from fleet.config import Settings
from fleet.model import NOT_COLLECTED_YET, Cluster, Snapshot, summarize, utc_now
from fleet.source import ClusterData, Source, SourceError, scrub

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
# a collector gets `timeout_s` per request; the whole collection of one cluster gets this many
DEADLINE_REQUESTS = 3


@dataclass
class _ClusterState:
    source: Source
    last_good: Cluster | None = None
    current: Cluster | None = None
    failures: int = 0
    next_attempt_at: float = 0.0
    in_flight: Future | None = None
    started_at: float = 0.0


@dataclass
class RoundProgress:
    """What a long collection round has done so far, for progress bars: the clusters whose
    collection has ended (in the order they ended, whatever the outcome) and when the round began."""

    total: int
    started_at: float = 0.0  # the poller's (monotonic) clock
    done: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def ended(self, name: str) -> None:
        with self._lock:
            if name not in self.done:
                self.done.append(name)


class Poller:
    def __init__(self, sources: list[Source], settings: Settings, *,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], datetime] = utc_now,
                 on_cluster: Callable[[Cluster, float], None] | None = None,
                 on_round: Callable[[Snapshot], None] | None = None,
                 collects: Callable[[str], bool] | None = None,
                 carried: dict[str, _ClusterState] | None = None):
        """`carried`: what an earlier poller handed over (`stop(keep=…)`) for clusters whose collector
        is among `sources` again: their last state is shown at once and their collector goes on."""
        self.settings = settings
        self._clock = clock
        self._wall_clock = wall_clock
        self._on_cluster = on_cluster
        self._on_round = on_round
        # replicas sharing a history poll only the clusters they own (fleet/ha); alone: every cluster
        self._collects = collects or (lambda _name: True)
        carried = carried or {}
        self._states = [carried[source.name] if source.name in carried and carried[source.name].source is source
                        else _ClusterState(source) for source in sources]
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=max(2, len(sources)), thread_name_prefix="collect")
        self._snapshot = Snapshot(taken_at=wall_clock(),
                                  clusters=[s.current or self._pending(s.source) for s in self._states])
        self._rounds = 0
        self._wake = threading.Event()
        self._stopping: Future = Future()  # done once stop() is called: a round's wait ends at once
        self._thread: threading.Thread | None = None
        self.progress = RoundProgress(total=len(sources))

    @property
    def deadline_s(self) -> float:
        return self.settings.timeout_s * DEADLINE_REQUESTS

    @property
    def rounds(self) -> int:
        return self._rounds

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    # -- one round -------------------------------------------------------------------------------

    def poll_once(self, *, force: bool = False) -> Snapshot:
        """Collect every cluster that is due (all when `force`), wait at most the deadline, publish."""
        now = self._clock()
        progress = self.progress = RoundProgress(total=len(self._states), started_at=now)
        for state in self._states:
            due = force or now >= state.next_attempt_at
            if due and state.in_flight is None and self._collects(state.source.name):
                state.started_at = now
                state.in_flight = self._executor.submit(self._collect, state.source)
            if state.in_flight is None:
                progress.ended(state.source.name)
            else:  # this round's collection, or one past last round's deadline still running
                state.in_flight.add_done_callback(lambda _, name=state.source.name: progress.ended(name))
        deadline = now + self.deadline_s
        # settled as each ends (config order among those ending together), then the rest at the deadline
        running = [state for state in self._states if state.in_flight is not None]
        while running:
            ended, _ = wait([state.in_flight for state in running] + [self._stopping],
                            timeout=max(0.0, deadline - self._clock()), return_when=FIRST_COMPLETED)
            if self._stopping.done():
                return self._abandon(running, deadline)
            settling = [state for state in running if state.in_flight in ended] if ended else running
            for state in settling:
                self._settle(state, deadline)
                progress.ended(state.source.name)  # a collection past its deadline ends the round's wait too
                if self._on_cluster and state.current is not None:
                    self._on_cluster(state.current, self._clock() - state.started_at)
            running = [state for state in running if state not in settling]
            if running and self._rounds == 0:
                self._publish(self._snapshot_now())  # pages show each cluster of the first round as it comes in
        snapshot = self._snapshot_now()
        with self._lock:
            self._snapshot = snapshot
            self._rounds += 1
        if self._on_round is not None:
            try:
                self._on_round(snapshot)  # e.g. keep it in history; never lets a failure stop polling
            except Exception:
                log.exception("the per-round hook failed")
        return snapshot

    def _abandon(self, running: list[_ClusterState], deadline: float) -> Snapshot:
        """Stopped mid-round (a config save, a shutdown): keep what has ended, so those clusters can be
        handed over, and neither wait for the rest (a hanging cluster would hold the save up to its
        deadline) nor publish the round."""
        for state in running:
            if state.in_flight is not None and state.in_flight.done():
                self._settle(state, deadline)
        return self.snapshot()

    def _snapshot_now(self) -> Snapshot:
        return Snapshot(taken_at=self._wall_clock(), clusters=[s.current or self._pending(s.source) for s in self._states])

    def _publish(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def _collect(self, source: Source) -> ClusterData:
        return source.collect(self.settings.timeout_s)

    def _settle(self, state: _ClusterState, deadline: float) -> None:
        future = state.in_flight
        assert future is not None
        try:
            data = future.result(timeout=max(0.0, deadline - self._clock()))
        except TimeoutError:
            # the worker keeps running; it is not resubmitted until it returns
            elapsed = self._clock() - state.started_at
            self._failed(state, "unreachable", f"{state.source.endpoint} did not finish answering within "
                                               f"{self.deadline_s:g}s ({elapsed:.0f}s so far)", None)
            return
        except SourceError as exc:
            state.in_flight = None
            self._failed(state, exc.status, exc.message, exc.retry_after_s)
            return
        except Exception as exc:  # a collector bug must not take the poller down
            state.in_flight = None
            log.exception("collector for %s crashed", state.source.name)
            self._failed(state, "error", f"collector error: {type(exc).__name__}: {exc}", None)
            return
        state.in_flight = None
        self._succeeded(state, data)

    def _succeeded(self, state: _ClusterState, data: ClusterData) -> None:
        source = state.source
        status = "degraded" if data.degraded_reason else "ok"
        cluster = Cluster(
            name=source.name, orchestrator=source.orchestrator, endpoint=source.endpoint,  # type: ignore[arg-type]
            status=status, error=self._redact(source, data.degraded_reason), version=data.version,
            collected_at=self._wall_clock(), stale=False, verify_tls=source.verify_tls, nodes=data.nodes, workloads=data.workloads,
            instances=data.instances, events=data.events, services=data.services,
            summary=summarize(data.nodes, data.workloads, data.instances),
        )
        state.last_good = cluster
        state.current = cluster
        state.failures = 0
        state.next_attempt_at = 0.0

    def _failed(self, state: _ClusterState, status: str, message: str, retry_after_s: float | None) -> None:
        source = state.source
        state.failures += 1
        backoff = self.backoff_s(state.failures, retry_after_s)
        # measured from the round's start, so "one interval" means "the next round"
        state.next_attempt_at = state.started_at + backoff - 0.05
        message = self._redact(source, message) or ""
        if state.failures > 1 or retry_after_s:
            message += f" ({state.failures} failures in a row; next try in {backoff:.0f}s)"
        log.warning("cluster %s: %s: %s", source.name, status, message)
        last = state.last_good
        state.current = Cluster(
            name=source.name, orchestrator=source.orchestrator, endpoint=source.endpoint,  # type: ignore[arg-type]
            status=status, error=message,  # type: ignore[arg-type]
            version=last.version if last else None,
            collected_at=last.collected_at if last else None,
            stale=last is not None, verify_tls=source.verify_tls,
            nodes=last.nodes if last else [], workloads=last.workloads if last else [],
            instances=last.instances if last else [], events=last.events if last else [],
            services=last.services if last else [],
            summary=last.summary if last else summarize([], [], []),
        )

    def backoff_s(self, failures: int, retry_after_s: float | None = None) -> float:
        """Retry on the normal schedule after one failure, then double the wait, up to 10 minutes.
        A server's Retry-After is honoured (capped the same way)."""
        interval = self.settings.poll_interval_s
        wait = min(MAX_BACKOFF_S, interval * 2 ** (max(1, failures) - 1))
        if retry_after_s:
            wait = max(wait, min(MAX_BACKOFF_S, retry_after_s))
        return wait

    @staticmethod
    def _redact(source: Source, message: str | None) -> str | None:
        if not message:
            return message
        return scrub(message, source.secret_values())

    def _pending(self, source: Source) -> Cluster:
        return Cluster(name=source.name, orchestrator=source.orchestrator,  # type: ignore[arg-type]
                       endpoint=source.endpoint, status="unreachable", error=NOT_COLLECTED_YET, stale=False,
                       verify_tls=source.verify_tls)

    # -- background loop -------------------------------------------------------------------------

    def start(self) -> "Poller":
        """Poll in the background. A source that can watch between rounds (an event stream) is told
        so first (`polled_continuously`, optional): a one-shot `poll_once` never opens one."""
        if self._thread is None:
            for state in self._states:
                hint = getattr(state.source, "polled_continuously", None)
                try:
                    if hint is not None:
                        hint()
                except Exception:  # the rounds still work without watching between them
                    log.exception("%s could not start watching between rounds", state.source.name)
            self._thread = threading.Thread(target=self._run, name="fleet-poller", daemon=True)
            self._thread.start()
        return self

    def refresh_now(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.done():
            started = self._clock()
            forced = self._wake.is_set()
            self._wake.clear()
            try:
                self.poll_once(force=forced)
            except Exception:  # keep polling whatever happens
                log.exception("poll round failed")
            wait = max(0.0, self.settings.poll_interval_s - (self._clock() - started))
            self._wake.wait(wait)

    def stop(self, keep: Collection[str] = ()) -> dict[str, _ClusterState]:
        """Stop polling and close the collectors, except those of the clusters named in `keep`: their
        state (collector, last data, back-off) is handed back for the next poller (`carried`), with a
        collection still running inside its deadline, which the next poller waits for as its own. A
        collection past its deadline (a hung collector) is never handed over: that cluster gets a new one."""
        with self._lock:
            if not self._stopping.done():
                self._stopping.set_result(None)
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.deadline_s + 5)
            self._thread = None
        self._executor.shutdown(wait=False, cancel_futures=True)
        now = self._clock()
        carried = {}
        for state in self._states:
            if state.in_flight is not None and state.in_flight.cancelled():
                state.in_flight = None  # queued, never started: the next poller submits it afresh
            hung = state.in_flight is not None and now - state.started_at >= self.deadline_s
            if state.source.name in keep and not hung:
                carried[state.source.name] = state
                continue
            try:
                state.source.close()
            except Exception:
                log.debug("closing %s failed", state.source.name, exc_info=True)
        return carried
