"""Talking to a kube-apiserver: credentials through the official client, bytes through urllib3.

The official `kubernetes` package loads the connection (kubeconfig contexts with client
certificates, tokens and exec plugins; `url` + bearer token; in-cluster service account) and
signs each request. Responses are read raw (`_preload_content=False` in the old API, `call_api`
in this one) and decoded by `wire` — never through the client's models, which are far
too slow for big lists. Only GET is ever sent. Failures become the SourceError for the status.
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Protocol, TypeVar

import msgspec
import urllib3

from collectors.deadline import DEFAULT_MAX_BYTES, MIB, Budget, bounded, read_capped, too_large
import collectors.urllib3_deadline  # noqa: F401  (urllib3's requests inside bounded() are cuttable)
from collectors.kubernetes import wire as w
from collectors.toolkit import decode, decode_problem, paused_gc, retry_after_s, scrub, short
from collectors.transport import transport_problem
from fleet.config import ClusterConfig, strip_userinfo
from fleet.source import MalformedPayload, SourceError, Unauthorized, Unreachable, UpstreamError

log = logging.getLogger(__name__)
T = TypeVar("T")
PAGE_SIZE = 500
MAX_LIST_S = 600.0  # the default ceiling for a whole paged list (config: max_list_s)
STREAM_READ = 64 * 1024  # a watch is read as it arrives, this much at most at a time
_status_decoder = msgspec.json.Decoder(w.Status)
_head_decoder = msgspec.json.Decoder(w.ListHead)


class SunkPages(Protocol):
    """One list's raw pages, handed to a page sink one by one."""

    def submit(self, data: bytes) -> list[Any]:
        """Take one raw page; give back the items of the pages digested so far, in page order."""

    def collect(self) -> list[Any]:
        """The items of every page still out, in page order."""


class PageSink(Protocol):
    """Somewhere else to decode a big list's pages (pods: a worker process on the second core).
    Its items are what `list_all`'s `convert` would have made of the decoded ones, so either way
    a list reads the same. A page it cannot read raises MalformedPayload saying what is wrong;
    the client adds where."""

    def worth_list(self, first_page_items: int, remaining: int | None) -> bool:
        """Whether a list this big (its first page says how many items remain) is worth handing over."""

    def open_list(self, within_s: float) -> SunkPages:
        """Get ready for the pages of one list; a page's items are waited for at most `within_s`."""


class Gone(SourceError):
    """410: a continue token or resourceVersion too old for the server's history."""


class NotFound(SourceError):
    """404: the path does not exist here (e.g. metrics.k8s.io without metrics-server)."""


SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def in_cluster() -> bool:
    """Running in a pod: the service host is in the environment and a service account is mounted."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(SERVICE_ACCOUNT_TOKEN)


def load_configuration(config: ClusterConfig) -> Any:
    """A `kubernetes.client.Configuration` for this cluster entry (may run exec plugins)."""
    from kubernetes import client
    from kubernetes import config as kube_config

    configuration = client.Configuration()
    try:
        if config.url:
            configuration.host = config.url.rstrip("/")
            if config.token is not None:
                configuration.api_key = {"BearerToken": config.token.reveal()}
                configuration.api_key_prefix = {"BearerToken": "Bearer"}
            configuration.ssl_ca_cert = config.tls.ca_file or config.ca_file
            configuration.cert_file, configuration.key_file = config.tls.cert_file, config.tls.key_file
            configuration.verify_ssl = config.verify_tls
        elif config.option("kubeconfig") or not in_cluster():
            kube_config.load_kube_config(config_file=config.option("kubeconfig"), context=config.option("context"),
                                         client_configuration=configuration, persist_config=False)
        else:
            kube_config.load_incluster_config(client_configuration=configuration)
    except (kube_config.ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
        where = config.option("kubeconfig") or ("in-cluster service account" if not config.url else config.url)
        context = config.option("context")
        raise UpstreamError(f"cannot load the Kubernetes connection from {where}"
                            f"{f' (context {context})' if context else ''}: {exc}") from None
    if not config.verify_tls:
        configuration.verify_ssl = False
    configuration.retries = 0
    return configuration


class KubeConnection:
    """GET requests to one API server, raw bytes back, errors as SourceErrors naming the endpoint.
    Every request is bounded (collectors.deadline): `timeout_s` in all, at most `max_bytes`."""

    def __init__(self, configuration: Any, *, max_bytes: int = DEFAULT_MAX_BYTES, max_list_s: float = MAX_LIST_S):
        from kubernetes import client

        self.api = client.ApiClient(configuration)
        self.server = strip_userinfo(configuration.host)
        self.max_bytes, self.max_list_s = max_bytes, max_list_s
        # scrubbed from server messages: an API server or proxy may echo the credentials back
        tokens = [str(value) for value in (configuration.api_key or {}).values() if value]
        self.secrets = tokens + [token.split(" ", 1)[1] for token in tokens if " " in token]

    @contextmanager
    def within(self, seconds: float, path: str, what: str | None = None) -> Iterator[Budget]:
        """One request to `path` bounded to `seconds` in all (and max_bytes), in this thread."""
        with bounded(seconds, what or self._where(path), max_bytes=self.max_bytes) as budget:
            yield budget

    def _request(self, path: str, params: dict[str, Any], timeout: tuple[float, float]) -> Any:
        """Send the GET; `timeout` is (connect and TLS handshake, each read): the socket-level
        backstop. The total is the caller's `within`: its watchdog cuts the request."""
        method, url, headers, body, post = self.api.param_serialize(
            "GET", path, query_params=list(params.items()), header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"])
        try:
            return self.api.call_api(method, url, headers, body, post, _request_timeout=timeout).response
        except urllib3.exceptions.MaxRetryError as exc:
            raise self._failure(path, exc.reason or exc, timeout[0]) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._failure(path, exc, timeout[0]) from None

    def _failure(self, path: str, exc: BaseException, connect_s: float) -> SourceError:
        if isinstance(exc, urllib3.exceptions.SSLError):
            return Unreachable(f"TLS failure talking to {self.server}: {transport_problem(exc)}")
        if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass: test it first
            return Unreachable(f"cannot connect to {self.server}: {transport_problem(exc)}")
        if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
            return Unreachable(f"cannot connect to {self.server}: no answer within {connect_s:g}s")
        if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
            return Unreachable(f"{self.server} did not answer GET {path} within {connect_s:g}s")
        if isinstance(exc, (urllib3.exceptions.ProtocolError, OSError)):
            return Unreachable(f"request to {self.server} failed: {transport_problem(exc)}")
        return Unreachable(f"cannot connect to {self.server}: {transport_problem(exc)}")

    def get(self, path: str, params: dict[str, Any] | None = None, *, timeout_s: float) -> bytes:
        """The whole answer to one GET, within `timeout_s` in all and `max_bytes`."""
        with self.within(timeout_s, path) as budget:
            # the socket timeouts only back the watchdog up: reads get a little longer, so a
            # slow answer is reported by the cut that names the request and its deadline
            response = self._request(path, params or {}, (timeout_s + 1, timeout_s + 1))
            try:
                data = read_capped(response, budget)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise Unreachable(f"{self.server} broke off GET {path}: {short(exc)}") from None
            finally:
                response.release_conn()
        self.check(response.status, data, path, response.headers)
        return data

    def stream(self, path: str, params: dict[str, Any], *, connect_s: float, read_timeout_s: float) -> Any:
        """An open streaming response (watch), inside the caller's `within`; the caller reads
        lines (`iter_lines`) and closes it."""
        response = self._request(path, params, (connect_s + 1, read_timeout_s))
        if response.status >= 400:
            try:
                data = read_capped(response)
            finally:
                response.release_conn()
            self.check(response.status, data, path, response.headers)
        return response

    def check(self, code: int, data: bytes, path: str, headers: Any = None) -> None:
        if code < 400:
            return
        where = self._where(path)
        message = scrub(_server_message(data), self.secrets)
        if code == 401:
            raise Unauthorized(f"{where}: unauthorized (401): check the token or the kubeconfig credentials")
        if code == 403:
            raise Unauthorized(f"{where}: forbidden (403): {message or 'the credentials lack read access'}")
        if code == 404:
            raise NotFound(f"{where}: not found (404)")
        if code == 410:
            raise Gone(f"{where}: expired (410): {message}")
        retry = headers.get("Retry-After") if headers is not None else None
        raise UpstreamError(f"{where}: HTTP {code} {message}".rstrip(), retry_after_s=retry_after_s(retry))

    def get_object(self, path: str, item_type: type[T], *, timeout_s: float) -> T:
        return decode(self.get(path, timeout_s=timeout_s), item_type, self._where(path))

    def list_all(self, path: str, item_type: type[T], *, timeout_s: float, params: dict[str, Any] | None = None,
                 page_size: int = PAGE_SIZE, convert: Callable[[T], Any] | None = None,
                 sink: PageSink | None = None) -> tuple[list[Any], str]:
        """Every item of a list, page by page (limit/continue); one fresh restart on 410 Expired.
        `convert` is applied to each item as its page is decoded, so only its result is kept.
        A big list is handed page by page to the `sink`, if there is one, and its items kept.
        Each page is its own request within `timeout_s`, so a list of N pages takes at most
        about N × timeout_s; the whole list (restart included) never more than max_list_s."""
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                return self._pages(path, item_type, timeout_s, params or {}, page_size, convert, sink, started)
            except Gone:
                if attempt == 2:
                    raise UpstreamError(f"{self._where(path)}: the list expired (410) twice while "
                                        "paging; the cluster changes faster than it can be read") from None
                log.info("list of %s on %s expired while paging; starting over", path, self.server)
            except MalformedPayload as exc:  # what is wrong with a page: add where
                raise MalformedPayload(f"{self._where(path)}: {exc.message}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _pages(self, path: str, item_type: type[T], timeout_s: float, params: dict[str, Any],
               page_size: int, convert: Callable[[T], Any] | None,
               sink: PageSink | None, started: float) -> tuple[list[Any], str]:
        """Pages in a pipeline: the next page is fetched while this one is decoded (its continue
        token is read first, cheaply, from the page's metadata). A big list shares the decoding
        with the sink; pages come back in order either way."""
        decoder = w.list_decoder(item_type)
        items: list[Any] = []
        pages = 0

        def fetch(token: str | None) -> bytes:  # in the thread that sends it: its bound is its own
            query = {**params, "limit": page_size} | ({"continue": token} if token else {})
            left = self.max_list_s - (time.monotonic() - started)
            if left <= 0:
                raise self._list_overdue(path, pages)
            try:
                return self.get(path, query, timeout_s=min(timeout_s, left))
            except Unreachable:
                if time.monotonic() - started < self.max_list_s:
                    raise
                raise self._list_overdue(path, pages) from None

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kube-page") as prefetch:
            data = fetch(None)
            pages += 1
            head = _list_head(data)
            sunk = None
            if sink is not None and head.continue_ and sink.worth_list(page_size, head.remaining_item_count):
                sunk = sink.open_list(within_s=timeout_s)
            while True:
                following = prefetch.submit(fetch, head.continue_) if head.continue_ else None
                with paused_gc():
                    if sunk is not None:
                        items.extend(sunk.submit(data))
                    else:
                        page = _page_items(decoder, data)
                        items.extend(map(convert, page) if convert else page)
                if following is None:
                    if sunk is not None:
                        with paused_gc():
                            items.extend(sunk.collect())
                    return items, head.resource_version
                data = following.result()
                pages += 1
                head = _list_head(data)

    def _list_overdue(self, path: str, pages: int) -> Unreachable:
        return Unreachable(f"{self._where(path)}: the list was not read within max_list_s {self.max_list_s:g}s "
                           f"({pages:,} pages read); raise max_list_s if this cluster really needs longer")

    def _where(self, path: str) -> str:
        return f"GET {path} on {self.server}"

    def close(self) -> None:
        try:
            self.api.close()
        except Exception:  # closing must never fail a shutdown
            log.debug("closing the Kubernetes client failed", exc_info=True)


def iter_lines(response: Any, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "the stream") -> Iterator[bytes]:
    """Newline-delimited JSON from a streaming response, each line as soon as it is complete
    (read1: whatever has arrived, never waiting to fill a buffer); a line over `max_bytes` is refused."""
    pending = b""
    while chunk := response.read1(STREAM_READ, decode_content=False):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield line
        if len(pending) > max_bytes:
            response.close()
            raise too_large(what, max_bytes, f"one event over {len(pending) / MIB:,.0f} MiB")
    if pending.strip():
        yield pending


def _list_head(data: bytes) -> w.ListMeta:
    """The page's list metadata alone (continue token, remaining count): the API server writes
    `metadata` before `items`, so the head is decoded without scanning the items."""
    end = data.find(b',"items":', 0, 4096)
    head = data[:end] + b"}" if end > 0 else data
    try:
        return _head_decoder.decode(head).metadata
    except msgspec.DecodeError:
        pass
    try:
        return _head_decoder.decode(data).metadata
    except msgspec.DecodeError as exc:
        raise MalformedPayload(decode_problem(exc)) from None


def _page_items(decoder: msgspec.json.Decoder, data: bytes) -> list[Any]:
    """The items of one list page; MalformedPayload says what is wrong, the caller where."""
    try:
        page = decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise MalformedPayload(decode_problem(exc)) from None
    if page.items is msgspec.UNSET:
        raise MalformedPayload(w.NOT_A_LIST)
    return page.items or []


def _server_message(data: bytes) -> str:
    try:
        return _status_decoder.decode(data).message[:300]
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = data[:160].decode("utf-8", "replace").strip().replace("\n", " ")
        return text

