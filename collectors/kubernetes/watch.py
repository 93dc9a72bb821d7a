"""List-then-watch caches: one per resource, kept fresh between collection rounds.

A cache lists its resource once (paged), then a daemon thread watches from the list's
resourceVersion with bookmarks and applies ADDED/MODIFIED/DELETED as they arrive. When the
watch fails (410 Expired after compaction, a dropped connection, an error event) the cache marks
itself unsynced and stops; the collector's next round lists again, in its own thread, so that
errors surface as the cluster's status rather than dying in a background thread. A watch that
could not even be opened is tried once more first, from the same resourceVersion: after the server
ends a watch the next one is sent at once, often on a kept-alive connection the server was closing.

A watch is a bounded stream (collectors.deadline): opening it takes at most the round's
timeout_s; then every complete line (an event or a BOOKMARK) renews its budget for a heartbeat
of WATCH_TIMEOUT_S + HEARTBEAT_MARGIN_S. The server ends a healthy watch at WATCH_TIMEOUT_S, so
a stream silent (or dripping bytes without completing a line) past the heartbeat is broken:
it is cut, and the next round lists and watches again. `stop` cuts it too, whatever the server does.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any, Callable, Generic, TypeVar

import msgspec

from collectors.kubernetes import wire as w
from collectors.deadline import Budget
from collectors.kubernetes.client import PAGE_SIZE, Gone, KubeConnection, PageSink, iter_lines
from collectors.toolkit import decoder_for
from fleet.source import SourceError, Unreachable, UpstreamError

log = logging.getLogger(__name__)
T = TypeVar("T")
WATCH_TIMEOUT_S = 290  # the server ends a watch after this; we then resume from the last resourceVersion
HEARTBEAT_MARGIN_S = 30  # a watch with no complete line for WATCH_TIMEOUT_S + this is cut
OPEN_TIMEOUT_S = 30.0  # opening a watch, when the round did not say (start_watch's timeout_s)
_event_decoder = msgspec.json.Decoder(w.WatchEvent)
_head_decoder = msgspec.json.Decoder(w.ObjectHead)
_status_decoder = msgspec.json.Decoder(w.Status)
# numbers every change of every cache, process-wide: a cache made afresh never repeats an old one's
_generations = itertools.count(1)


def object_key(meta: Any) -> str:
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name


def _as_is(item: Any) -> tuple[str, Any]:
    return object_key(item.metadata), item


class ResourceCache(Generic[T]):
    def __init__(self, connection: KubeConnection, path: str, item_type: type[T],
                 on_change: Callable[[], None] | None = None, page_size: int = PAGE_SIZE,
                 keyed: Callable[[T], tuple[str, Any]] | None = None, params: dict[str, str] | None = None,
                 sink: PageSink | None = None):
        self.connection, self.path, self.item_type = connection, path, item_type
        self.sink = sink  # pods: big lists digested in a worker process
        self.page_size = page_size
        # what the cache keeps of an object, under which key (default: the object, by namespace/name)
        self._keyed: Callable[[T], tuple[str, Any]] = keyed or _as_is
        self.params = params or {}  # e.g. a fieldSelector, for the list and the watch alike
        self._decoder = decoder_for(item_type)
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._on_change = on_change
        self.resource_version = ""
        self.synced = False
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._budget: Budget | None = None  # the open watch's: `stop` cuts it
        self._streamed = False  # whether the last watch got as far as its stream
        self.open_timeout_s = OPEN_TIMEOUT_S
        self.generation = 0  # the number of the cache's latest change (a list or a watch event)
        self.seen = 0  # the generation of what `values` last returned

    # -- listing (in the collector's thread) ----------------------------------------------------
    def relist(self, timeout_s: float) -> None:
        pairs, resource_version = self.connection.list_all(self.path, self.item_type, timeout_s=timeout_s,
                                                            page_size=self.page_size, convert=self._keyed,
                                                            params=self.params, sink=self.sink)
        with self._lock:
            self._items = dict(pairs)
            self.generation = next(_generations)
            self.resource_version = resource_version
            self.synced, self.failure = True, None

    def values(self) -> list[Any]:
        with self._lock:
            self.seen = self.generation
            return list(self._items.values())

    # -- watching (in a daemon thread) ----------------------------------------------------------
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_watch(self, timeout_s: float = OPEN_TIMEOUT_S) -> None:
        if self.watching() or self._stop.is_set():
            return
        self.open_timeout_s = timeout_s
        self._thread = threading.Thread(target=self._run, name=f"watch {self.path}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        reopened = False
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._watch_once()
                reopened = False
            except Gone:
                self._fail("watch expired (410); listing again next round")
                return
            except SourceError as exc:
                if self._stop.is_set():
                    return
                if isinstance(exc, Unreachable) and not self._streamed and not reopened:
                    # not even opened: most often a kept-alive connection the server (or a proxy)
                    # closed as the request came. Once more, on a fresh connection, from the same
                    # resourceVersion: a relist of 150,000 pods is the costly way to learn that.
                    reopened = True
                    continue
                self._fail(exc.message)
                return
            except Exception as exc:  # a broken stream must never take the process down
                if self._stop.is_set():
                    return
                self._fail(f"watch of {self.path} broke: {type(exc).__name__}: {exc}")
                return
            if time.monotonic() - started < 1.0:
                self._stop.wait(1.0)  # a server that ends watches at once must not be hammered

    def _fail(self, message: str) -> None:
        log.info("%s on %s: %s", self.path, self.connection.server, message)
        with self._lock:
            self.synced, self.failure = False, message

    def _watch_once(self) -> None:
        params = {**self.params, "watch": "1", "resourceVersion": self.resource_version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": WATCH_TIMEOUT_S}
        heartbeat_s = WATCH_TIMEOUT_S + HEARTBEAT_MARGIN_S
        connection, what = self.connection, f"watch of {self.path} on {self.connection.server}"
        self._streamed = False
        try:
            with connection.within(self.open_timeout_s, self.path, what) as budget:
                self._budget = budget
                if self._stop.is_set():  # stopped while this one was being set up: `stop` found no budget
                    return
                response = connection.stream(self.path, params, connect_s=self.open_timeout_s,
                                             read_timeout_s=heartbeat_s + 1)
                self._streamed = True
                budget.seconds = heartbeat_s  # from now on the budget is the heartbeat
                budget.renew()
                try:
                    for line in iter_lines(response, budget.max_bytes, what):
                        budget.renew()
                        if self._stop.is_set():
                            return
                        self._apply(_event_decoder.decode(line))
                finally:
                    response.release_conn()
        except Unreachable:
            if not self._streamed or self._stop.is_set():
                raise
            raise Unreachable(f"{what} went silent (or trickled) past its {heartbeat_s:g}s heartbeat: "
                              "cut; listing again next round") from None
        finally:
            self._budget = None

    def _apply(self, event: w.WatchEvent) -> None:
        if event.type == "ERROR":
            status = _status_decoder.decode(event.object)
            if status.code == 410:
                raise Gone(status.message)
            raise UpstreamError(f"watch of {self.path} on {self.connection.server}: {status.code} {status.message}")
        if event.type == "BOOKMARK":
            self.resource_version = _head_decoder.decode(event.object).metadata.resource_version
            return
        item = self._decoder.decode(event.object)
        meta = item.metadata  # type: ignore[attr-defined]
        with self._lock:
            if event.type == "DELETED":
                self._items.pop(object_key(meta), None)
            else:
                key, value = self._keyed(item)
                self._items[key] = value
            self.generation = next(_generations)
            self.resource_version = meta.resource_version
        if self._on_change:
            self._on_change()

    def stop(self) -> None:
        """Stop watching, at once: the open watch is cut, so its thread wakes whatever the server does."""
        self._stop.set()
        budget = self._budget
        if budget is not None:
            budget.cut()
        if self._thread is not None:
            self._thread.join(timeout=5)
