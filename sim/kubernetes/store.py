"""The emulator's object store: resourceVersions, sorted keys, paged lists and a watch history.

Objects are kept as dicts (for selectors) beside their JSON encoding (so a list of 150,000 pods
is a join of ready bytes). Every write takes the next resourceVersion and appends to a bounded
history that watches read; history older than what is kept answers 410 Expired, like etcd
compaction. Continue tokens carry the list's resourceVersion and expire the same way.
"""
from __future__ import annotations

import base64
import bisect
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import msgspec

from sim.kubernetes.resources import Resource

Predicate = Callable[[dict[str, Any]], bool]
_encode = msgspec.json.encode


class Expired(Exception):
    """A continue token or resourceVersion older than the kept history (HTTP 410)."""


class BadContinue(Exception):
    """A continue token that does not decode (HTTP 400)."""


@dataclass
class Entry:
    obj: dict[str, Any]
    raw: bytes


@dataclass
class Change:
    rv: int
    resource: tuple[str, str]
    type: str  # ADDED / MODIFIED / DELETED
    entry: Entry


@dataclass
class Page:
    entries: list[Entry]
    resource_version: int
    continue_token: str | None
    remaining: int | None

    @property
    def items(self) -> list[bytes]:
        return [entry.raw for entry in self.entries]


def object_key(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    def __init__(self, history: int = 100_000):
        self.rv = 1000
        self.compacted_rv = 0  # continue tokens and watches from before this answer 410
        self._objects: dict[tuple[str, str], dict[str, Entry]] = {}
        self._sorted: dict[tuple[str, str], list[str]] = {}
        self.history: deque[Change] = deque(maxlen=history)
        self.changed = threading.Condition()
        self.closed = False

    # -- writes ---------------------------------------------------------------------------------
    def put(self, resource: Resource, obj: dict[str, Any], *, stamp: bool = True) -> dict[str, Any]:
        """Create or replace an object (ADDED or MODIFIED), stamping uid and creation time (unless
        `stamp` is off: recorded payloads are served as they are) and always the resourceVersion."""
        with self.changed:
            objects = self._objects.setdefault(resource.key, {})
            key = object_key(obj)
            meta = obj.setdefault("metadata", {})
            previous = objects.get(key)
            if previous is not None and stamp:
                meta.setdefault("uid", previous.obj["metadata"].get("uid"))
                meta.setdefault("creationTimestamp", previous.obj["metadata"].get("creationTimestamp"))
            if stamp:
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now_rfc3339())
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            entry = Entry(obj, _encode(obj))
            objects[key] = entry
            if previous is None:
                self._sorted.pop(resource.key, None)
            self._record(Change(self.rv, resource.key, "MODIFIED" if previous else "ADDED", entry))
            return obj

    def delete(self, resource: Resource, key: str) -> None:
        with self.changed:
            entry = self._objects.get(resource.key, {}).pop(key, None)
            if entry is None:
                return
            self._sorted.pop(resource.key, None)
            self.rv += 1
            entry.obj["metadata"]["resourceVersion"] = str(self.rv)
            self._record(Change(self.rv, resource.key, "DELETED", Entry(entry.obj, _encode(entry.obj))))

    def _record(self, change: Change) -> None:
        if len(self.history) == self.history.maxlen:
            self.compacted_rv = self.history[0].rv
        self.history.append(change)
        self.changed.notify_all()

    def compact(self) -> None:
        """Forget all history, as etcd compaction does: older tokens and watches get 410."""
        with self.changed:
            self.history.clear()
            self.rv += 1
            self.compacted_rv = self.rv

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    # -- reads ----------------------------------------------------------------------------------
    def get(self, resource: Resource, key: str) -> Entry | None:
        return self._objects.get(resource.key, {}).get(key)

    def count(self, resource: Resource) -> int:
        return len(self._objects.get(resource.key, {}))

    def objects(self, resource: Resource) -> list[dict[str, Any]]:
        with self.changed:
            return [e.obj for e in self._objects.get(resource.key, {}).values()]

    def _keys(self, resource: Resource) -> list[str]:
        keys = self._sorted.get(resource.key)
        if keys is None:
            keys = self._sorted[resource.key] = sorted(self._objects.get(resource.key, {}))
        return keys

    def list(self, resource: Resource, *, namespace: str | None, match: Predicate, limit: int | None,
             continue_token: str | None) -> Page:
        with self.changed:
            rv, start = self.rv, ""
            if continue_token:
                rv, start = self._decode_continue(continue_token)
            objects = self._objects.get(resource.key, {})
            keys = self._keys(resource)
            prefix = f"{namespace}/" if namespace else ""
            index = bisect.bisect_left(keys, max(start, prefix))
            items: list[Entry] = []
            while index < len(keys) and keys[index].startswith(prefix):
                entry = objects[keys[index]]
                index += 1
                if match(entry.obj):
                    items.append(entry)
                    if limit and len(items) >= limit:
                        break
            more = index < len(keys) and keys[index].startswith(prefix) and bool(limit) and len(items) >= limit
            if not more:
                return Page(items, rv, None, None)
            rest = bisect.bisect_left(keys, prefix + "\uffff") if prefix else len(keys)
            token = self._encode_continue(rv, keys[index - 1] + "\x00")
            return Page(items, rv, token, rest - index)

    def _encode_continue(self, rv: int, start: str) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode_continue(self, token: str) -> tuple[int, str]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            rv, start = int(data["rv"]), str(data["start"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadContinue(f"continue key is not valid: {exc}") from None
        if rv < self.compacted_rv:
            raise Expired("The provided continue parameter is too old to display a consistent list result. "
                          "You can start a new list without the continue parameter, or use the continue "
                          "token in this response to retrieve the remainder of the results. Continuing "
                          "with the provided token results in an inconsistent list - objects that were "
                          "created, modified, or deleted between the time the first chunk was returned "
                          "and now may show up in the list.")
        return rv, start

    # -- watch ----------------------------------------------------------------------------------
    def changes_after(self, resource: Resource, rv: int, wait_s: float) -> tuple[list[Change], int]:
        """Changes to `resource` after `rv` (waiting up to wait_s for one), and the newest rv seen."""
        with self.changed:
            if rv < self.compacted_rv:
                raise Expired(f"too old resource version: {rv} ({self.compacted_rv})")
            if not self._pending(rv) and not self.closed:
                self.changed.wait(wait_s)
            if rv < self.compacted_rv:
                raise Expired(f"too old resource version: {rv} ({self.compacted_rv})")
            found = [c for c in self._after(rv) if c.resource == resource.key][::-1]
            return found, self.rv

    def _pending(self, rv: int) -> bool:
        return bool(self.history) and self.history[-1].rv > rv

    def _after(self, rv: int) -> Iterator[Change]:
        for change in reversed(self.history):
            if change.rv <= rv:
                break
            yield change

    def snapshot(self, resource: Resource, namespace: str | None, match: Predicate) -> tuple[list[Entry], int]:
        with self.changed:
            entries = [e for k, e in self._objects.get(resource.key, {}).items()
                       if (not namespace or k.startswith(f"{namespace}/")) and match(e.obj)]
            return entries, self.rv
