"""The engine's `filters` query parameter and `since`/`until` times.

`filters` is JSON: `{"key": {"value": true}}` (what the docker CLI sends) or the older
`{"key": ["value"]}` (what docker-py sends); both mean the same. An unknown key is a 400
"invalid filter 'key'", malformed JSON a 400 as well (dockerd 23+; older engines said 500).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sim.httpserver import Request


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Filters:
    terms: dict[str, set[str]] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return tuple(sorted((k, tuple(sorted(v))) for k, v in self.terms.items()))

    def values(self, name: str) -> set[str]:
        return self.terms.get(name, set())

    def _labels(self, labels: dict[str, str], name: str = "label") -> bool:
        for term in self.values(name):
            key, has_value, value = term.partition("=")
            if key not in labels or (has_value and labels[key] != value):
                return False
        return True

    def _one_of(self, name: str, *candidates: str, prefix: bool = False) -> bool:
        wanted = self.values(name)
        if not wanted:
            return True
        return any(c in wanted or (prefix and any(c.startswith(w) for w in wanted)) for c in candidates)

    def node(self, node: dict[str, Any]) -> bool:
        return (self._one_of("id", node["ID"], prefix=True) and self._one_of("role", node["Spec"]["Role"])
                and self._one_of("name", node["Description"]["Hostname"])
                and self._one_of("membership", "accepted") and self._labels(node["Spec"].get("Labels", {}), "node.label")
                and self._labels(node["Spec"].get("Labels", {})))

    def service(self, service: dict[str, Any]) -> bool:
        mode = "global" if "Global" in service["Spec"]["Mode"] else "replicated"
        return (self._one_of("id", service["ID"], prefix=True) and self._one_of("name", service["Spec"]["Name"], prefix=True)
                and self._one_of("mode", mode) and self._labels(service["Spec"].get("Labels", {})))

    def task(self, row: Any) -> bool:
        return (self._one_of("id", row.id, prefix=True) and self._one_of("desired-state", row.desired)
                and self._one_of("name", row.name, prefix=True) and self._labels(row.labels))

    def container(self, container: dict[str, Any]) -> bool:
        return (self._labels(container["Labels"]) and self._one_of("status", container["State"])
                and self._one_of("id", container["Id"], prefix=True)
                and self._one_of("name", *(n.lstrip("/") for n in container["Names"])))

    def event(self, item: dict[str, Any]) -> bool:
        kind, actor = item["Type"], item["Actor"]
        attributes = actor.get("Attributes", {})
        same_kind = {"container", "service", "node", "network", "image", "volume", "config", "secret", "plugin", "daemon"}
        for name in same_kind & set(self.terms):
            if kind != name or not self._one_of(name, actor["ID"], attributes.get("name", "")):
                return False
        return (self._one_of("type", kind) and self._one_of("event", item["Action"])
                and self._one_of("scope", item.get("scope", "local")) and self._labels(attributes))


def parse_filters(request: Request, known: tuple[str, ...]) -> Filters:
    text = request.param("filters")
    if not text:
        return Filters()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"invalid filter: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid filter: not a JSON object")
    terms: dict[str, set[str]] = {}
    for name, values in raw.items():
        if name not in known:
            raise ApiError(400, f"invalid filter '{name}'")
        if isinstance(values, dict):
            terms[name] = {k for k, on in values.items() if on}
        elif isinstance(values, list):
            terms[name] = {str(v) for v in values}
        else:
            raise ApiError(400, f"invalid filter '{name}': values must be a list or a map")
    return Filters(terms)


def parse_time_ns(text: str | None, now_ns: int) -> int | None:
    """`since`/`until`: Unix seconds with an optional fraction ("1700000000.123456789"), as the CLI sends."""
    if not text:
        return None
    seconds, _, fraction = text.partition(".")
    try:
        return int(seconds) * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])
    except ValueError:
        raise ApiError(400, f"invalid value for time: {text!r}") from None
