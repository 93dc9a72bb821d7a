"""List-then-watch caches: one per resource, kept fresh between collection rounds.

A cache lists its resource once (paged), then a daemon thread watches from the list's
resourceVersion with bookmarks and applies ADDED/MODIFIED/DELETED as they arrive. When the
watch fails (410 Expired after compaction, a dropped connection, an error event) the cache marks
itself unsynced and stops; the collector's next round lists again, in its own thread, so that
errors surface as the cluster's status rather than dying in a background thread.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Generic, TypeVar

import msgspec

from collectors.kubernetes import wire as w
from collectors.kubernetes.client import PAGE_SIZE, Gone, KubeConnection, PageSink, iter_lines
from fleet.source import SourceError, UpstreamError

log = logging.getLogger(__name__)
T = TypeVar("T")
WATCH_TIMEOUT_S = 290  # the server ends a watch after this; we then resume from the last resourceVersion
_event_decoder = msgspec.json.Decoder(w.WatchEvent)
_head_decoder = msgspec.json.Decoder(w.ObjectHead)
_status_decoder = msgspec.json.Decoder(w.Status)


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
        self._decoder = msgspec.json.Decoder(item_type)
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._on_change = on_change
        self.resource_version = ""
        self.synced = False
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None

    # -- listing (in the collector's thread) ----------------------------------------------------
    def relist(self, timeout_s: float) -> None:
        pairs, resource_version = self.connection.list_all(self.path, self.item_type, timeout_s=timeout_s,
                                                            page_size=self.page_size, convert=self._keyed,
                                                            params=self.params, sink=self.sink)
        with self._lock:
            self._items = dict(pairs)
            self.resource_version = resource_version
            self.synced, self.failure = True, None

    def values(self) -> list[Any]:
        with self._lock:
            return list(self._items.values())

    # -- watching (in a daemon thread) ----------------------------------------------------------
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_watch(self) -> None:
        if self.watching() or self._stop.is_set():
            return
        self._thread = threading.Thread(target=self._run, name=f"watch {self.path}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._watch_once()
            except Gone:
                self._fail("watch expired (410); listing again next round")
                return
            except SourceError as exc:
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
        self._response = response = self.connection.stream(self.path, params, read_timeout_s=WATCH_TIMEOUT_S + 30)
        try:
            for line in iter_lines(response):
                if self._stop.is_set():
                    return
                self._apply(_event_decoder.decode(line))
        finally:
            self._response = None
            response.release_conn()

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
            self.resource_version = meta.resource_version
        if self._on_change:
            self._on_change()

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown()
            except Exception:  # already closed
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
