"""Big pod lists digested on the second core: a worker process turns pages of JSON into PodRows.

Decoding a page and digesting its pods is pure CPU under the GIL (~7 µs a pod): at 150,000 pods
that is most of a first collection, on one core while the other idles. So when a pod list is big
(its first page says how many items remain), the collector starts one worker process (spawned:
never forked from a process with running threads) and hands it raw pages as they arrive; the
worker sends back the rows, msgpack-encoded (~1 µs a row to read back). Whenever the worker
already has `IN_FLIGHT` pages queued, the collector's own thread digests the page itself, so
both cores stay busy and the order of the items is kept. If the worker cannot start or dies,
the pages it held are digested inline and the collector carries on without it.
No credentials or connections go to the worker: only page bytes in, rows out.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor

import msgspec

from collectors import kubernetes_wire as w
from collectors.kubernetes_pods import PodRow, digest

log = logging.getLogger(__name__)
OFFLOAD_MIN_ITEMS = 20_000  # smaller lists: not worth a process (~0.2 s to start)
IN_FLIGHT = 8  # pages queued at the worker (~1 MB each) before the collector's thread digests one itself


class DigestedPage(msgspec.Struct, array_like=True, gc=False):
    rows: list[PodRow] = []
    not_a_list: bool = False  # no `items`: not a list payload
    error: str | None = None  # the JSON could not be decoded: msgspec's message


_encoder = msgspec.msgpack.Encoder()
_page_decoder = msgspec.msgpack.Decoder(DigestedPage)


def digest_page(data: bytes) -> DigestedPage:
    """One pod list page to rows (in the worker, or inline)."""
    try:
        page = w.list_decoder(w.Pod).decode(data)
    except msgspec.DecodeError as exc:
        return DigestedPage(error=str(exc))
    if page.items is msgspec.UNSET:
        return DigestedPage(not_a_list=True)
    return DigestedPage(rows=[digest(pod) for pod in page.items or ()])


def digest_page_encoded(data: bytes) -> bytes:
    """The worker's task: its objects hold no cycles, so the cyclic GC is off in that process."""
    gc.disable()
    return _encoder.encode(digest_page(data))


def _ready() -> bool:
    return True


class PodOffload:
    """The worker of one collector, started on the first big pod list and kept until `close`."""

    def __init__(self, min_items: int = OFFLOAD_MIN_ITEMS):
        self.min_items = min_items
        self._pool: ProcessPoolExecutor | None = None
        self._started: Future[bool] | None = None
        self._lock = threading.Lock()
        self.broken = False
        self.pages_offloaded = 0  # for tests and the bench

    def worth(self, first_page_items: int, remaining: int | None) -> bool:
        return not self.broken and first_page_items + (remaining or 0) >= self.min_items

    def start(self, *, wait: bool = False) -> None:
        """Start the worker (once); `wait` until it is up (tests: so it surely takes pages)."""
        with self._lock:
            if self._pool is None and not self.broken:
                try:
                    self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
                    self._started = self._pool.submit(_ready)
                except (OSError, RuntimeError, ValueError) as exc:
                    self._give_up(exc)
            started = self._started
        if wait and started is not None:
            try:
                started.result()
            except Exception as exc:  # BrokenProcessPool: the worker could not start
                self._give_up(exc)

    def has_room(self, queued: int) -> bool:
        """The worker is up and has fewer than IN_FLIGHT pages waiting."""
        started = self._started
        return not self.broken and started is not None and started.done() and queued < IN_FLIGHT

    def submit(self, data: bytes) -> Future[bytes] | None:
        pool = self._pool
        if pool is None or self.broken:
            return None
        try:
            future = pool.submit(digest_page_encoded, data)
        except Exception as exc:  # BrokenProcessPool, shut down
            self._give_up(exc)
            return None
        self.pages_offloaded += 1
        return future

    def collect(self, future: Future[bytes] | None, data: bytes) -> DigestedPage:
        """The rows of a page handed to the worker; digested here if the worker failed."""
        if future is not None:
            try:
                return _page_decoder.decode(future.result())
            except Exception as exc:  # the worker died or sent garbage: do it here
                self._give_up(exc)
        return digest_page(data)

    def _give_up(self, exc: BaseException) -> None:
        if not self.broken:
            log.warning("pod list worker process unavailable (%s: %s); digesting pods in this process",
                        type(exc).__name__, exc)
        self.broken = True

    def close(self) -> None:
        with self._lock:
            pool, self._pool, self._started = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def keyed_rows(rows: list[PodRow]) -> list[tuple[str, PodRow]]:
    """As `kubernetes_pods.keyed_digest` gives them, for the pods cache."""
    return [(row.key, row) for row in rows]
