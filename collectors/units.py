"""Resource quantities as orchestrators write them, turned into cores and bytes.

Kubernetes quantities (`resource.Quantity`) are a signed decimal number followed by one suffix:
binary SI (`Ki Mi Gi Ti Pi Ei`, powers of 1024), decimal SI (`n u m` `k M G T P E`, powers of
1000) or a decimal exponent (`e3`, `E-2`). The number may have a fraction (`1.5Gi`, `.5`).
Recorded payloads sometimes carry a bare JSON number instead of a string; that is accepted too.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from decimal import Decimal, InvalidOperation

BINARY_SUFFIXES: dict[str, int] = {
    "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "Pi": 1024 ** 5, "Ei": 1024 ** 6,
}
DECIMAL_SUFFIXES: dict[str, Decimal] = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")

Quantity = str | int | float


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(value: Quantity) -> Decimal:
    """The exact value of a quantity: `parse_quantity("1.5Gi") == 1610612736`."""
    if isinstance(value, bool):
        raise QuantityError(f"not a quantity: {value!r}")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = _QUANTITY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise QuantityError(f"not a quantity: {value!r}")
    number, suffix = match.group(1), match.group(2) or ""
    try:
        amount = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise QuantityError(f"not a quantity: {value!r}") from exc
    if suffix in BINARY_SUFFIXES:
        return amount * BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return amount * DECIMAL_SUFFIXES[suffix]
    return amount.scaleb(int(suffix[1:]))


def cpu_cores(value: Quantity | None) -> float:
    """CPU in cores: `"250m"` → 0.25, `"487558164n"` → 0.487558164. None or empty → 0."""
    if value is None or value == "":
        return 0.0
    return _cpu_cores(value)


def mem_bytes(value: Quantity | None) -> int:
    """Bytes, rounded up as Kubernetes does for a fractional byte count. None or empty → 0."""
    if value is None or value == "":
        return 0
    return _mem_bytes(value)


# big lists repeat the same few quantities ("100m", "128Mi"): parse each spelling once
@lru_cache(maxsize=8192)
def _cpu_cores(value: Quantity) -> float:
    return float(parse_quantity(value))


@lru_cache(maxsize=8192)
def _mem_bytes(value: Quantity) -> int:
    return math.ceil(parse_quantity(value))
