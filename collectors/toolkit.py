"""What every collector needs, once: the wire struct base, decoding with one error style, short
messages, Retry-After, the secret scrubber, a shared GC pause and the common constants.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, TypeVar

import msgspec

from fleet.gcpause import paused_gc  # noqa: F401  (one GC pause, shared with the analysis)
from fleet.source import MalformedPayload, scrub  # noqa: F401  (one scrubber, shared with the poller)

MIB = 1024 * 1024
# events kept per cluster and round: the newest ones; older ones are history, not state
MAX_EVENTS = 200
# a message longer than this is cut: it has to fit one line of a table or a log
MESSAGE_CHARS = 200

T = TypeVar("T")


class Wire(msgspec.Struct, gc=False):
    """Base of every typed upstream shape. Decoded payloads hold no reference cycles, so keeping
    their 100,000s of objects out of the cyclic GC's sight makes a large cluster's round faster."""


def decode_problem(exc: msgspec.DecodeError) -> str:
    """What is wrong with a payload, in one style for every collector; the caller says where."""
    return f"unexpected shape: {exc}" if isinstance(exc, msgspec.ValidationError) else f"not JSON: {exc}"


_decoders: dict[Any, msgspec.json.Decoder] = {}
_decoders_lock = threading.Lock()


def decoder_for(kind: Any) -> msgspec.json.Decoder:
    """One decoder per type, built under a lock. msgspec builds a Struct type's decoding info on its
    first use; two threads doing that for the same type at once crashed the process (SIGSEGV, seen
    with msgspec 0.22 when two clusters' collectors first decoded Mesos agents together). Building it
    here, one thread at a time, also serves msgspec.convert, which reuses the info kept on the type."""
    decoder = _decoders.get(kind)
    if decoder is None:
        with _decoders_lock:
            decoder = _decoders.get(kind)
            if decoder is None:
                decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    return decoder


def decode(body: bytes | str, kind: type[T], what: str) -> T:
    """Bytes into wire structs; anything else raises MalformedPayload naming `what` (the endpoint)."""
    try:
        decoder = decoder_for(kind)
        with paused_gc():
            return decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedPayload(f"{what}: {decode_problem(exc)}") from None


def convert(value: Any, kind: type[T], what: str) -> T:
    """Already-parsed JSON (an SDK's dicts and lists) into wire structs, with decode's error style."""
    try:
        decoder_for(kind)  # the type's info, built once (see decoder_for)
        with paused_gc():
            return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise MalformedPayload(f"{what}: {decode_problem(exc)}") from None


def short(message: object, limit: int = MESSAGE_CHARS) -> str:
    """One line of at most `limit` characters: upstream errors can be long, nested, multi-line."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds: either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
    None when absent or unreadable; a date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime  # here: worker processes import this module, rarely this

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, infinity
        return None
    return max(0.0, seconds)
