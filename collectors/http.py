"""A read-only JSON-over-HTTP client shared by the HTTP collectors.

Only GET exists here, by design: collectors never send a mutating request. Transport failures
and HTTP error statuses become the SourceError that says what the cluster's status is.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from urllib3.connectionpool import HTTPConnectionPool

from collectors.plainget import PlainTarget
from collectors.toolkit import retry_after_s, scrub, short
from collectors.transport import transport_problem
from fleet.config import ClusterConfig
from fleet.source import MalformedPayload, Unauthorized, Unreachable, UpstreamError

log = logging.getLogger(__name__)


class HttpJsonClient:
    """GET JSON from one API base URL with the cluster's TLS settings and auth headers."""

    def __init__(self, base_url: str, config: ClusterConfig, *, headers: Mapping[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        # scrubbed from every message this client builds: servers may echo credentials in errors
        self.secrets = config.secret_values()
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "podium/1"})
        self.session.headers.update(headers or {})
        if not config.verify_tls:
            self.session.verify = False
        elif config.tls.ca_file or config.ca_file:
            self.session.verify = config.tls.ca_file or config.ca_file
        if config.tls.cert_file and config.tls.key_file:
            self.session.cert = (config.tls.cert_file, config.tls.key_file)

    def get_response(self, path: str, *, timeout_s: float, params: Mapping[str, Any] | None = None,
                     allow_redirects: bool = True, stream: bool = False) -> requests.Response:
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        try:
            # verify is passed per request: requests lets REQUESTS_CA_BUNDLE override a session's CA file
            response = self.session.get(url, params=params, timeout=timeout_s, verify=self.session.verify,
                                        allow_redirects=allow_redirects, stream=stream)
        except requests.exceptions.SSLError as exc:
            raise Unreachable(f"TLS failure talking to {self.base_url}: {transport_problem(exc)}") from None
        except requests.exceptions.Timeout:
            raise Unreachable(f"{self.base_url} did not answer within {timeout_s:g}s") from None
        except requests.exceptions.ConnectionError as exc:
            raise Unreachable(f"cannot connect to {self.base_url}: {transport_problem(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise Unreachable(f"request to {self.base_url} failed: {transport_problem(exc)}") from None
        self.raise_for_status(response, path)
        return response

    def get_json(self, path: str, *, timeout_s: float, params: Mapping[str, Any] | None = None) -> Any:
        response = self.get_response(path, timeout_s=timeout_s, params=params)
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError, requests.exceptions.RequestException) as exc:
            raise MalformedPayload(f"GET {path} on {self.base_url} returned invalid JSON: {short(exc)}") from None

    def raise_for_status(self, response: requests.Response, path: str) -> None:
        code = response.status_code
        if code < 400:
            return
        where = f"GET {path} on {self.base_url}"
        if code in (401, 403):
            word = "unauthorized (401): check the token" if code == 401 else "forbidden (403): the token lacks read access"
            raise Unauthorized(f"{where}: {word}")
        if code == 429:
            raise UpstreamError(f"{where}: rate limited (429)",
                                retry_after_s=retry_after_s(response.headers.get("Retry-After")))
        raise UpstreamError(f"{where}: HTTP {code} {scrub(_body_hint(response), self.secrets)}".rstrip())

    def _plain_settings(self) -> dict[str, Any] | None:
        """requests' settings for this session's base URL; None when the environment adds something
        to requests here (a proxy, .netrc credentials, cookies) or the URL is not a plain HTTP one."""
        session = self.session
        url = f"{self.base_url}/"
        try:
            settings = session.merge_environment_settings(url, {}, False, session.verify, session.cert)
            if (session.auth or session.cookies or requests.utils.select_proxy(url, settings["proxies"])
                    or (session.trust_env and requests.utils.get_netrc_auth(url))):
                return None
            if not isinstance(session.get_adapter(url), requests.adapters.HTTPAdapter):
                return None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError):
            return None  # the usual path will say what is wrong
        return settings

    def direct(self) -> "DirectGet | None":
        """Plain GETs on this session's own connection pool, for the many small reads of one round; None
        when the environment adds something to requests here (see `_plain_settings`)."""
        settings = self._plain_settings()
        if settings is None:
            return None
        url = f"{self.base_url}/"
        adapter = self.session.get_adapter(url)
        try:
            pool = adapter.get_connection_with_tls_context(requests.Request("GET", url).prepare(), settings["verify"],
                                                           proxies=settings["proxies"], cert=settings["cert"])
            adapter.cert_verify(pool, url, settings["verify"], settings["cert"])
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError):
            return None
        return DirectGet(self.base_url, pool, dict(self.session.headers), adapter.max_retries)

    def plain_target(self) -> PlainTarget | None:
        """This session's base URL, headers and TLS settings for `PlainGet` (a worker process reads
        with them); None where `direct` would be None."""
        settings = self._plain_settings()
        parts = urlsplit(self.base_url)
        if settings is None or parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        cert = settings["cert"]
        headers = tuple((k, v) for k, v in self.session.headers.items()
                        if k.lower() not in ("accept-encoding", "connection") and isinstance(v, str))
        if any(c in f"{k}{v}" for k, v in headers for c in "\r\n"):
            return None  # requests refuses such a header; its own path says so
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        return PlainTarget(parts.scheme, parts.hostname, port, parts.path, headers, settings["verify"],
                           requests.utils.DEFAULT_CA_BUNDLE_PATH if settings["verify"] is True else None,
                           (cert, None) if isinstance(cert, str) else tuple(cert) if cert else None)

    def close(self) -> None:
        self.session.close()


class DirectGet:
    """GET through the session's connection pool (same connections, TLS settings and headers) without
    requests' per-call work: environment and .netrc lookups, hooks, cookie and settings merging, about
    half a millisecond of CPU a call, which 800 job reads notice. Only a plain 2xx answer is returned;
    for anything else `get` returns None and the caller asks again the usual way (`get_response`),
    so redirects, error statuses and broken connections read exactly as they always do."""

    def __init__(self, base_url: str, pool: HTTPConnectionPool, headers: dict[str, str], retries: Any):
        self.base_url = base_url
        self.prefix = urlsplit(base_url).path
        self.pool, self.headers, self.retries = pool, headers, retries

    def get(self, path: str, params: Mapping[str, str], timeout_s: float) -> tuple[Any, bytes] | None:
        url = f"{self.prefix}{path}?{urlencode(params, doseq=True)}" if params else f"{self.prefix}{path}"
        try:
            response = self.pool.urlopen("GET", url, headers=self.headers, redirect=False, assert_same_host=False,
                                         preload_content=False, decode_content=False, retries=self.retries,
                                         timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s))
        except urllib3.exceptions.ReadTimeoutError:
            raise Unreachable(f"{self.base_url} did not answer within {timeout_s:g}s") from None
        except (urllib3.exceptions.HTTPError, OSError):
            return None
        try:
            if not 200 <= response.status < 300:
                return None
            return response.headers, response.read(decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            raise Unreachable(f"{self.base_url} did not answer within {timeout_s:g}s") from None
        except (urllib3.exceptions.HTTPError, OSError):
            return None
        finally:
            if response.status >= 300 or not response.isclosed():
                response.close()  # not reusable: a broken or unread answer
            response.release_conn()


def _body_hint(response: requests.Response) -> str:
    try:
        text = response.text.strip().replace("\n", " ")
    except Exception:  # a broken body must not hide the status
        return ""
    return text[:160]
