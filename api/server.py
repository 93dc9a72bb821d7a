"""The dashboard process as a server: the fleet starts with it, and the API routes sit beside the pages.

`app.py` builds one `Server` when `streamlit run app.py` imports it; its lifespan (Streamlit's
`st.App(lifespan=…)`) starts the fleet runtime before the first request, so collection, /readyz,
/metrics and (later) alerts work while no browser has opened a page.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

from starlette.routing import Route

from api.metrics import FleetMetrics
from api.published import Publisher
from api.routes import Api
from fleet.analysis import SnapshotAnalysis, analyze
from fleet.model import Snapshot
from fleet.runtime import FleetRuntime

log = logging.getLogger(__name__)

Analyze = Callable[[Snapshot], Any]  # a shared per-snapshot job: `.job(snapshot)` → wait()/result()


class SharedAnalysis:
    """The fleet analysis of each round, computed once and shared: the Resilience page's background
    jobs when given (so a page view and the API never analyze the same snapshot twice)."""

    def __init__(self, jobs: Any = None):
        self._jobs = jobs
        self._lock = threading.Lock()
        self._last: SnapshotAnalysis | None = None

    def result(self, snapshot: Snapshot) -> SnapshotAnalysis:
        analysis = self._jobs.job(snapshot).result() if self._jobs is not None else analyze(snapshot)
        with self._lock:
            self._last = analysis
        return analysis

    def start(self, snapshot: Snapshot) -> None:
        if self._jobs is not None:
            self._jobs.job(snapshot)

    def latest(self, snapshot: Snapshot) -> SnapshotAnalysis | None:
        """This snapshot's analysis when done, else the last one finished (a scrape never waits)."""
        if self._jobs is not None:
            job = self._jobs.job(snapshot)
            if job.wait(0):
                return self.result(snapshot)
        return self._last


class Server:
    def __init__(self, runtime: Callable[[], FleetRuntime], jobs: Any = None,
                 round_hooks: tuple[Callable[[Snapshot], None], ...] = ()):
        """`round_hooks`: more per-round work of the process serving (the dashboard's, say)."""
        self._make_runtime = runtime
        self._round_hooks = round_hooks
        self.runtime: FleetRuntime | None = None
        self.analysis = SharedAnalysis(jobs)
        self.publisher = Publisher(self.latest, self.analysis.result)
        self.metrics = FleetMetrics(self.latest, self.analysis.latest)
        self.api = Api(lambda: self.runtime, self.publisher, self.metrics)

    def latest(self) -> Snapshot | None:
        return self.runtime.snapshot() if self.runtime is not None else None

    def routes(self) -> list[Route]:
        return self.api.routes()

    def start(self) -> FleetRuntime:
        """Start (or join) the process's fleet runtime and subscribe to its rounds."""
        runtime = self._make_runtime()
        for hook in self._round_hooks:  # first: the dashboard's tables, which pages wait for, start first
            runtime.on_round(hook)
        runtime.on_round(self._round)
        runtime.on_cluster(self.metrics.observe)
        self.runtime = runtime
        return runtime

    def _round(self, snapshot: Snapshot) -> None:
        self.publisher.warm(snapshot)
        self.analysis.start(snapshot)

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[dict[str, Any]]:
        runtime = await asyncio.to_thread(self.start)  # loads the config, may start the demo fleet
        log.info("fleet runtime started with the server (%s)", runtime.config_path)
        try:
            yield {"fleet_runtime": runtime}
        finally:
            await asyncio.to_thread(runtime.stop)
