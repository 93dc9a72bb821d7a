"""What is sent (pure): Alertmanager's v2 alert list, and the webhook body Alertmanager itself sends.

Alertmanager (POST /api/v2/alerts, openapi `postableAlerts`): firing alerts carry an `endsAt` a few
resend intervals ahead — the way Prometheus does it — so an alert that Podium stops re-sending (the
process died) expires on its own, while one that is re-sent never does; a resolved alert carries
`endsAt` = the time it resolved. Webhooks get `{version, status, receiver, alerts: [...]}` as in
Alertmanager's webhook_config payload.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from fleet.alerts.state import Alert

ZERO_TIME = "0001-01-01T00:00:00Z"  # what Alertmanager's webhook puts in endsAt of a firing alert
# a firing alert is good for this many resend intervals (or rounds, when rounds are further apart) in
# Alertmanager, as Prometheus does, and never less than MIN_VALID_S
VALID_FOR_RESENDS = 4
MIN_VALID_S = 120.0


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def fingerprint(alert: Alert) -> str:
    text = "\x00".join(f"{k}\x00{v}" for k, v in sorted(alert.labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generator_url(external_url: str | None) -> str | None:
    return external_url.rstrip("/") + "/alerts" if external_url else None


def alertmanager_alerts(alerts: list[Alert], now: datetime, resend_every_s: float,
                        external_url: str | None) -> list[dict[str, Any]]:
    """`resend_every_s`: how long until the next re-send at the latest (resend interval or round gap)."""
    link = generator_url(external_url)
    valid_until = now + timedelta(seconds=max(MIN_VALID_S, VALID_FOR_RESENDS * resend_every_s))
    body = []
    for alert in alerts:
        item: dict[str, Any] = {"labels": alert.labels, "annotations": alert.annotations,
                                "startsAt": rfc3339(alert.since),
                                "endsAt": rfc3339(alert.resolved_at if alert.resolved_at else valid_until)}
        if link:
            item["generatorURL"] = link
        body.append(item)
    return body


def common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def webhook_body(status: str, alerts: list[Alert], receiver: str, external_url: str | None) -> dict[str, Any]:
    link = generator_url(external_url) or ""
    items = [{"status": status, "labels": a.labels, "annotations": a.annotations, "startsAt": rfc3339(a.since),
              "endsAt": rfc3339(a.resolved_at) if a.resolved_at else ZERO_TIME, "generatorURL": link,
              "fingerprint": fingerprint(a)} for a in alerts]
    labels = common([a.labels for a in alerts])
    return {"version": "4", "groupKey": f"podium:{receiver}:{status}", "truncatedAlerts": 0, "status": status,
            "receiver": receiver, "groupLabels": {}, "commonLabels": labels,
            "commonAnnotations": common([a.annotations for a in alerts]), "externalURL": external_url or "",
            "alerts": items}
