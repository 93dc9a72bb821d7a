"""An editable clusters.yaml: the Settings page's changes saved with the user's comments and order."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from fleet.config.files import digest, parse_yaml, round_trip_yaml, write_atomically
from fleet.config.types import ConfigConflict, ConfigError, ConfigProblem, FleetConfig
from fleet.config.validate import parse_config


class ConfigDocument:
    """An editable clusters.yaml that keeps the user's comments and order when saved."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        self._digest = digest(text)
        self.doc = parse_yaml(text, str(self.path)) or CommentedMap()
        if not isinstance(self.doc, CommentedMap):
            raise ConfigError([ConfigProblem(str(self.path), 1, "", "the file must be a mapping")])

    def cluster_entries(self) -> CommentedSeq:
        if self.doc.get("clusters") is None:
            self.doc["clusters"] = CommentedSeq()
        return self.doc["clusters"]

    def cluster_names(self) -> list[str]:
        return [c.get("name") for c in self.cluster_entries() if isinstance(c, dict)]

    def upsert_cluster(self, values: dict[str, Any], *, original_name: str | None = None) -> None:
        """Add a cluster, or replace the keys of the one named `original_name` keeping its comments."""
        entries = self.cluster_entries()
        target = original_name or values.get("name")
        for entry in entries:
            if isinstance(entry, dict) and entry.get("name") == target:
                for key in [k for k in entry if k not in values]:
                    del entry[key]
                for key, value in values.items():
                    entry[key] = value
                return
        if original_name is not None:
            raise KeyError(f"no cluster named {original_name!r}")
        entries.append(CommentedMap(values))

    def remove_cluster(self, name: str) -> None:
        entries = self.cluster_entries()
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and entry.get("name") == name:
                del entries[index]
                return
        raise KeyError(f"no cluster named {name!r}")

    def alerts_text(self) -> str:
        """The `alerts:` section's body as YAML (comments kept), empty when there is none."""
        section = self.doc.get("alerts")
        if section is None:
            return ""
        buffer = io.StringIO()
        round_trip_yaml().dump(section, buffer)
        return buffer.getvalue()

    def set_alerts(self, text: str) -> None:
        """Replace the `alerts:` section with this YAML body (empty: remove it); checked on save()."""
        section = parse_yaml(text, "alerts (Settings)")
        if section is None:
            self.doc.pop("alerts", None)
        elif not isinstance(section, CommentedMap):
            raise ConfigError([ConfigProblem("alerts (Settings)", 1, "alerts", "must be a mapping (docs/alerts.md)")])
        else:
            self.doc["alerts"] = section
    def auth_section(self) -> CommentedMap | None:
        """`settings.auth` as written, or None when sign-in is not configured."""
        settings = self.doc.get("settings")
        auth = settings.get("auth") if isinstance(settings, dict) else None
        return auth if isinstance(auth, CommentedMap) else None

    def api_token_entries(self) -> list[dict[str, Any]]:
        auth = self.auth_section()
        tokens = auth.get("api_tokens") if auth is not None else None
        return [dict(t) for t in tokens if isinstance(t, dict)] if isinstance(tokens, list) else []

    def set_api_tokens(self, entries: list[dict[str, Any]]) -> None:
        """Replace `settings.auth.api_tokens` (hashes only); needs `settings.auth` to exist."""
        auth = self.auth_section()
        if auth is None:
            raise KeyError("settings.auth is not configured")
        if entries:
            auth["api_tokens"] = CommentedSeq(CommentedMap(e) for e in entries)
        else:
            auth.pop("api_tokens", None)

    def render(self) -> str:
        buffer = io.StringIO()
        round_trip_yaml().dump(self.doc, buffer)
        return buffer.getvalue()

    def save(self) -> FleetConfig:
        """Validate, then write atomically (temp file + rename), keeping the old file as .bak.

        Raises ConfigError when the result would not load, ConfigConflict when the file changed
        on disk since this document read it.
        """
        text = self.render()
        config = parse_config(text, self.path, resolve_secrets=False)
        current = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        if digest(current) != self._digest:
            raise ConfigConflict(f"{self.path} was changed by someone else since it was opened; "
                                 "reload and apply your change again")
        write_atomically(self.path, text, backup=True)
        self._digest = digest(text)
        return config
