"""What the Swarm collector's worker process runs: a part of `/tasks` read with `PlainGet`, digested.

Kept light (no docker SDK, no requests session, no config loader), so the worker is up while the
collector's thread is still reading its first parts. A part not read plainly (an error status, a
broken connection: see collectors/plainget.py) comes back as None and is read again the usual
way, so errors read exactly as they always do; a read past its deadline or over the size ceiling
fails the listing (Unreachable, AnswerTooLarge), as the usual way would.
"""
from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor

import msgspec

from collectors.plainget import PlainGet, PlainTarget
from collectors.swarm.parts import digest_part

_encoder = msgspec.msgpack.Encoder()
_plain: dict[PlainTarget, PlainGet] = {}
_ahead: dict[tuple[str, ...], Future[bytes | None]] = {}  # the next part, read while one is digested
_reader = ThreadPoolExecutor(1, thread_name_prefix="swarm-tasks")


def read_part(target: PlainTarget, api_version: str, timeout_s: float, services: list[str],
              then: list[str] | None) -> bytes | None:
    """One part (already read when it was the last call's `then`), digested and msgpack-encoded,
    or None when it was not read plainly; the part `then` is read meanwhile."""
    plain = _plain.get(target)
    if plain is None or plain.broken:  # a connection failed: the next listing tries afresh
        plain = _plain[target] = PlainGet(target, timeout_s)
    read = _ahead.pop(tuple(services), None)
    for stale in _ahead.values():  # never asked for (the collector's thread took it)
        stale.cancel()
    _ahead.clear()
    if then:
        _ahead[tuple(then)] = _reader.submit(part_body, plain, api_version, then)
    body = read.result() if read is not None else part_body(plain, api_version, services)
    return None if body is None else _encoder.encode(digest_part(body, frozenset(services)))


def part_body(plain: PlainGet, api_version: str, services: list[str]) -> bytes | None:
    return plain.get(f"/v{api_version}/tasks", {"filters": json.dumps({"service": services})})
