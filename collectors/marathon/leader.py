"""GET from a replicated service whose standbys answer `307` with the leader's address.

Both Marathon (non-leading instances) and the Mesos master (non-leading masters, for the state
endpoints; `Location: //host:port/path`, scheme-relative) redirect to the leader. requests would
follow those redirects itself but drops the `Authorization` header when the host or port changes,
so the leader would answer 401; following them blindly would instead send credentials wherever a
`Location` points. So redirects are followed here, deliberately:

- only a redirect from the configured endpoint is followed, and only one hop;
- only a *leader* redirect: same path as requested, http(s), no downgrade from https to http
  while credentials are in play; anything else is reported as an error, not followed;
- the leader found is remembered (later requests go straight to it, and back to the configured
  endpoint if it stops answering) and reported through `leader_url`.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

from collectors.http import HttpJsonClient
from fleet.config import ClusterConfig
from fleet.source import Unreachable, UpstreamError

log = logging.getLogger(__name__)
MIN_TRY_S = 0.2  # less time left than this: no second try


class LeaderFollowingClient:
    def __init__(self, base_url: str, config: ClusterConfig, *, service: str,
                 headers: Mapping[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        self.config = config
        self.service = service
        self.headers = dict(headers or {})
        self.configured = HttpJsonClient(self.base_url, config, headers=self.headers)
        self.leader: HttpJsonClient | None = None

    @property
    def leader_url(self) -> str | None:
        """The leader's base URL when it is not the configured endpoint."""
        return self.leader.base_url if self.leader else None

    def get_bytes(self, path: str, *, timeout_s: float, params: Mapping[str, Any] | None = None) -> bytes:
        """The body, within `timeout_s` in all: asking the configured endpoint again after a leader
        that stopped answering, or following a redirect, uses what is left of it."""
        deadline = time.monotonic() + timeout_s
        first_s = timeout_s
        if self.leader is not None:
            try:
                return self._read(self.leader, path, timeout_s, params)
            except (Unreachable, _Redirected) as exc:
                log.info("%s leader %s stopped answering; asking %s again", self.service, self.leader.base_url,
                         self.base_url)
                self._forget_leader()
                if isinstance(exc, Unreachable) and deadline - time.monotonic() < MIN_TRY_S:
                    raise
                first_s = _left(deadline)
        try:
            return self._read(self.configured, path, first_s, params)
        except _Redirected as redirect:
            self._follow(redirect, path)
        assert self.leader is not None
        try:
            return self._read(self.leader, path, _left(deadline), params)
        except _Redirected as again:
            raise UpstreamError(f"GET {path}: {self.service} leader {self.leader.base_url} named by {self.base_url} "
                                f"redirected again to {again.location}; no leader answers") from None

    def _read(self, client: HttpJsonClient, path: str, timeout_s: float, params: Mapping[str, Any] | None) -> bytes:
        response = client.get_response(path, timeout_s=timeout_s, params=params, allow_redirects=False)
        if response.is_redirect:
            raise _Redirected(response.url, response.headers["Location"])
        return response.content

    def _follow(self, redirect: _Redirected, path: str) -> None:
        target = urljoin(redirect.request_url, redirect.location)
        parts, here = urlsplit(target), urlsplit(redirect.request_url)
        where = f"GET {path} on {self.base_url}: redirected to {target}"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UpstreamError(f"{where}, which is not an HTTP address; not followed")
        if parts.path.rstrip("/") != here.path.rstrip("/"):
            raise UpstreamError(f"{where}, a different path: not a leader redirect, not followed")
        if here.scheme == "https" and parts.scheme == "http" and "Authorization" in self.headers:
            raise UpstreamError(f"{where}: refusing to send credentials over plain HTTP to the {self.service} leader")
        leader = f"{parts.scheme}://{parts.netloc}"
        log.info("%s at %s is not the leader; following the redirect to %s", self.service, self.base_url, leader)
        self.leader = HttpJsonClient(leader, self.config, headers=self.headers)

    def _forget_leader(self) -> None:
        if self.leader is not None:
            self.leader.close()
        self.leader = None

    def close(self) -> None:
        self._forget_leader()
        self.configured.close()


class _Redirected(Exception):
    def __init__(self, request_url: str, location: str):
        super().__init__(location)
        self.request_url = request_url
        self.location = location


def _left(deadline: float) -> float:
    return round(max(MIN_TRY_S, deadline - time.monotonic()), 1)
