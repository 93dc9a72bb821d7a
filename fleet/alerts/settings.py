"""The parsed `alerts:` section of clusters.yaml (validated in fleet/config/alerts.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from fleet.alerts.catalog import (CONDITIONS, DEFAULT_FLAP_WINDOW_ROUNDS, DEFAULT_FOR_ROUNDS,
                                  DEFAULT_RESEND_INTERVAL_S)

if TYPE_CHECKING:
    from fleet.config.types import Secret

DestinationKind = Literal["alertmanager", "webhook"]


@dataclass(frozen=True)
class ConditionSettings:
    enabled: bool = True
    severity: str = "warning"
    for_rounds: int | None = None  # None: the section's for_rounds


@dataclass(frozen=True)
class DestinationConfig:
    name: str
    kind: DestinationKind
    url: str
    # the Authorization header's value, read from auth_header_env / auth_header_file (never the file itself)
    auth_header: Secret | None = field(default=None, repr=False, compare=False)
    conditions: frozenset[str] | None = None  # None: every enabled condition
    severities: frozenset[str] | None = None  # None: both
    timeout_s: float = 5.0
    max_attempts: int = 5

    def wants(self, alertname: str, severity: str) -> bool:
        return (self.conditions is None or alertname in self.conditions) and \
            (self.severities is None or severity in self.severities)


def default_conditions() -> dict[str, ConditionSettings]:
    return {name: ConditionSettings(severity=severity) for name, severity in CONDITIONS.items()}


@dataclass(frozen=True)
class AlertsConfig:
    for_rounds: int = DEFAULT_FOR_ROUNDS
    flap_window_rounds: int = DEFAULT_FLAP_WINDOW_ROUNDS
    resend_interval_s: float = DEFAULT_RESEND_INTERVAL_S
    # the dashboard's address as people reach it: alerts link back to its Alerts page
    external_url: str | None = None
    conditions: dict[str, ConditionSettings] = field(default_factory=default_conditions, hash=False)
    destinations: tuple[DestinationConfig, ...] = ()

    def condition(self, name: str) -> ConditionSettings:
        return self.conditions.get(name) or ConditionSettings(severity=CONDITIONS[name])

    def enabled(self) -> set[str]:
        return {name for name in CONDITIONS if self.condition(name).enabled}

    def for_rounds_of(self, name: str) -> int:
        return self.condition(name).for_rounds or self.for_rounds
