"""The Settings form's data: which fields each orchestrator has, form values → a config entry,
and tokens typed into the form stored outside clusters.yaml (a 0600 file named by `token_file`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from fleet import orchestrators
from fleet.config import ClusterConfig, write_atomically
from fleet.orchestrators import FormField

SECRETS_DIR_NAME = "secrets"


def entry_from_form(name: str, orchestrator: str, values: dict[str, Any], *,
                    kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """A clusters.yaml entry from form values: empty fields left out, defaults not written.
    `kept` carries keys the form does not show (tls, token_file, …) from the entry being edited."""
    entry: dict[str, Any] = {"name": name.strip(), "orchestrator": orchestrator}
    fields = form_fields(orchestrator)
    shown = {f.key for f in fields}
    for key, value in (kept or {}).items():
        if key not in shown and key not in entry:
            entry[key] = value
    for field in fields:
        value = values.get(field.key)
        if field.kind == "bool":
            if value is False:
                entry[field.key] = False
            continue
        text = str(value or "").strip()
        if not text:
            continue
        if field.kind == "names" and text != "all" and "," in text:
            entry[field.key] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            entry[field.key] = text
    if entry.get("token_env"):
        entry.pop("token_file", None)
    return entry


def form_fields(orchestrator: str) -> tuple[FormField, ...]:
    facts = orchestrators.facts_of(orchestrator)
    return facts.form_fields if facts is not None else ()


def form_values(cluster: ClusterConfig | dict[str, Any]) -> dict[str, Any]:
    source = cluster if isinstance(cluster, dict) else {**cluster.__dict__, **cluster.options}
    fields = {f.key: f for facts in orchestrators.registered() for f in facts.form_fields}
    values = {key: source.get(key) for key in fields}
    for key, field in fields.items():
        if field.kind == "names" and isinstance(values[key], list):
            values[key] = ", ".join(values[key])
    values["verify_tls"] = source.get("verify_tls", True) is not False
    return values


def secret_file_name(cluster_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", cluster_name) + ".token"


def store_token(config_path: Path, cluster_name: str, token: str) -> Path:
    """Write a token typed into the form to config/secrets/<name>.token, readable by the owner only."""
    folder = config_path.parent / SECRETS_DIR_NAME
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / secret_file_name(cluster_name)
    write_atomically(path, token.strip() + "\n", mode=0o600)
    return path
