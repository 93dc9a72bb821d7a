"""The `alerts:` section of clusters.yaml → AlertsConfig, every problem with file, line and key.

    alerts:
      for_rounds: 2                  # rounds a condition must hold before it fires
      flap_window_rounds: 20         # see docs/alerts.md (flapping)
      resend_interval_s: 60          # Alertmanager: re-send active alerts this often
      external_url: https://podium.example   # alerts link back to its Alerts page
      conditions:
        PodiumNodeNotReady: {severity: critical, for_rounds: 3}
        PodiumWorkloadDegraded: {enabled: false}
      destinations:
        - name: alertmanager
          type: alertmanager         # or webhook
          url: http://alertmanager:9093
          auth_header_env: AM_AUTH   # or auth_header_file: the Authorization header's value, never here
          conditions: [PodiumClusterDown, PodiumNodeNotReady]   # default: all
          severities: [critical]     # default: both
          timeout_s: 5
          max_attempts: 5
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fleet.alerts.catalog import CONDITIONS, SEVERITIES
from fleet.alerts.settings import AlertsConfig, ConditionSettings, DestinationConfig, default_conditions
from fleet.config.files import line_of
from fleet.config.types import ConfigProblem, Secret

SECTION_KEYS = ("for_rounds", "flap_window_rounds", "resend_interval_s", "external_url", "conditions", "destinations")
CONDITION_KEYS = ("enabled", "severity", "for_rounds")
DESTINATION_KEYS = ("name", "type", "url", "auth_header_env", "auth_header_file", "conditions", "severities",
                    "timeout_s", "max_attempts")
DESTINATION_KINDS = ("alertmanager", "webhook")


def _positive_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value > 0


def _positive_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


class _Alerts:
    def __init__(self, file: str, base_dir: Path, resolve_secrets: bool, environ: dict[str, str]):
        self.file, self.base_dir, self.resolve_secrets, self.environ = file, base_dir, resolve_secrets, environ
        self.problems: list[ConfigProblem] = []

    def problem(self, mapping: Any, key: str | int, path: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.file, line_of(mapping, key), path, message))

    def unknown_keys(self, raw: dict, known: tuple[str, ...], where: str) -> None:
        for key in raw:
            if key not in known:
                self.problem(raw, key, f"{where}.{key}", f"unknown key; known keys: {', '.join(known)}")

    def section(self, doc: Any) -> AlertsConfig:
        raw = doc.get("alerts")
        if raw is None:
            return AlertsConfig()
        if not isinstance(raw, dict):
            self.problem(doc, "alerts", "alerts", "must be a mapping (see docs/alerts.md)")
            return AlertsConfig()
        self.unknown_keys(raw, SECTION_KEYS, "alerts")
        values: dict[str, Any] = {}
        for key, valid, expected, convert in (
                ("for_rounds", _positive_int, "a positive whole number", int),
                ("flap_window_rounds", _positive_int, "a positive whole number", int),
                ("resend_interval_s", _positive_number, "a positive number of seconds", float)):
            if key in raw:
                if valid(raw[key]):
                    values[key] = convert(raw[key])
                else:
                    self.problem(raw, key, f"alerts.{key}", f"must be {expected}, got {raw[key]!r}")
        if "external_url" in raw:
            values["external_url"] = self.url(raw, "external_url", "alerts.external_url")
        conditions = self.conditions(raw)
        destinations = self.destinations(raw)
        return AlertsConfig(**values, conditions=conditions, destinations=destinations)

    def url(self, raw: dict, key: str, path: str) -> str | None:
        value = raw[key]
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            self.problem(raw, key, path, f"must be an http:// or https:// URL, got {value!r}")
            return None
        if parts.password is not None or parts.username is not None:
            self.problem(raw, key, path, "credentials in the URL are not allowed; use auth_header_env or "
                                         "auth_header_file")
            return None
        return str(value).strip()

    def conditions(self, raw: dict) -> dict[str, ConditionSettings]:
        result = default_conditions()
        given = raw.get("conditions")
        if given is None:
            return result
        if not isinstance(given, dict):
            self.problem(raw, "conditions", "alerts.conditions", "must be a mapping of condition name: settings")
            return result
        for name, settings in given.items():
            where = f"alerts.conditions.{name}"
            if name not in CONDITIONS:
                self.problem(given, name, where, f"unknown condition; known: {', '.join(CONDITIONS)}")
                continue
            if not isinstance(settings, dict):
                self.problem(given, name, where, f"must be a mapping with {', '.join(CONDITION_KEYS)}")
                continue
            self.unknown_keys(settings, CONDITION_KEYS, where)
            current = result[name]
            enabled, severity, for_rounds = current.enabled, current.severity, current.for_rounds
            if "enabled" in settings:
                if isinstance(settings["enabled"], bool):
                    enabled = settings["enabled"]
                else:
                    self.problem(settings, "enabled", f"{where}.enabled", "must be true or false")
            if "severity" in settings:
                if settings["severity"] in SEVERITIES:
                    severity = str(settings["severity"])
                else:
                    self.problem(settings, "severity", f"{where}.severity",
                                 f"must be critical or warning, got {settings['severity']!r}")
            if "for_rounds" in settings:
                if _positive_int(settings["for_rounds"]):
                    for_rounds = int(settings["for_rounds"])
                else:
                    self.problem(settings, "for_rounds", f"{where}.for_rounds",
                                 f"must be a positive whole number, got {settings['for_rounds']!r}")
            result[name] = ConditionSettings(enabled, severity, for_rounds)
        return result

    def destinations(self, raw: dict) -> tuple[DestinationConfig, ...]:
        given = raw.get("destinations")
        if given is None:
            return ()
        if not isinstance(given, list):
            self.problem(raw, "destinations", "alerts.destinations", "must be a list of destinations")
            return ()
        result, seen = [], set()
        for index, item in enumerate(given):
            destination = self.destination(given, index, item)
            if destination is None:
                continue
            if destination.name in seen:
                self.problem(item, "name", f"alerts.destinations[{index}].name",
                             f"duplicate destination name {destination.name!r}")
                continue
            seen.add(destination.name)
            result.append(destination)
        return tuple(result)

    def destination(self, seq: list, index: int, item: Any) -> DestinationConfig | None:
        where = f"alerts.destinations[{index}]"
        if not isinstance(item, dict):
            self.problem(seq, index, where, "must be a mapping with name, type and url")
            return None
        before = len(self.problems)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(item if "name" in item else seq, "name" if "name" in item else index, f"{where}.name",
                         "required: a non-empty name")
        else:
            where = f"alerts.destinations[{index}] ({name})"
        self.unknown_keys(item, DESTINATION_KEYS, where)
        kind = item.get("type")
        if kind not in DESTINATION_KINDS:
            self.problem(item if "type" in item else seq, "type" if "type" in item else index, f"{where}.type",
                         f"must be one of {', '.join(DESTINATION_KINDS)}, got {kind!r}")
        url = self.url(item, "url", f"{where}.url") if "url" in item else None
        if "url" not in item:
            self.problem(seq, index, f"{where}.url", "required: the destination's http(s) URL")
        conditions = self.names(item, "conditions", where, CONDITIONS)
        severities = self.names(item, "severities", where, SEVERITIES)
        limits = {}
        for key, valid, expected in (("timeout_s", _positive_number, "a positive number of seconds"),
                                     ("max_attempts", _positive_int, "a positive whole number")):
            if key in item:
                if valid(item[key]):
                    limits[key] = item[key]
                else:
                    self.problem(item, key, f"{where}.{key}", f"must be {expected}, got {item[key]!r}")
        auth = self.auth_header(item, where)
        if len(self.problems) > before:
            return None
        return DestinationConfig(name=str(name), kind=kind, url=str(url), auth_header=auth,  # type: ignore[arg-type]
                                 conditions=conditions, severities=severities, **limits)

    def names(self, item: dict, key: str, where: str, known: Any) -> frozenset[str] | None:
        if key not in item:
            return None
        value = item[key]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.problem(item, key, f"{where}.{key}", f"must be a list of: {', '.join(known)}")
            return None
        for unknown in [v for v in value if v not in known]:
            self.problem(item, key, f"{where}.{key}", f"unknown {unknown!r}; known: {', '.join(known)}")
        return frozenset(str(v) for v in value)

    def auth_header(self, item: dict, where: str) -> Secret | None:
        env, file = item.get("auth_header_env"), item.get("auth_header_file")
        if env is not None and file is not None:
            self.problem(item, "auth_header_file", f"{where}.auth_header_file",
                         "give either auth_header_env or auth_header_file, not both")
            return None
        key = "auth_header_env" if env is not None else "auth_header_file" if file is not None else None
        if key is None:
            return None
        value = item[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(item, key, f"{where}.{key}", "must be a non-empty string")
            return None
        if not self.resolve_secrets:
            return None
        if key == "auth_header_env":
            secret = self.environ.get(value, "").strip()
            if not secret:
                self.problem(item, key, f"{where}.{key}", f"environment variable {value} is not set (or empty)")
                return None
            return Secret(secret)
        path = Path(os.path.expanduser(value))
        path = path if path.is_absolute() else self.base_dir / path
        try:
            secret = path.read_text().strip()
        except OSError as exc:
            self.problem(item, key, f"{where}.{key}", f"cannot read {path}: {exc.strerror}")
            return None
        if not secret:
            self.problem(item, key, f"{where}.{key}", f"{path} is empty")
            return None
        return Secret(secret)


def parse_alerts(doc: Any, file: str, base_dir: Path, *, resolve_secrets: bool,
                 environ: dict[str, str]) -> tuple[AlertsConfig, list[ConfigProblem]]:
    """The `alerts:` section of a parsed clusters.yaml, and its problems (empty when valid)."""
    parser = _Alerts(file, base_dir, resolve_secrets, environ)
    config = parser.section(doc)
    return config, parser.problems
