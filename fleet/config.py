"""config/clusters.yaml: load, validate, resolve secrets, save (see docs/configuration.md).

Every problem names the file, the line and the key. Secrets never live in the file: only the
names of environment variables or files that hold them. Saving keeps comments and order
(ruamel.yaml round-trip), writes atomically and keeps the previous version as `.bak`.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from fleet.auth import AuthPolicy, auth_policy, auth_problems
from fleet.model import ORCHESTRATORS

DEFAULT_CONFIG_PATH = Path("config/clusters.yaml")



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
    default: Any
    valid: Callable[[Any], bool]
    expected: str
    convert: Callable[[Any], Any] = lambda value: value
    # for a mapping: its problems as (key inside it, message), each reported at that key's line
    problems: Callable[[Any], list[tuple[str, str]]] | None = None


# every key of `settings:` — add new settings here (and to Settings and clusters.example.yaml)
SETTINGS_SPEC: dict[str, SettingSpec] = {
    "poll_interval_s": SettingSpec(15.0, _positive_number, "a positive number of seconds", float),
    "timeout_s": SettingSpec(10.0, _positive_number, "a positive number of seconds", float),
    "demo": SettingSpec(None, lambda v: isinstance(v, bool), "true or false"),
    # snapshot history (fleet/store.py): SQLite under history_dir, or PostgreSQL when the variable
    # named by history_db_url_env holds a postgresql:// URL (it may carry a password: never in this file)
    "history_dir": SettingSpec(".podium/history", _non_empty_string, "a folder (relative to this file's folder)"),
    "history_db_url_env": SettingSpec(None, _env_var_name, "the name of an environment variable"),
    "history_max_age_days": SettingSpec(7.0, _positive_number, "a positive number of days", float),
    "history_max_snapshots": SettingSpec(5000, _positive_int, "a positive whole number"),
    # who may look and who may change (fleet/auth.py); absent: the dashboard is open to anyone who reaches it
    "auth": SettingSpec(None, lambda v: not auth_problems(v), "a mapping (see docs/security.md)", auth_policy,
                        problems=auth_problems),
}
SETTINGS_DEFAULTS: dict[str, Any] = {key: spec.default for key, spec in SETTINGS_SPEC.items()}

COMMON_KEYS = {"name", "orchestrator", "url", "token_env", "token_file", "ca_file", "verify_tls", "tls"}
ORCHESTRATOR_KEYS: dict[str, set[str]] = {
    "kubernetes": {"kubeconfig", "context"},
    "swarm": set(),
    "nomad": {"regions", "namespace"},
    "marathon": {"mesos_url", "username", "password_env", "password_file"},
}
TLS_KEYS = {"ca_file", "cert_file", "key_file"}
ALL_CLUSTER_KEYS = COMMON_KEYS.union(*ORCHESTRATOR_KEYS.values())


class Secret:
    """A credential that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class TlsFiles:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    orchestrator: str
    url: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    verify_tls: bool = True
    tls: TlsFiles = TlsFiles()
    regions: str | list[str] | None = None
    namespace: str = "*"
    mesos_url: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    # resolved from token_env/token_file and password_env/password_file; never written back
    token: Secret | None = field(default=None, repr=False, compare=False)
    password: Secret | None = field(default=None, repr=False, compare=False)

    @property
    def endpoint(self) -> str:
        """The API address to show: no credentials, ever."""
        if self.url:
            return strip_userinfo(self.url)
        if self.kubeconfig:
            return f"kubeconfig:{self.context or '(current context)'}"
        return "in-cluster" if self.orchestrator == "kubernetes" else ""


@dataclass(frozen=True)
class Settings:
    poll_interval_s: float = SETTINGS_DEFAULTS["poll_interval_s"]
    timeout_s: float = SETTINGS_DEFAULTS["timeout_s"]
    # the embedded demo fleet: None runs it only while no cluster is configured
    demo: bool | None = None
    history_dir: str = SETTINGS_DEFAULTS["history_dir"]
    history_db_url_env: str | None = None
    history_max_age_days: float = SETTINGS_DEFAULTS["history_max_age_days"]
    history_max_snapshots: int = SETTINGS_DEFAULTS["history_max_snapshots"]
    auth: AuthPolicy | None = None


@dataclass(frozen=True)
class FleetConfig:
    path: Path
    settings: Settings
    clusters: list[ClusterConfig]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # 1-based
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a config file; str() lists each on its own line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigConflict(Exception):
    """The file changed on disk since it was read: saving would silently lose someone's edit."""


def strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order and line numbers
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _parse(text: str, file: str) -> Any:
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError([Problem(file, line, "", f"YAML syntax error: {problem}")]) from None


def _line_of(mapping: Any, key: str | int) -> int | None:
    try:
        if isinstance(mapping, CommentedMap):
            return mapping.lc.key(key)[0] + 1
        if isinstance(mapping, CommentedSeq):
            return mapping.lc.item(key)[0] + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return None


class _Validator:
    def __init__(self, file: str, base_dir: Path, resolve_secrets: bool, environ: dict[str, str]):
        self.file = file
        self.base_dir = base_dir
        self.resolve_secrets = resolve_secrets
        self.environ = environ
        self.problems: list[Problem] = []

    def problem(self, mapping: Any, key: str | int, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, line or _line_of(mapping, key), path, message))

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
                         None if "name" in item else _line_of(seq, index))
        else:
            where = f"clusters[{index}] ({name})"
        orchestrator = item.get("orchestrator")
        if orchestrator not in ORCHESTRATORS:
            message = (f"unknown orchestrator {orchestrator!r}; expected one of {', '.join(ORCHESTRATORS)}"
                       if orchestrator is not None else f"required: one of {', '.join(ORCHESTRATORS)}")
            self.problem(item, "orchestrator", f"{where}.orchestrator", message,
                         None if "orchestrator" in item else _line_of(seq, index))
            allowed = ALL_CLUSTER_KEYS
        else:
            allowed = COMMON_KEYS | ORCHESTRATOR_KEYS[orchestrator]
        for key in item:
            if key not in ALL_CLUSTER_KEYS:
                self.problem(item, key, f"{where}.{key}", f"unknown key; known keys: {', '.join(sorted(allowed))}")
            elif key not in allowed:
                self.problem(item, key, f"{where}.{key}", f"not used by {orchestrator} clusters")
        values = self.cluster_values(item, where, orchestrator)
        if len(self.problems) > before:
            return None
        # plain str: ruamel hands quoted scalars back as str subclasses that encoders refuse
        return ClusterConfig(name=str(name), orchestrator=str(orchestrator), **values)

    def cluster_values(self, item: Any, where: str, orchestrator: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in ("url", "kubeconfig", "context", "token_env", "token_file", "ca_file", "mesos_url",
                    "username", "password_env", "password_file"):
            if key in item:
                value = item[key]
                if not isinstance(value, str) or not value.strip():
                    self.problem(item, key, f"{where}.{key}", f"must be a non-empty string, got {value!r}")
                else:
                    values[key] = value.strip()
        for key in ("url", "mesos_url"):
            if key in values:
                self.check_url(item, key, f"{where}.{key}", values[key], orchestrator)
        for key in ("kubeconfig", "token_file", "ca_file", "password_file"):
            if key in values:
                values[key] = self.path(values[key])
        if "verify_tls" in item:
            if not isinstance(item["verify_tls"], bool):
                self.problem(item, "verify_tls", f"{where}.verify_tls", "must be true or false")
            else:
                values["verify_tls"] = item["verify_tls"]
        if "tls" in item:
            values["tls"] = self.tls(item, where)
        if "regions" in item:
            values["regions"] = self.regions(item, where)
        if "namespace" in item:
            if not isinstance(item["namespace"], str) or not item["namespace"]:
                self.problem(item, "namespace", f"{where}.namespace", 'must be a namespace name or "*"')
            else:
                values["namespace"] = str(item["namespace"])
        if orchestrator in ORCHESTRATORS and orchestrator != "kubernetes" and "url" not in item:
            self.problem(item, "url", f"{where}.url", f"required for {orchestrator} clusters", _line_of(item, "name"))
        if orchestrator == "marathon" and "mesos_url" not in item:
            self.problem(item, "mesos_url", f"{where}.mesos_url",
                         "required for marathon clusters: nodes (agents) come from the Mesos master",
                         _line_of(item, "name"))
        for pair in (("token_env", "token_file"), ("password_env", "password_file")):
            if all(k in values for k in pair):
                self.problem(item, pair[1], f"{where}.{pair[1]}", f"give either {pair[0]} or {pair[1]}, not both")
        if self.resolve_secrets:
            values["token"] = self.secret(item, where, values, "token_env", "token_file")
            values["password"] = self.secret(item, where, values, "password_env", "password_file")
        return values

    def check_url(self, item: Any, key: str, path: str, url: str, orchestrator: str | None) -> None:
        parts = urlsplit(url)
        schemes = ("unix", "tcp", "http", "https", "npipe", "ssh") if orchestrator == "swarm" else ("http", "https")
        if parts.scheme not in schemes:
            self.problem(item, key, path, f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
        if parts.password is not None:
            self.problem(item, key, path, "credentials in the URL are not allowed; use token_env/token_file "
                                          "or password_env/password_file")

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

    def regions(self, item: Any, where: str) -> str | list[str] | None:
        raw = item["regions"]
        if isinstance(raw, str) and raw:
            return str(raw)
        if isinstance(raw, list) and raw and all(isinstance(r, str) and r for r in raw):
            return [str(region) for region in raw]
        self.problem(item, "regions", f"{where}.regions", 'must be "all", a region name, or a list of region names')
        return None

    def secret(self, item: Any, where: str, values: dict[str, Any], env_key: str, file_key: str) -> Secret | None:
        if env_key in values:
            value = self.environ.get(values[env_key])
            if value is None or not value.strip():
                self.problem(item, env_key, f"{where}.{env_key}",
                             f"environment variable {values[env_key]} is not set (or empty)")
                return None
            return Secret(value.strip())
        if file_key in values:
            try:
                value = Path(values[file_key]).read_text().strip()
            except OSError as exc:
                self.problem(item, file_key, f"{where}.{file_key}", f"cannot read {values[file_key]}: {exc.strerror}")
                return None
            if not value:
                self.problem(item, file_key, f"{where}.{file_key}", f"{values[file_key]} is empty")
                return None
            return Secret(value)
        return None


def parse_config(text: str, path: Path | str, *, resolve_secrets: bool = True,
                 environ: dict[str, str] | None = None) -> FleetConfig:
    path = Path(path)
    file = str(path)
    doc = _parse(text, file)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise ConfigError([Problem(file, 1, "", "the file must be a mapping with `settings:` and `clusters:`")])
    validator = _Validator(file, path.parent.resolve(), resolve_secrets,
                           dict(os.environ) if environ is None else environ)
    for key in doc:
        if key not in ("settings", "clusters"):
            validator.problem(doc, key, str(key), "unknown top-level key; expected settings and clusters")
    settings = validator.settings(doc)
    clusters = validator.clusters(doc)
    if validator.problems:
        raise ConfigError(validator.problems)
    return FleetConfig(path=path, settings=settings, clusters=clusters)


def load_config(path: Path | str = DEFAULT_CONFIG_PATH, *, resolve_secrets: bool = True,
                environ: dict[str, str] | None = None) -> FleetConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), None, "", "file not found; copy config/clusters.example.yaml "
                                                        "to start")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    return parse_config(text, path, resolve_secrets=resolve_secrets, environ=environ)


class ConfigDocument:
    """An editable clusters.yaml that keeps the user's comments and order when saved."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        self._digest = _digest(text)
        self.doc = _parse(text, str(self.path)) or CommentedMap()
        if not isinstance(self.doc, CommentedMap):
            raise ConfigError([Problem(str(self.path), 1, "", "the file must be a mapping")])

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

    def render(self) -> str:
        buffer = io.StringIO()
        _yaml().dump(self.doc, buffer)
        return buffer.getvalue()

    def save(self) -> FleetConfig:
        """Validate, then write atomically (temp file + rename), keeping the old file as .bak.

        Raises ConfigError when the result would not load, ConfigConflict when the file changed
        on disk since this document read it.
        """
        text = self.render()
        config = parse_config(text, self.path, resolve_secrets=False)
        current = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        if _digest(current) != self._digest:
            raise ConfigConflict(f"{self.path} was changed by someone else since it was opened; "
                                 "reload and apply your change again")
        write_atomically(self.path, text, backup=True)
        self._digest = _digest(text)
        return config


def write_atomically(path: Path, text: str, *, backup: bool = False, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        if backup and path.exists():
            bak = path.with_name(path.name + ".bak")
            bak.write_bytes(path.read_bytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_cluster_entries(entries: list[dict[str, Any]], origin: str, *,
                          environ: dict[str, str] | None = None) -> list[ClusterConfig]:
    """Validate cluster entries given as plain dicts (a form, the demo fleet) exactly as the file is."""
    buffer = io.StringIO()
    _yaml().dump({"clusters": [dict(entry) for entry in entries]}, buffer)
    return parse_config(buffer.getvalue(), origin, environ=environ).clusters
