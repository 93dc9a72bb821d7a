"""What the core may know of an orchestrator: the facts each one declares in its own collector
package (`collectors/<name>/facts.py`), registered once by the entry points.

`fleet/` and `views/` read this registry and name no orchestrator themselves: config validation
(keys, URL schemes, what is required), the Settings form, labels, published limits and the
collector to build all come from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

if TYPE_CHECKING:  # only for annotations: these modules import this one
    from fleet.config.types import ClusterConfig
    from fleet.limits import LimitWarning
    from fleet.model import Cluster

# how a config key's value is read and checked (fleet/config/validate.py)
OptionKind = Literal["text", "number", "path", "url", "names", "secret_env", "secret_file"]
FieldKind = Literal["text", "bool", "names"]


@dataclass(frozen=True)
class OptionKey:
    """A key of a cluster entry beyond the common ones (name, orchestrator, url, token_env, ...).

    `text`: a non-empty string · `number`: a positive number · `path`: a file, relative to the config file's folder · `url`: an
    http(s) URL without credentials · `names`: one name or a list of names · `secret_env` /
    `secret_file`: where the secret named `secret` is read from (never the secret itself)."""

    kind: OptionKind = "text"
    default: Any = None
    secret: str | None = None  # for secret_env / secret_file: the name it is resolved under
    required: str | None = None  # set: the key must be given; the text says why


@dataclass(frozen=True)
class FormField:
    """One input of the Settings form's cluster editor."""

    key: str
    label: str
    help: str = ""
    kind: FieldKind = "text"


URL_FIELD = FormField("url", "API URL", "e.g. https://10.0.0.1:6443, unix:///var/run/docker.sock")
TOKEN_ENV_FIELD = FormField("token_env", "Token environment variable", "name of a variable holding the token")
CA_FILE_FIELD = FormField("ca_file", "CA certificate file", "to verify the server's certificate")
VERIFY_TLS_FIELD = FormField("verify_tls", "Verify TLS", "turn off only by explicit choice", "bool")
COMMON_FIELDS = (URL_FIELD, TOKEN_ENV_FIELD, CA_FILE_FIELD, VERIFY_TLS_FIELD)

LimitCheck = Callable[["Cluster"], "list[LimitWarning]"]


def _no_endpoint(config: ClusterConfig) -> str:
    return ""


@dataclass(frozen=True)
class OrchestratorFacts:
    name: str  # the `orchestrator:` value in clusters.yaml and Cluster.orchestrator
    label: str  # as people write it on a page
    collector: str  # "module:Class", imported only when a cluster of this orchestrator is configured
    options: dict[str, OptionKey] = field(default_factory=dict)
    url_schemes: tuple[str, ...] = ("http", "https")
    url_required: bool = True
    takes_token: bool = True  # token_env / token_file mean something to it
    form_fields: tuple[FormField, ...] = COMMON_FIELDS
    # the endpoint to show when the entry has no url (e.g. "in-cluster")
    describe_endpoint: Callable[[ClusterConfig], str] = _no_endpoint
    # where measured usage (Node.cpu_used_cores, mem_used_bytes) comes from, in a few words for a page
    usage_source: str = "not reported"
    # published scale and quorum limits (fleet/limits.py), checked on every collected cluster
    limit_checks: tuple[LimitCheck, ...] = ()
    # what its operators call a node (alert summaries, fleet/alerts/conditions.py)
    node_word: str = "node"


_REGISTRY: dict[str, OrchestratorFacts] = {}


def register(facts: OrchestratorFacts) -> None:
    """Make an orchestrator known to the core. Registering the same facts twice is harmless."""
    known = _REGISTRY.get(facts.name)
    if known is not None and known != facts:
        raise ValueError(f"orchestrator {facts.name!r} is already registered with other facts")
    _REGISTRY[facts.name] = facts


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> tuple[OrchestratorFacts, ...]:
    return tuple(_REGISTRY.values())


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def facts_of(name: str) -> OrchestratorFacts | None:
    return _REGISTRY.get(name)


def label_of(name: str) -> str:
    facts = _REGISTRY.get(name)
    return facts.label if facts is not None else name
