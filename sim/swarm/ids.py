"""Swarmkit-style IDs and Go's time format, shared by the renderers."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

NANO = 1_000_000_000
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def object_id(*parts: object) -> str:
    """A stable swarmkit-style ID (25 base-36 characters) for the object named by `parts`."""
    number = int.from_bytes(hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).digest(), "big")
    digits = []
    for _ in range(25):
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
    return "".join(digits)


def timestamp(ns: int) -> str:
    """RFC 3339 with nanoseconds, as Go writes it (trailing zeros of the fraction dropped)."""
    seconds, fraction = divmod(ns, NANO)
    head = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{head}.{digits}Z" if digits else f"{head}Z"
