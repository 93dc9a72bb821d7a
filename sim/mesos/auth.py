"""HTTP authentication as Mesos and Marathon enforce it: DC/OS token or basic credentials."""
from __future__ import annotations

import base64
from dataclasses import dataclass

from sim.httpserver import Request, Response


@dataclass(frozen=True)
class Auth:
    """What a server accepts: a DC/OS token (`Authorization: token=...`) or basic credentials."""

    token: str | None = None
    username: str | None = None
    password: str | None = None

    def allows(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        if self.token is not None and header == f"token={self.token}":
            return True
        if self.username is not None:
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return header == f"Basic {expected}"
        return False

    def challenge(self, realm: str) -> dict[str, str]:
        return {"WWW-Authenticate": "acsjwt" if self.token is not None else f'Basic realm="{realm}"'}


def unauthorized(auth: Auth, realm: str) -> Response:
    return Response(401, b"", {"Content-Type": "text/plain", **auth.challenge(realm)})
