"""The parsed config: clusters, settings, secrets that never show themselves, and problems."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fleet.alerts.settings import AlertsConfig
from fleet.auth import AuthPolicy
from fleet.orchestrators import facts_of

DEFAULT_CONFIG_PATH = Path("config/clusters.yaml")


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
    """One entry of `clusters:`. The keys every orchestrator shares are fields; the keys one
    orchestrator declares (fleet/orchestrators.py) are in `options`, validated and defaulted."""

    name: str
    orchestrator: str
    url: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    verify_tls: bool = True
    tls: TlsFiles = TlsFiles()
    # bounds of every answer (collectors/deadline.py): its size, and the whole of one paged list
    max_answer_mib: float = 1024.0
    max_list_s: float = 600.0
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    # resolved from token_env/token_file and the orchestrator's own secret keys; never written back
    token: Secret | None = field(default=None, repr=False, compare=False)
    secrets: dict[str, Secret] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def option(self, key: str, default: Any = None) -> Any:
        value = self.options.get(key)
        return default if value is None else value

    def secret(self, name: str) -> Secret | None:
        return self.secrets.get(name)

    def secret_values(self) -> list[str]:
        """Every credential in play, for scrubbing them from messages."""
        return [s.reveal() for s in (self.token, *self.secrets.values()) if s is not None]

    @property
    def endpoint(self) -> str:
        """The API address to show: no credentials, ever."""
        if self.url:
            return strip_userinfo(self.url)
        facts = facts_of(self.orchestrator)
        return facts.describe_endpoint(self) if facts is not None else ""


@dataclass(frozen=True)
class Settings:
    poll_interval_s: float = 15.0
    timeout_s: float = 10.0
    # the embedded demo fleet: None runs it only while no cluster is configured
    demo: bool | None = None
    history_dir: str = ".podium/history"
    history_db_url_env: str | None = None
    history_max_age_days: float = 7.0
    history_max_snapshots: int = 50_000  # a week of 15 s rounds is 40,320
    history_max_mib: float = 4096.0  # bodies kept; the oldest chains of rounds go first
    auth: AuthPolicy | None = None


@dataclass(frozen=True)
class FleetConfig:
    path: Path
    settings: Settings
    clusters: list[ClusterConfig]
    alerts: AlertsConfig = field(default_factory=AlertsConfig)  # the `alerts:` section (fleet/config/alerts.py)


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None  # 1-based
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a config file; str() lists each on its own line."""

    def __init__(self, problems: list[ConfigProblem]):
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
