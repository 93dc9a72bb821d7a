"""Who may look and who may change: the `settings.auth` policy and the role of a signed-in user.

Pure: no Streamlit here. The dashboard signs users in through Streamlit's OIDC support
(`st.login`, provider secrets in `.streamlit/secrets.toml`) and asks `role_of()` what the claims
of that user allow. Two roles: viewers see every page but Settings; admins may also edit Settings.
Scripts and Prometheus reach the HTTP API with API tokens (`api_tokens`), kept only as SHA-256
hashes: a token is 256 random bits, so a plain hash cannot be reversed or guessed.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Mapping

Role = Literal["admin", "viewer"]
ANYONE = "*"  # in `viewers`: every user the identity provider signs in
LIST_KEYS = ("admins", "viewers", "admin_groups", "viewer_groups")
AUTH_KEYS = (*LIST_KEYS, "group_claim", "provider", "api_tokens")
TOKEN_PREFIX = "podium_"
TOKEN_KEYS = ("name", "sha256", "created_at")


@dataclass(frozen=True)
class ApiToken:
    """An API token as the config keeps it: never the token itself. API tokens have the viewer role."""

    name: str
    sha256: str
    created_at: str | None = None


@dataclass(frozen=True)
class AuthPolicy:
    admins: frozenset[str] = frozenset()  # e-mail addresses, compared case-insensitively
    viewers: frozenset[str] = frozenset()
    admin_groups: frozenset[str] = frozenset()  # values of the OIDC group claim
    viewer_groups: frozenset[str] = frozenset()
    group_claim: str = "groups"
    provider: str | None = None  # the [auth.<provider>] section of secrets.toml; None: the [auth] one
    api_tokens: tuple[ApiToken, ...] = ()


def role_of(policy: AuthPolicy, claims: Mapping[str, Any]) -> Role | None:
    """The role the claims of a signed-in user grant, or None (signed in, but not let in).
    An e-mail counts only when the provider says it is verified (or says nothing about it)."""
    email = _verified_email(claims)
    groups = _groups(claims.get(policy.group_claim))
    if (email and email in policy.admins) or groups & policy.admin_groups:
        return "admin"
    if (email and email in policy.viewers) or groups & policy.viewer_groups or ANYONE in policy.viewers:
        return "viewer"
    return None


def may_edit_settings(role: Role | None) -> bool:
    return role == "admin"


def _verified_email(claims: Mapping[str, Any]) -> str | None:
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip() or claims.get("email_verified") is False:
        return None
    return email.strip().lower()


def _groups(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split(",")) if value else frozenset()
    if isinstance(value, (list, tuple)):
        return frozenset(str(item) for item in value)
    return frozenset()


# -- settings.auth in clusters.yaml -------------------------------------------------------------------

def auth_problems(raw: Any) -> list[tuple[str, str]]:
    """What is wrong with a `settings.auth` mapping, as (key, message); empty when it is valid."""
    if not isinstance(raw, Mapping):
        return [("", "must be a mapping with admins, viewers, admin_groups, viewer_groups, group_claim, provider")]
    problems = [(key, f"unknown key; known keys: {', '.join(AUTH_KEYS)}") for key in raw if key not in AUTH_KEYS]
    for key in LIST_KEYS:
        value = raw.get(key)
        if value is not None and not _string_list(value):
            problems.append((key, "must be a list of non-empty strings"))
    for key in ("group_claim", "provider"):
        value = raw.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            problems.append((key, "must be a non-empty string"))
    problems += _token_problems(raw.get("api_tokens"))
    if not problems and not any(raw.get(key) for key in LIST_KEYS):
        problems.append(("", "nobody could get in: list at least one of admins, viewers, admin_groups, viewer_groups"))
    return problems


def auth_policy(raw: Mapping[str, Any]) -> AuthPolicy:
    """The policy of a valid `settings.auth` mapping (see auth_problems)."""
    def entries(key: str, *, lower: bool = False) -> frozenset[str]:
        return frozenset(item.strip().lower() if lower else item.strip() for item in raw.get(key) or [])

    return AuthPolicy(admins=entries("admins", lower=True), viewers=entries("viewers", lower=True),
                      admin_groups=entries("admin_groups"), viewer_groups=entries("viewer_groups"),
                      group_claim=str(raw.get("group_claim") or "groups").strip(),
                      provider=str(raw["provider"]).strip() if raw.get("provider") else None,
                      api_tokens=tuple(ApiToken(str(t["name"]), str(t["sha256"]).lower(),
                                                str(t["created_at"]) if t.get("created_at") else None)
                                       for t in raw.get("api_tokens") or []))


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


def mentions_auth(config_text: str) -> bool:
    """Whether a config, even one that does not load, asks for sign-in: a broken file must then keep
    the dashboard locked rather than open it to everyone."""
    return re.search(r"^\s*auth\s*:", config_text, re.MULTILINE) is not None


# -- API tokens ---------------------------------------------------------------------------------------

def _token_problems(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        return [("api_tokens", "must be a list of {name, sha256, created_at}")]
    problems, names = [], set()
    for index, token in enumerate(value):
        where = f"api_tokens[{index}]"
        if not isinstance(token, Mapping):
            problems.append((where, "must be a mapping with name, sha256 and created_at"))
            continue
        problems += [(f"{where}.{key}", f"unknown key; known keys: {', '.join(TOKEN_KEYS)}")
                     for key in token if key not in TOKEN_KEYS]
        name = token.get("name")
        if not (isinstance(name, str) and name.strip()):
            problems.append((f"{where}.name", "must be a non-empty string"))
        elif name in names:
            problems.append((f"{where}.name", f"{name!r} is used by another token"))
        names.add(name)
        if not (isinstance(token.get("sha256"), str) and re.fullmatch(r"[0-9a-fA-F]{64}", token["sha256"])):
            problems.append((f"{where}.sha256", "must be the 64 hex digits of the token's SHA-256 (Settings "
                                                 "writes it; the token itself never goes in the file)"))
    return problems


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_token(name: str) -> tuple[str, dict[str, str]]:
    """A fresh token (shown once) and the entry the config keeps for it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return token, {"name": name, "sha256": hash_token(token), "created_at": created}


def api_token_name(policy: AuthPolicy, token: str) -> str | None:
    """The name of the configured API token `token` is, or None; compared in constant time."""
    digest = hash_token(token)
    found = None
    for known in policy.api_tokens:
        if hmac.compare_digest(known.sha256, digest):
            found = known.name
    return found
