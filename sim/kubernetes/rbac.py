"""RBAC in the emulated API server: bearer tokens bound to a ClusterRole read from its manifest.

A real kube-apiserver authorizes every authenticated request against the rules of the roles
bound to its user: a resource request by (verb, API group, resource, name), anything else
(`/version`, `/apis`, `/healthz`) by (verb, path). The verb of a resource request comes from the
method and the URL: GET on a collection is `list`, with `?watch=1` it is `watch`, on one object
`get`; a non-resource request's verb is the lower-cased method. The rules follow rbac/v1
(`*` wildcards, `resourceNames`, `nonResourceURLs` with a trailing `*` as a prefix).

Every authenticated user of a real cluster also holds the default `system:discovery` and
`system:public-info-viewer` ClusterRoles (bound to `system:authenticated`): discovery, /version
and the health paths. The emulator grants those too, so a manifest needs no rule for them.

Denials answer as the real server words them (apiserver's responsewriters.forbiddenMessage):
    pods is forbidden: User "system:serviceaccount:podium:podium" cannot list resource "pods"
    in API group "" at the cluster scope
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"
# what system:discovery and system:public-info-viewer grant every authenticated user
DEFAULT_NON_RESOURCE_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz",
                             "/openapi", "/openapi/*", "/version", "/version/")


class RoleError(ValueError):
    """A manifest that is not a ClusterRole the emulator can enforce; the message says where."""


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def allows(self, verb: str, group: str, resource: str, name: str | None) -> bool:
        return (_matches(self.verbs, verb) and _matches(self.api_groups, group)
                and _matches(self.resources, resource)
                and (not self.resource_names or (name is not None and name in self.resource_names)))

    def allows_path(self, verb: str, path: str) -> bool:
        return _matches(self.verbs, verb) and any(
            url == path or (url.endswith("*") and path.startswith(url[:-1])) for url in self.non_resource_urls)


@dataclass(frozen=True)
class ClusterRole:
    name: str
    rules: tuple[Rule, ...]

    def allows(self, verb: str, group: str, resource: str, name: str | None = None) -> bool:
        return any(rule.allows(verb, group, resource, name) for rule in self.rules)

    def allows_path(self, verb: str, path: str) -> bool:
        return any(rule.allows_path(verb, path) for rule in self.rules)

    def without(self, index: int) -> "ClusterRole":
        """The same role less its rule number `index` (for proving each rule is needed)."""
        return ClusterRole(self.name, self.rules[:index] + self.rules[index + 1:])


@dataclass(frozen=True)
class Grant:
    """What one bearer token authenticates as, and the ClusterRole bound to that user."""

    user: str
    role: ClusterRole
    defaults: Rule = field(default=Rule(verbs=("get",), non_resource_urls=DEFAULT_NON_RESOURCE_URLS))

    def allows(self, verb: str, group: str, resource: str, name: str | None) -> bool:
        return self.role.allows(verb, group, resource, name)

    def allows_path(self, verb: str, path: str) -> bool:
        return self.defaults.allows_path(verb, path) or self.role.allows_path(verb, path)


@dataclass(frozen=True)
class Attributes:
    """What RBAC sees of a resource request (apiserver's RequestInfo), served or not."""

    group: str
    resource: str  # "pods", or "pods/log" for a subresource
    namespace: str | None
    name: str | None


def resource_attributes(path: str) -> Attributes | None:
    """/api/v1/… and /apis/{group}/{version}/… split as the real server does, whether or not the
    resource exists (so an unknown one is still denied, before any 404); None: a non-resource path."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if not rest:
        return None  # discovery: /api/v1, /apis/apps/v1
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) >= 3 else "")
    return Attributes(group, resource, namespace, rest[1] if len(rest) >= 2 else None)


def _matches(allowed: tuple[str, ...], value: str) -> bool:
    return "*" in allowed or value in allowed


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RoleError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def parse_rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise RoleError(f"{where}: a rule must be a mapping, got {type(entry).__name__}")
    unknown = set(entry) - {"verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"}
    if unknown:
        raise RoleError(f"{where}: unknown keys {sorted(unknown)}")
    rule = Rule(verbs=_strings(entry.get("verbs"), f"{where}.verbs"),
                api_groups=_strings(entry.get("apiGroups"), f"{where}.apiGroups"),
                resources=_strings(entry.get("resources"), f"{where}.resources"),
                resource_names=_strings(entry.get("resourceNames"), f"{where}.resourceNames"),
                non_resource_urls=_strings(entry.get("nonResourceURLs"), f"{where}.nonResourceURLs"))
    if not rule.verbs:
        raise RoleError(f"{where}: verbs is required")
    if bool(rule.resources) == bool(rule.non_resource_urls):
        raise RoleError(f"{where}: a rule names either resources (with apiGroups) or nonResourceURLs")
    return rule


def parse_cluster_role(document: Any, where: str) -> ClusterRole:
    if not isinstance(document, dict) or document.get("kind") != "ClusterRole":
        raise RoleError(f"{where}: not a ClusterRole")
    if document.get("apiVersion") != RBAC_API_VERSION:
        raise RoleError(f"{where}: apiVersion must be {RBAC_API_VERSION}, got {document.get('apiVersion')!r}")
    if document.get("aggregationRule"):
        raise RoleError(f"{where}: aggregated ClusterRoles are not emulated")
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise RoleError(f"{where}: metadata.name is required")
    rules = document.get("rules") or []
    if not isinstance(rules, list):
        raise RoleError(f"{where}: rules must be a list")
    return ClusterRole(name, tuple(parse_rule(entry, f"{where} rules[{i}]") for i, entry in enumerate(rules)))


def load_cluster_role(path: str | Path, name: str | None = None) -> ClusterRole:
    """The ClusterRole in a manifest file (which may hold other documents: a Deployment, a
    binding…); `name` picks one when the file holds several."""
    path = Path(path)
    try:
        documents = [doc for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")) if doc]
    except (OSError, YAMLError) as exc:
        raise RoleError(f"{path}: cannot read the manifest: {exc}") from None
    roles = [parse_cluster_role(doc, f"{path} document {i}") for i, doc in enumerate(documents)
             if isinstance(doc, dict) and doc.get("kind") == "ClusterRole"]
    if name is not None:
        roles = [role for role in roles if role.name == name]
    if len(roles) != 1:
        wanted = f"ClusterRole {name!r}" if name else "one ClusterRole"
        raise RoleError(f"{path}: expected {wanted}, found {len(roles)}")
    return roles[0]


def forbidden_message(user: str, verb: str, group: str, resource: str, namespace: str | None,
                      name: str | None) -> str:
    """The real server's words for a denied resource request."""
    base = resource.split("/")[0]  # the object's resource names it; the subresource is in the verb phrase
    what = f"{base}.{group}" if group else base
    subject = f'{what} "{name}"' if name else what
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return (f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
            f'in API group "{group}" {scope}')


def forbidden_path_message(user: str, verb: str, path: str) -> str:
    """The real server's words for a denied non-resource request."""
    return f'forbidden: User "{user}" cannot {verb} path "{path}"'
