"""How numbers look on a page: bytes, cores, ages. Units and badges as data, not scattered code."""
from __future__ import annotations

from datetime import datetime, timezone

from fleet.model import Autoscaler

STATUS_BADGES: dict[str, tuple[str, str]] = {
    # status -> (colour name Streamlit understands, icon)
    "ok": ("green", ":material/check_circle:"),
    "degraded": ("orange", ":material/warning:"),
    "unreachable": ("red", ":material/cloud_off:"),
    "unauthorized": ("red", ":material/lock:"),
    "error": ("red", ":material/error:"),
    "collecting": ("blue", ":material/hourglass_top:"),  # not collected yet: the first round is running
}
CLUSTER_STATUS_COLOURS = {status: colour for status, (colour, _) in STATUS_BADGES.items()}
WORKLOAD_STATUS_COLOURS = {"healthy": "green", "progressing": "blue", "degraded": "orange", "failed": "red",
                           "completed": "gray", "stopped": "gray", "unknown": "gray"}
INSTANCE_STATE_COLOURS = {"running": "green", "pending": "blue", "succeeded": "gray", "failed": "red",
                          "stopped": "gray", "unknown": "gray"}
INSTANCE_HEALTH_COLOURS = {"healthy": "green", "unhealthy": "red", "unknown": "gray"}
NODE_STATUS_COLOURS = {"ready": "green", "not_ready": "red", "down": "red", "unknown": "gray"}
SERVICE_STATUS_COLOURS = {"ok": "green", "degraded": "orange", "down": "red", "unknown": "gray"}
# what a table shows for an absent value, as human_bytes and cores do
MISSING = "—"


def human_bytes(value: float | None) -> str:
    if value is None:
        return MISSING
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(amount) < 1024 or unit == "PiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} PiB"


def cores(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def ratio(part: float, whole: float) -> float:
    return min(1.0, part / whole) if whole else 0.0


def ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "never"
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - when).total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m ago"
    return f"{seconds // 86400}d ago"


def badge(status: str) -> str:
    colour, icon = STATUS_BADGES.get(status, ("gray", ":material/help:"))
    return f":{colour}-badge[{icon} {status}]"


SEVERITY_COLOURS = {"critical": "red", "error": "orange", "warning": "yellow", "info": "blue"}


def severity_badge(severity: str) -> str:
    return f":{SEVERITY_COLOURS.get(severity, 'gray')}-badge[{severity}]"


def autoscaler_text(scaler: Autoscaler | None) -> str:
    """`1 ≤ 3 ≤ 3, at max · avg_cpu …`: min ≤ current ≤ max, whether it is held at a bound, its metrics."""
    if scaler is None:
        return ""
    low = "?" if scaler.min is None else scaler.min
    now = "?" if scaler.current is None else scaler.current
    text = f"{low} ≤ {now} ≤ {scaler.max}"
    if scaler.desired is not None and scaler.desired != scaler.current:
        text += f" (wants {scaler.desired})"
    if scaler.limited:
        text += ", limited"
    return " · ".join([text, *scaler.metrics])
