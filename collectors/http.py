"""A read-only JSON-over-HTTP client shared by the HTTP collectors.

Only GET exists here, by design: collectors never send a mutating request. Transport failures
and HTTP error statuses become the SourceError that says what the cluster's status is.

Every GET is bounded (`collectors.deadline`): connect, TLS handshake, headers and the whole body
within the call's `timeout_s`, however the server paces its bytes, and the body within the
cluster's `max_answer_mib` (a declared Content-Length over it is refused before a byte is read).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from urllib3.connectionpool import HTTPConnectionPool

from collectors.deadline import MIB, bounded, read_capped
import collectors.urllib3_deadline  # noqa: F401  (urllib3's requests inside bounded() are cuttable)
from collectors.plainget import PlainTarget
from collectors.toolkit import retry_after_s, short
from collectors.transport import transport_problem
from fleet.config import ClusterConfig
from fleet.source import MalformedPayload, Unauthorized, Unreachable, UpstreamError, scrub

log = logging.getLogger(__name__)
ERROR_BODY_BYTES = 65536  # of an error answer, enough for the server's message


class HttpJsonClient:
    """GET JSON from one API base URL with the cluster's TLS settings and auth headers."""

    def __init__(self, base_url: str, config: ClusterConfig, *, headers: Mapping[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        # scrubbed from every message this client builds: servers may echo credentials in errors
        self.secrets = config.secret_values()
        self.max_bytes = int(config.max_answer_mib * MIB)
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
                     allow_redirects: bool = True) -> requests.Response:
        """The answer with its body already read (`.content`, `.json()`), all within `timeout_s` and
        the cluster's size ceiling; an error status raises the SourceError it means."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        what = f"GET {path} on {self.base_url}"
        with bounded(timeout_s, what, max_bytes=self.max_bytes) as budget:
            response = self._send(url, params, timeout_s, allow_redirects)
            try:
                self.raise_for_status(response, path)
                body = read_capped(response.raw, budget)
                if budget.expired:  # cut mid-answer: what was read merely looks short
                    raise budget.overdue()
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise Unreachable(f"{what}: the answer broke off: {transport_problem(exc)}") from None
            finally:
                response.close()
        response._content, response._content_consumed = body, True  # what requests does on a plain read
        return response

    def _send(self, url: str, params: Mapping[str, Any] | None, timeout_s: float,
              allow_redirects: bool) -> requests.Response:
        try:
            # verify is passed per request: requests lets REQUESTS_CA_BUNDLE override a session's CA file.
            # The socket timeout is a backstop a second past the budget: the watchdog's cut reports first.
            return self.session.get(url, params=params, timeout=timeout_s + 1, verify=self.session.verify,
                                    allow_redirects=allow_redirects, stream=True)
        except requests.exceptions.SSLError as exc:
            raise Unreachable(f"TLS failure talking to {self.base_url}: {transport_problem(exc)}") from None
        except requests.exceptions.Timeout:
            raise Unreachable(f"{self.base_url} did not answer within {timeout_s:g}s") from None
        except requests.exceptions.ConnectionError as exc:
            raise Unreachable(f"cannot connect to {self.base_url}: {transport_problem(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise Unreachable(f"request to {self.base_url} failed: {transport_problem(exc)}") from None

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
        message = server_message(_error_body(response))
        raise UpstreamError(short(scrub(f"{where}: HTTP {code} {message}".rstrip(), self.secrets)))

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
        return DirectGet(self.base_url, pool, dict(self.session.headers), adapter.max_retries, self.max_bytes)

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
                           (cert, None) if isinstance(cert, str) else tuple(cert) if cert else None,
                           max_bytes=self.max_bytes)

    def close(self) -> None:
        self.session.close()


class DirectGet:
    """GET through the session's connection pool (same connections, TLS settings and headers) without
    requests' per-call work: environment and .netrc lookups, hooks, cookie and settings merging, about
    half a millisecond of CPU a call, which 800 job reads notice. Only a plain 2xx answer is returned;
    for anything else `get` returns None and the caller asks again the usual way (`get_response`),
    so redirects, error statuses and broken connections read exactly as they always do. A request
    past its deadline, or an answer over the size ceiling, raises: the usual way would fare no better."""

    def __init__(self, base_url: str, pool: HTTPConnectionPool, headers: dict[str, str], retries: Any,
                 max_bytes: int):
        self.base_url = base_url
        self.prefix = urlsplit(base_url).path
        self.pool, self.headers, self.retries, self.max_bytes = pool, headers, retries, max_bytes

    def get(self, path: str, params: Mapping[str, str], timeout_s: float) -> tuple[Any, bytes] | None:
        url = f"{self.prefix}{path}?{urlencode(params, doseq=True)}" if params else f"{self.prefix}{path}"
        with bounded(timeout_s, f"GET {path} on {self.base_url}", max_bytes=self.max_bytes) as budget:
            try:
                response = self.pool.urlopen("GET", url, headers=self.headers, redirect=False,
                                             assert_same_host=False, preload_content=False, decode_content=False,
                                             retries=self.retries,
                                             timeout=urllib3.Timeout(connect=timeout_s + 1, read=timeout_s + 1))
            except (urllib3.exceptions.HTTPError, OSError):
                if budget.expired:
                    raise
                return None
            try:
                if not 200 <= response.status < 300:
                    return None
                body = read_capped(response, budget)
                if budget.expired:
                    raise budget.overdue()
                return response.headers, body
            except (urllib3.exceptions.HTTPError, OSError):
                if budget.expired:
                    raise
                return None
            finally:
                if response.status >= 300 or not response.isclosed():
                    response.close()  # not reusable: a broken or unread answer
                response.release_conn()


def _error_body(response: requests.Response) -> bytes:
    try:
        return response.raw.read(ERROR_BODY_BYTES, decode_content=True) or b""
    except Exception:  # a broken body must not hide the status
        return b""


def server_message(body: bytes) -> str:
    """The server's own words from an error answer: `{"message": ...}` (Nomad's ACL errors,
    Marathon), `{"error": ...}`, or a plain-text body (Nomad, Mesos), on one line."""
    text = body.decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    if isinstance(payload, dict):
        for key in ("message", "Message", "error", "Error", "details"):
            if isinstance(payload.get(key), str) and payload[key].strip():
                return " ".join(payload[key].split())
    return " ".join(text.split())
