"""The Settings form's data: which fields each orchestrator has, form values → a config entry,
and tokens typed into the form stored outside clusters.yaml (a 0600 file named by `token_file`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet.config import ClusterConfig, write_atomically

SECRETS_DIR_NAME = "secrets"


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    help: str = ""
    kind: str = "text"  # text | bool | regions


COMMON = [FormField("url", "API URL", "e.g. https://10.0.0.1:6443, unix:///var/run/docker.sock"),
          FormField("token_env", "Token environment variable", "name of a variable holding the token"),
          FormField("ca_file", "CA certificate file", "to verify the server's certificate"),
          FormField("verify_tls", "Verify TLS", "turn off only by explicit choice", "bool")]
FIELDS: dict[str, list[FormField]] = {
    "kubernetes": COMMON + [FormField("kubeconfig", "kubeconfig file", "instead of URL + token"),
                            FormField("context", "kubeconfig context")],
    "swarm": [COMMON[0], COMMON[3]],
    "nomad": COMMON + [FormField("regions", "Regions", '"all", one region, or a comma-separated list', "regions"),
                       FormField("namespace", "Namespace", '"*" for every namespace')],
    "marathon": COMMON + [FormField("mesos_url", "Mesos master URL", "agents come from the Mesos master"),
                          FormField("username", "Username (basic auth)"),
                          FormField("password_env", "Password environment variable")],
}
TOKEN_ORCHESTRATORS = {"kubernetes", "nomad", "marathon"}


def entry_from_form(name: str, orchestrator: str, values: dict[str, Any], *,
                    kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """A clusters.yaml entry from form values: empty fields left out, defaults not written.
    `kept` carries keys the form does not show (tls, token_file, …) from the entry being edited."""
    entry: dict[str, Any] = {"name": name.strip(), "orchestrator": orchestrator}
    shown = {f.key for f in FIELDS.get(orchestrator, [])}
    for key, value in (kept or {}).items():
        if key not in shown and key not in entry:
            entry[key] = value
    for field in FIELDS.get(orchestrator, []):
        value = values.get(field.key)
        if field.kind == "bool":
            if value is False:
                entry[field.key] = False
            continue
        text = str(value or "").strip()
        if not text:
            continue
        if field.kind == "regions" and text != "all" and "," in text:
            entry[field.key] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            entry[field.key] = text
    if entry.get("token_env"):
        entry.pop("token_file", None)
    return entry


def form_values(cluster: ClusterConfig | dict[str, Any]) -> dict[str, Any]:
    source = cluster if isinstance(cluster, dict) else cluster.__dict__
    values = {key: source.get(key) for field_list in FIELDS.values() for key in (f.key for f in field_list)}
    regions = values.get("regions")
    if isinstance(regions, list):
        values["regions"] = ", ".join(regions)
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
