"""The administrative read endpoints: ACL tokens and policies, Raft peers, variables.

Enough for clients that look around (python-nomad reads them all); the emulated cluster has no
variables, so that list is empty. Scaling policies are served with services (`sim.nomad.services`).
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from sim.nomad.store import Store
from sim.nomad.views import ApiError, Call

RULES = {
    "management": "",
    "read-only": 'namespace "*" { policy = "read" }\nnode { policy = "read" }\nagent { policy = "read" }',
    "jobs-only": 'namespace "*" { policy = "read" }',
    "no-agent": 'namespace "*" { policy = "read" }\nnode { policy = "read" }',
}


def accessor_of(secret: str) -> str:
    """A stable accessor ID for a secret (never the secret itself)."""
    h = hashlib.sha256(secret.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class Admin:
    def __init__(self, store: Store, tokens: dict[str, str] | None):
        self.store = store
        self.tokens = tokens

    def routes(self) -> list[tuple[str, str | None, Callable[..., Any]]]:
        return [
            (r"/v1/acl/token/self", None, self.token_self),
            (r"/v1/acl/tokens", "management", lambda c: [self._token(s, p, show_secret=False)
                                                         for s, p in self._tokens().items()]),
            (r"/v1/acl/token/([^/]+)", "management", self.token),
            (r"/v1/acl/policies", None, self.policies),
            (r"/v1/acl/policy/([^/]+)", None, self.policy),
            (r"/v1/operator/raft/configuration", "operator:read", self.raft),
            (r"/v1/vars", "namespace:read", lambda c: []),
            (r"/v1/var/(.+)", "namespace:read", self.not_found("variable")),
        ]

    def _tokens(self) -> dict[str, str]:
        if self.tokens is None:
            raise ApiError(400, "ACL support disabled")
        return self.tokens

    @staticmethod
    def _token(secret: str, policy: str, *, show_secret: bool = True) -> dict[str, Any]:
        token = {"AccessorID": accessor_of(secret), "Name": f"{policy} token",
                 "Type": "management" if policy == "management" else "client",
                 "Policies": None if policy == "management" else [policy], "Roles": None, "Global": True,
                 "CreateTime": "2026-01-01T00:00:00Z", "ExpirationTime": None, "CreateIndex": 7, "ModifyIndex": 7}
        return {**token, "SecretID": secret} if show_secret else token

    def token_self(self, call: Call) -> Any:
        secret = call.request.header("x-nomad-token") or (call.request.header("authorization") or "")[7:].strip()
        tokens = self._tokens()
        if secret not in tokens:
            raise ApiError(403, "ACL token not found")
        return self._token(secret, tokens[secret])

    def token(self, call: Call, accessor: str) -> Any:
        for secret, policy in self._tokens().items():
            if accessor_of(secret) == accessor:
                return self._token(secret, policy)
        raise ApiError(404, "ACL token not found")

    def policies(self, call: Call) -> Any:
        return [{"Name": name, "Description": f"{name} access", "CreateIndex": 5, "ModifyIndex": 5}
                for name in sorted(set(self._tokens().values()) - {"management"})]

    def policy(self, call: Call, name: str) -> Any:
        if name not in set(self._tokens().values()) - {"management"}:
            raise ApiError(404, "ACL policy not found")
        return {"Name": name, "Description": f"{name} access", "Rules": RULES.get(name, ""), "JobACL": None,
                "CreateIndex": 5, "ModifyIndex": 5}

    def raft(self, call: Call) -> Any:
        region = call.region
        server = {"ID": accessor_of(region.leader), "Node": f"{region.name}-server-1.{region.name}",
                  "Address": region.leader, "Leader": region.has_leader, "Voter": True, "RaftProtocol": "3"}
        return {"Index": 3, "Servers": [server]}

    @staticmethod
    def not_found(what: str) -> Callable[..., Any]:
        def handler(call: Call, name: str) -> Any:
            raise ApiError(404, f"{what} not found")
        return handler
