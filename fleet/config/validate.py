"""clusters.yaml text → FleetConfig, or every problem at once, each naming the file, the line and the key.

Secrets never live in the file: only the names of environment variables or files that hold them.
What each orchestrator accepts and requires comes from its registered facts (fleet/orchestrators.py).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap

from fleet import orchestrators
from fleet.auth import auth_policy, auth_problems
from fleet.config.alerts import parse_alerts
from fleet.config.files import line_of, parse_yaml, round_trip_yaml
from fleet.config.types import (DEFAULT_CONFIG_PATH, ClusterConfig, ConfigError, ConfigProblem, FleetConfig, Secret,
                                Settings, TlsFiles)
from fleet.orchestrators import OptionKey, OrchestratorFacts


def _positive_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def _non_empty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _env_var_name(value: Any) -> bool:
    return isinstance(value, str) and value.replace("_", "a").isalnum() and not value[0].isdigit()


def _positive_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value > 0


@dataclass(frozen=True)
class SettingSpec:
    valid: Callable[[Any], bool]
    expected: str
    convert: Callable[[Any], Any] = lambda value: value
    # for a mapping: its problems as (key inside it, message), each reported at that key's line
    problems: Callable[[Any], list[tuple[str, str]]] | None = None


# every key of `settings:` — add new settings here, to Settings (defaults) and to clusters.example.yaml
SETTINGS_SPEC: dict[str, SettingSpec] = {
    "poll_interval_s": SettingSpec(_positive_number, "a positive number of seconds", float),
    "timeout_s": SettingSpec(_positive_number, "a positive number of seconds", float),
    "demo": SettingSpec(lambda v: isinstance(v, bool), "true or false"),
    # snapshot history (fleet/store.py): SQLite under history_dir, or PostgreSQL when the variable
    # named by history_db_url_env holds a postgresql:// URL (it may carry a password: never in this file)
    "history_dir": SettingSpec(_non_empty_string, "a folder (relative to this file's folder)"),
    "history_db_url_env": SettingSpec(_env_var_name, "the name of an environment variable"),
    "history_max_age_days": SettingSpec(_positive_number, "a positive number of days", float),
    "history_max_snapshots": SettingSpec(_positive_int, "a positive whole number"),
    "history_max_mib": SettingSpec(_positive_number, "a positive number of MiB", float),
    # who may look and who may change (fleet/auth.py); absent: the dashboard is open to anyone who reaches it
    "auth": SettingSpec(lambda v: not auth_problems(v), "a mapping (see docs/security.md)", auth_policy,
                        problems=auth_problems),
}
SETTINGS_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings)}
assert set(SETTINGS_SPEC) == set(SETTINGS_DEFAULTS), "every setting has a spec and a default"

# keys every cluster entry may have, whatever its orchestrator
COMMON_KEYS = ("name", "orchestrator", "url", "token_env", "token_file", "ca_file", "verify_tls", "tls",
               "max_answer_mib", "max_list_s")
TLS_KEYS = {"ca_file", "cert_file", "key_file"}
# the common keys read like orchestrator options of these kinds
COMMON_OPTIONS = {"url": OptionKey("url"), "token_env": OptionKey("secret_env", secret="token"),
                  "token_file": OptionKey("secret_file", secret="token"), "ca_file": OptionKey("path"),
                  "max_answer_mib": OptionKey("number"), "max_list_s": OptionKey("number")}
ANY_URL = ("http", "https")


def _all_cluster_keys() -> set[str]:
    return set(COMMON_KEYS).union(*(facts.options for facts in orchestrators.registered()))


class _Validator:
    def __init__(self, file: str, base_dir: Path, resolve_secrets: bool, environ: dict[str, str]):
        self.file = file
        self.base_dir = base_dir
        self.resolve_secrets = resolve_secrets
        self.environ = environ
        self.problems: list[ConfigProblem] = []

    def problem(self, mapping: Any, key: str | int, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(ConfigProblem(self.file, line or line_of(mapping, key), path, message))

    def settings(self, doc: CommentedMap) -> Settings:
        raw = doc.get("settings")
        if raw is None:
            return Settings()
        if not isinstance(raw, dict):
            self.problem(doc, "settings", "settings", "must be a mapping of setting: value")
            return Settings()
        values = dict(SETTINGS_DEFAULTS)
        for key, value in raw.items():
            path = f"settings.{key}"
            spec = SETTINGS_SPEC.get(key)
            if spec is None:
                self.problem(raw, key, path, f"unknown setting; known: {', '.join(sorted(SETTINGS_SPEC))}")
            elif spec.problems is not None and spec.problems(value):
                for inner, message in spec.problems(value):
                    self.problem(value if inner else raw, inner or key, f"{path}.{inner}" if inner else path,
                                 message)
            elif not spec.valid(value):
                self.problem(raw, key, path, f"must be {spec.expected}, got {value!r}")
            else:
                values[key] = spec.convert(str(value) if isinstance(value, str) else value)
        return Settings(**values)

    def clusters(self, doc: CommentedMap) -> list[ClusterConfig]:
        raw = doc.get("clusters")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(doc, "clusters", "clusters", "must be a list of clusters")
            return []
        seen: dict[str, int] = {}
        result = []
        for index, item in enumerate(raw):
            cluster = self.cluster(raw, index, item)
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name in seen:
                self.problem(item, "name", f"clusters[{index}].name",
                             f"duplicate cluster name {name!r} (first used in clusters[{seen[name]}])")
                continue
            if isinstance(name, str):
                seen[name] = index
            if cluster is not None:
                result.append(cluster)
        return result

    def cluster(self, seq: Any, index: int, item: Any) -> ClusterConfig | None:
        where = f"clusters[{index}]"
        if not isinstance(item, dict):
            self.problem(seq, index, where, "must be a mapping with at least name and orchestrator")
            return None
        before = len(self.problems)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(item, "name", f"{where}.name", "required: a non-empty name",
                         None if "name" in item else line_of(seq, index))
        else:
            where = f"clusters[{index}] ({name})"
        facts = self.orchestrator(seq, index, item, where)
        self.check_keys(item, where, facts)
        common, options, secrets = self.values(item, where, facts)
        if len(self.problems) > before or facts is None:
            return None
        # plain str: ruamel hands quoted scalars back as str subclasses that encoders refuse
        return ClusterConfig(name=str(name), orchestrator=facts.name, options=options,
                             token=secrets.pop("token", None), secrets=secrets, **common)

    def orchestrator(self, seq: Any, index: int, item: Any, where: str) -> OrchestratorFacts | None:
        value = item.get("orchestrator")
        facts = orchestrators.facts_of(value) if isinstance(value, str) else None
        if facts is None:
            known = ", ".join(orchestrators.names())
            message = (f"unknown orchestrator {value!r}; expected one of {known}" if value is not None
                       else f"required: one of {known}")
            self.problem(item, "orchestrator", f"{where}.orchestrator", message,
                         None if "orchestrator" in item else line_of(seq, index))
        return facts

    def check_keys(self, item: Any, where: str, facts: OrchestratorFacts | None) -> None:
        every = _all_cluster_keys()
        allowed = set(COMMON_KEYS) | set(facts.options) if facts is not None else every
        for key in item:
            if key not in every:
                self.problem(item, key, f"{where}.{key}", f"unknown key; known keys: {', '.join(sorted(allowed))}")
            elif key not in allowed:
                self.problem(item, key, f"{where}.{key}", f"not used by {facts.name} clusters")  # type: ignore[union-attr]

    def values(self, item: Any, where: str,
               facts: OrchestratorFacts | None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Secret]]:
        """The common keys' values, the orchestrator's options (defaults filled in), resolved secrets."""
        common: dict[str, Any] = {}
        options = {key: spec.default for key, spec in (facts.options.items() if facts else ()) if spec.default}
        declared = {**COMMON_OPTIONS, **(facts.options if facts else {})}
        for key, spec in declared.items():
            if key not in item:
                if spec.required and facts is not None:
                    self.problem(item, key, f"{where}.{key}", f"required for {facts.name} clusters: {spec.required}",
                                 line_of(item, "name"))
                continue
            value = self.option(item, key, f"{where}.{key}", spec, facts)
            if value is not None:
                (common if key in COMMON_OPTIONS else options)[key] = value
        if facts is not None and facts.url_required and "url" not in item:
            self.problem(item, "url", f"{where}.url", f"required for {facts.name} clusters", line_of(item, "name"))
        if "verify_tls" in item:
            if not isinstance(item["verify_tls"], bool):
                self.problem(item, "verify_tls", f"{where}.verify_tls", "must be true or false")
            else:
                common["verify_tls"] = item["verify_tls"]
        if "tls" in item:
            common["tls"] = self.tls(item, where)
        secrets = self.secrets(item, where, declared, {**common, **options})
        return common, options, secrets

    def option(self, item: Any, key: str, path: str, spec: OptionKey, facts: OrchestratorFacts | None) -> Any:
        value = item[key]
        if spec.kind == "number":
            if _positive_number(value):
                return float(value)
            self.problem(item, key, path, f"must be a positive number, got {value!r}")
            return None
        if spec.kind == "names":
            if isinstance(value, str) and value:
                return str(value)
            if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
                return [str(v) for v in value]
            self.problem(item, key, path, f'must be "all", a name, or a list of names, got {value!r}')
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(item, key, path, f"must be a non-empty string, got {value!r}")
            return None
        text = str(value).strip()
        if spec.kind == "url":
            schemes = facts.url_schemes if facts is not None and key == "url" else ANY_URL
            self.check_url(item, key, path, text, schemes)
        elif spec.kind in ("path", "secret_file"):
            text = self.path(text)
        return text

    def check_url(self, item: Any, key: str, path: str, url: str, schemes: tuple[str, ...]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in schemes:
            self.problem(item, key, path, f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
        if parts.password is not None:
            self.problem(item, key, path, "credentials in the URL are not allowed; use token_env/token_file "
                                          "or password_env/password_file")

    def secrets(self, item: Any, where: str, declared: dict[str, OptionKey],
                values: dict[str, Any]) -> dict[str, Secret]:
        """Each declared secret from its environment variable or file (never both)."""
        sources: dict[str, dict[str, str]] = {}
        for key, spec in declared.items():
            if spec.secret is not None and key in values:
                sources.setdefault(spec.secret, {})[spec.kind] = key
        resolved: dict[str, Secret] = {}
        for name, given in sources.items():
            if len(given) > 1:
                env_key, file_key = given["secret_env"], given["secret_file"]
                self.problem(item, file_key, f"{where}.{file_key}", f"give either {env_key} or {file_key}, not both")
            elif self.resolve_secrets:
                (kind, key), = given.items()
                secret = self.read_secret(item, where, key, values[key], from_file=kind == "secret_file")
                if secret is not None:
                    resolved[name] = secret
        return resolved

    def read_secret(self, item: Any, where: str, key: str, source: str, *, from_file: bool) -> Secret | None:
        if not from_file:
            value = self.environ.get(source)
            if value is None or not value.strip():
                self.problem(item, key, f"{where}.{key}", f"environment variable {source} is not set (or empty)")
                return None
            return Secret(value.strip())
        try:
            value = Path(source).read_text().strip()
        except OSError as exc:
            self.problem(item, key, f"{where}.{key}", f"cannot read {source}: {exc.strerror}")
            return None
        if not value:
            self.problem(item, key, f"{where}.{key}", f"{source} is empty")
            return None
        return Secret(value)

    def path(self, value: str) -> str:
        path = Path(os.path.expanduser(value))
        return str(path if path.is_absolute() else (self.base_dir / path))

    def tls(self, item: Any, where: str) -> TlsFiles:
        raw = item["tls"]
        if not isinstance(raw, dict):
            self.problem(item, "tls", f"{where}.tls", "must be a mapping with ca_file, cert_file, key_file")
            return TlsFiles()
        files: dict[str, str] = {}
        for key, value in raw.items():
            if key not in TLS_KEYS:
                self.problem(raw, key, f"{where}.tls.{key}", f"unknown key; known keys: {', '.join(sorted(TLS_KEYS))}")
            elif not isinstance(value, str) or not value:
                self.problem(raw, key, f"{where}.tls.{key}", "must be a file path")
            else:
                files[key] = self.path(value)
        if ("cert_file" in files) != ("key_file" in files):
            self.problem(item, "tls", f"{where}.tls", "cert_file and key_file go together")
        return TlsFiles(**files)


def parse_config(text: str, path: Path | str, *, resolve_secrets: bool = True,
                 environ: dict[str, str] | None = None) -> FleetConfig:
    path = Path(path)
    file = str(path)
    doc = parse_yaml(text, file)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise ConfigError([ConfigProblem(file, 1, "", "the file must be a mapping with `settings:` and `clusters:`")])
    validator = _Validator(file, path.parent.resolve(), resolve_secrets,
                           dict(os.environ) if environ is None else environ)
    for key in doc:
        if key not in ("settings", "clusters", "alerts"):
            validator.problem(doc, key, str(key), "unknown top-level key; expected settings, clusters and alerts")
    settings = validator.settings(doc)
    clusters = validator.clusters(doc)
    alerts, problems = parse_alerts(doc, file, validator.base_dir, resolve_secrets=resolve_secrets,
                                    environ=validator.environ)
    validator.problems.extend(problems)
    if validator.problems:
        raise ConfigError(validator.problems)
    return FleetConfig(path=path, settings=settings, clusters=clusters, alerts=alerts)


def load_config(path: Path | str = DEFAULT_CONFIG_PATH, *, resolve_secrets: bool = True,
                environ: dict[str, str] | None = None) -> FleetConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), None, "", "file not found; copy config/clusters.example.yaml "
                                                              "to start")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", f"cannot read: {exc}")]) from None
    return parse_config(text, path, resolve_secrets=resolve_secrets, environ=environ)


def parse_cluster_entries(entries: list[dict[str, Any]], origin: str, *,
                          environ: dict[str, str] | None = None) -> list[ClusterConfig]:
    """Validate cluster entries given as plain dicts (a form, the demo fleet) exactly as the file is."""
    buffer = io.StringIO()
    round_trip_yaml().dump({"clusters": [dict(entry) for entry in entries]}, buffer)
    return parse_config(buffer.getvalue(), origin, environ=environ).clusters
