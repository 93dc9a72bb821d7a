"""Who may read the API: open without `settings.auth`; with it, a Bearer API token (viewer role).

A config that does not load but mentions `auth` keeps the API locked, as it keeps the pages locked.
Answers to refused requests carry no data, and no answer repeats a credential the client sent.
"""
from __future__ import annotations

from fleet.auth import AuthPolicy, api_token_name, mentions_auth
from fleet.runtime import FleetRuntime

# routes a load balancer, an orchestrator's probes or a peer replica reach without a token
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/api/v1/status"})


def locked(runtime: FleetRuntime) -> bool:
    if runtime.config_error is None or not runtime.config_path.exists():
        return False
    return mentions_auth(runtime.config_path.read_text(encoding="utf-8", errors="replace"))


def refusal(runtime: FleetRuntime | None, path: str, authorization: str | None) -> str | None:
    """Why this request may not read `path`, or None when it may."""
    if path in OPEN_PATHS:
        return None
    if runtime is None:
        return "the server is starting"
    policy: AuthPolicy | None = runtime.settings.auth
    if policy is None and not locked(runtime):
        return None
    if policy is None:
        return "the configuration has problems and mentions auth: the API stays locked until it is fixed"
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "this API needs an `Authorization: Bearer <token>` header with an API token (see docs/api.md)"
    if api_token_name(policy, token.strip()) is None:
        return "the API token is not valid (unknown or revoked)"
    return None
