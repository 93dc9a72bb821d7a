"""Label and field selectors, parsed as kube-apiserver parses them.

Label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, comma-joined.
Field selectors: `path=value`, `path==value`, `path!=value` over the fields the real server
indexes (metadata.name, metadata.namespace, spec.nodeName, status.phase, type, reason, ...).
"""
from __future__ import annotations

import re
from typing import Any, Callable

Predicate = Callable[[dict[str, Any]], bool]

_SET_TERM = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*))?\s*$")


class SelectorError(ValueError):
    """A selector the real server would refuse with 400 BadRequest."""


def _split_terms(text: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def _label_term(term: str) -> Predicate:
    match = _SET_TERM.match(term)
    if match:
        key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    match = _EQ_TERM.match(term)
    if not match:
        raise SelectorError(f"unable to parse requirement: {term!r}")
    negated, key, op, value = match.groups()
    if op is None:
        return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
    if negated:
        raise SelectorError(f"unable to parse requirement: {term!r}")
    if op == "!=":
        return lambda labels: labels.get(key) != value
    return lambda labels: labels.get(key) == value


def label_selector(text: str | None) -> Predicate:
    """A predicate over an object's metadata.labels."""
    if not text:
        return lambda obj: True
    terms = [_label_term(t) for t in _split_terms(text)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(term(labels) for term in terms)

    return matches


def field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


def field_selector(text: str | None) -> Predicate:
    """A predicate over dotted field paths."""
    if not text:
        return lambda obj: True
    terms: list[tuple[str, bool, str]] = []
    for term in _split_terms(text):
        match = re.match(r"^\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not match:
            raise SelectorError(f"invalid field selector: {term!r}")
        terms.append((match.group(1), match.group(2) != "!=", match.group(3)))

    def matches(obj: dict[str, Any]) -> bool:
        return all((field_value(obj, path) == value) == equal for path, equal, value in terms)

    return matches
