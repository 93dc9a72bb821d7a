"""The `?filter=` expressions Nomad's list endpoints take (go-bexpr), for the subset in common use.

Supported: selectors with dots (`DeploymentStatus.Healthy`, `Meta["k"]` is not), `==`, `!=`,
`is empty`, `is not empty`, `contains`, `not contains`, `matches`, `and`, `or`, `not`, parentheses,
and values that are quoted strings, numbers or true/false. A selector that does not resolve makes
the comparison false, as go-bexpr does for missing map keys. A malformed expression raises
`FilterError`, which the API answers with 400 like Nomad.
"""
from __future__ import annotations

import re
from typing import Any, Callable

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*"|`[^`]*`)|(==|!=)|([A-Za-z_][\w.\-]*)|(-?\d+(?:\.\d+)?))')
_MISSING = object()


class FilterError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise FilterError(f"failed to parse filter at offset {pos}: {text[pos:pos + 20]!r}")
        kinds = ("(", ")", "str", "op", "word", "num")
        kind = next(k for k, g in zip(kinds, match.groups()) if g is not None)
        out.append((kind, match.group(match.lastindex or 0)))
        pos = match.end()
    return out


def _select(item: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(item, dict) or part not in item:
            return _MISSING
        item = item[part]
    return item


def _value(kind: str, text: str) -> Any:
    if kind == "str":
        return bytes(text[1:-1], "utf-8").decode("unicode_escape") if text[0] == '"' else text[1:-1]
    if kind == "num":
        return float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return text == "true"
    raise FilterError(f"expected a value, got {text!r}")


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or (isinstance(actual, bool) and actual == expected)
    return actual == expected


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of filter")
        self.pos += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1] in words:
            self.pos += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek()[1]!r} in filter")
        return predicate

    def disjunction(self) -> Predicate:
        left = self.conjunction()
        while self.word("or"):
            right, first = self.conjunction(), left
            left = lambda item, a=first, b=right: a(item) or b(item)  # noqa: E731
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.word("and"):
            right, first = self.unary(), left
            left = lambda item, a=first, b=right: a(item) and b(item)  # noqa: E731
        return left

    def unary(self) -> Predicate:
        if self.word("not"):
            inner = self.unary()
            return lambda item: not inner(item)
        if self.peek() and self.peek()[0] == "(":
            self.take()
            inner = self.disjunction()
            if self.take()[0] != ")":
                raise FilterError("missing ) in filter")
            return inner
        return self.match()

    def match(self) -> Predicate:
        kind, path = self.take()
        if kind != "word":
            raise FilterError(f"expected a selector, got {path!r}")
        if self.word("is"):
            negate = self.word("not")
            if not self.word("empty"):
                raise FilterError("expected 'empty' after 'is'")
            return lambda item: _is_empty(_select(item, path)) != negate
        negate = self.word("not")
        if self.word("contains", "matches"):
            word = self.tokens[self.pos - 1][1]
            value = _value(*self.take())
            test = (lambda v: value in v if isinstance(v, (list, str, dict)) else False) if word == "contains" \
                else (lambda v: isinstance(v, str) and re.search(str(value), v) is not None)
            return lambda item: test(_select(item, path)) != negate
        op_kind, op = self.take()
        if op_kind != "op":
            raise FilterError(f"expected an operator after {path!r}, got {op!r}")
        value = _value(*self.take())
        if op == "==":
            return lambda item: _equal(_select(item, path), value)
        return lambda item: (found := _select(item, path)) is not _MISSING and not _equal(found, value)


def _is_empty(value: Any) -> bool:
    return value is _MISSING or value is None or value == "" or value == [] or value == {}


def compile_filter(text: str) -> Predicate:
    return _Parser(text).parse()
