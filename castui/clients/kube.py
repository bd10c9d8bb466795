"""The Kubernetes API, over the official `kubernetes` client, as raw JSON dicts.

Blocking by design: the engine calls these methods through `asyncio.to_thread`.
The `kubernetes` package costs ~0.7 s to import, so it is imported on the first
call, never with this module; the kubeconfig is read up front (`castui.clients.kubeconfig`),
which is enough to name the context, cluster and server (and to fail early on a bad one).

Responses are read raw (`call_api`, no model building): lists can be large and
castui only needs a few fields.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from castui import __version__
from castui.clients.errors import (
    CastuiError,
    ConfigurationError,
    ConnectionFailed,
    MalformedResponse,
    NotFound,
    RequestTimeout,
    for_http_status,
)
from castui.clients.failures import (
    RETRY_AFTER_CAP,
    causes,
    describe_connection_error,
    endpoint,
    retry_after_seconds,
    with_server_message,
)
from castui.clients.gc_pause import paused_collector
from castui.clients.kubeconfig import client_config, existing_files, kubeconfig_paths, select_context
from castui.clients.proxies import proxy_endpoint, proxy_for
from castui.clients.resources import RESOURCES, ResourceType

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kubernetes.client import ApiClient
    from kubernetes.client.rest import RESTResponse

PDB = "poddisruptionbudgets"
#: Kubernetes < 1.21 serves PodDisruptionBudgets only here
PDB_V1BETA1 = ResourceType("policy", "v1beta1", PDB, "PodDisruptionBudget", True)
IN_CLUSTER = "in-cluster"

Query = Sequence[tuple[str, str]]
#: answers at least this big are decoded with the cyclic garbage collector paused
BIG_ANSWER_BYTES = 1_000_000
#: keep-alive connections kept per cluster (one per concurrent read castui makes)
CONNECTIONS = 64  # a re-run's first round: ~50 reads (Facts.prefetch)
#: one kubeconfig load at a time: the client writes certificate data to a temp file it shares by
#: content and names before it fills it, so a second gateway built meanwhile (a fleet whose clusters
#: share a CA) could load an empty CA file and fail its TLS handshake
_LOADING = threading.Lock()
#: how long a read waits for one of the gateway's lanes before it goes ahead anyway
LANE_WAIT_S = 0.5
#: like client-go: a read answered 429 (or 5xx) with Retry-After is tried again, at most this often
RETRIES = 2
JSON = "application/json"
#: answers read before the gateway that asks for them was built (`read_ahead`): (server, path, query) → the answer
_AHEAD: dict[tuple[str, str, tuple[tuple[str, str], ...]], "Future[RESTResponse | None]"] = {}
#: the client those reads use, (kubeconfig files, context) → it: the next gateway for that context adopts it
_ADOPTABLE: dict[tuple[tuple[str, ...], str], "Future[Any]"] = {}
#: objects a list asks for per page (kubectl's 500 made a diagnosis of 200,000 events ~100 sequential
#: round trips; a list castui keeps whole holds every page anyway, so fewer, bigger pages cost no memory)
PAGE_SIZE = 5000


class KubeGateway:
    def __init__(self, kubeconfig: str | None = None, context: str | None = None, timeout: float = 10.0,
                 *, lanes: int | None = None) -> None:
        """`lanes`: keep to this many requests in flight (and so connections); None: as many as asked."""
        self.timeout = timeout
        self._lanes = threading.BoundedSemaphore(lanes) if lanes else None
        self._paths = kubeconfig_paths(kubeconfig)
        self._files = existing = existing_files(self._paths)
        # one named file must exist (kubectl --kubeconfig); a list (KUBECONFIG=a:missing:b) skips missing ones
        if kubeconfig and len(existing) < len(self._paths) and (len(self._paths) == 1 or not existing):
            missing = ", ".join(str(p) for p in self._paths if not p.is_file())
            raise ConfigurationError(f"kubeconfig not found: {missing}")
        self._in_cluster = not existing and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        if self._in_cluster:
            self._context, self._cluster, self._server = IN_CLUSTER, None, _in_cluster_server()
        else:
            self._context, self._cluster, self._server = select_context(self._paths, existing, context)
        self._api: ApiClient | None = None
        self._proxy: str | None = None
        #: when the exec plugin's credential expires (epoch seconds): the client is rebuilt then
        self._expires: float | None = None
        self._lock = threading.Lock()
        self._pdb_type = RESOURCES[PDB]

    def __repr__(self) -> str:
        return f"KubeGateway(context={self._context!r}, server={self._server!r})"

    @property
    def context_name(self) -> str:
        return self._context

    @property
    def cluster_name(self) -> str | None:
        """The kubeconfig's name for the context's cluster (None in-cluster)."""
        return self._cluster

    @property
    def server(self) -> str:
        return self._server

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None

    def __enter__(self) -> KubeGateway:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- reads --

    def iter_pages(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = PAGE_SIZE,
        projection: type | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page's items in turn (limit/continue), so a huge list never sits in memory whole.

        The next page is asked for while this one is decoded: its continue token is read from the
        head of the answer (a list's metadata precedes its items), so the server's encoding, the
        round trip and castui's decoding overlap instead of taking turns. `projection`: a TypedDict
        naming the only fields wanted of each item (castui.clients.projection).
        """
        from concurrent.futures import ThreadPoolExecutor

        what = _what("list", resource, namespace)
        query = [("limit", str(page_size))]
        query += [(k, v) for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v]

        def fetch(token: str | None) -> RESTResponse:
            page_query = [*query, ("continue", token)] if token else query
            return self._checked(self._resource_call("GET", resource, namespace, None, what, query=page_query), what)

        seen: set[str] = set()

        def fresh(token: object) -> object:
            # a server (or a cache in front of it) that repeats a continue token would page forever
            if isinstance(token, str):
                if token in seen:
                    raise MalformedResponse(f"{what}: {endpoint(self._server)} repeats the continue token of a page")
                seen.add(token)
            return token

        with ThreadPoolExecutor(1, thread_name_prefix="castui-kube-page") as ahead:
            response = fetch(None)
            while True:
                token = fresh(_peek_continue(response.data))
                pending: Future[RESTResponse] | None = ahead.submit(fetch, token) if isinstance(token, str) else None
                data = self._json(response, what, projection)
                del response  # the raw bytes can go while the items are folded
                items = data.get("items")
                if token is _UNREAD:
                    metadata = data.get("metadata")
                    token = fresh(metadata.get("continue") if isinstance(metadata, dict) else None)
                    pending = ahead.submit(fetch, token) if isinstance(token, str) and token else None
                del data
                if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
                    raise MalformedResponse(f"{what}: `items` from {endpoint(self._server)} is not a list of objects")
                yield items or []
                if pending is None:
                    return
                response = pending.result()

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.iter_pages(
            resource, namespace, label_selector=label_selector, field_selector=field_selector, page_size=page_size
        ):
            items.extend(page)
        return items

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """One object, or None when it does not exist."""
        what = _what("get", resource, namespace, name)
        response = self._resource_call("GET", resource, namespace, name, what)
        if response.status == 404:
            return None
        return self._json(self._checked(response, what), what)

    def logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        *,
        previous: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int = 2_000_000,
    ) -> str:
        """A container's log (its previous instance's with `previous`), at most `limit_bytes`."""
        what = f"read the {'previous ' if previous else ''}log of pod {namespace}/{pod}"
        what += f" container {container}" if container else ""
        query = [("limitBytes", str(limit_bytes))]
        query += [("container", container)] if container else []
        query += [("previous", "true")] if previous else []
        query += [("tailLines", str(tail_lines))] if tail_lines is not None else []
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
        response = self._send("GET", path, what, query=query, accept="text/plain, */*", preload=False)
        if not 200 <= response.status < 300:
            self._read(response, what)
            if previous and _no_previous_container(response):
                raise NotFound(
                    f"{what}: there is no previous log",
                    hint="the container has not restarted, or the kubelet already discarded that log",
                )
            raise self._status_error(response, what)
        return self._read_capped(response, what, limit_bytes).decode("utf-8", errors="replace")

    def version(self) -> dict[str, Any]:
        what = "read the Kubernetes version"
        return self._json(self._checked(self._send("GET", "/version", what), what), what)

    # -- writes (fixes) --

    def create(self, resource: str, namespace: str | None, body: dict[str, Any]) -> dict[str, Any]:
        what = _what("create", resource, namespace, (body.get("metadata") or {}).get("name"))
        response = self._resource_call("POST", resource, namespace, None, what, body=body)
        return self._json(self._checked(response, what), what)

    def delete(self, resource: str, namespace: str | None, name: str) -> None:
        what = _what("delete", resource, namespace, name)
        self._checked(self._resource_call("DELETE", resource, namespace, name, what), what)

    # -- plumbing --

    def _resource_call(
        self,
        method: str,
        resource: str,
        namespace: str | None,
        name: str | None,
        what: str,
        *,
        query: Query = (),
        body: dict[str, Any] | None = None,
    ) -> RESTResponse:
        response = self._send(method, self._path(resource, namespace, name), what, query=query, body=body)
        if resource == PDB and response.status == 404 and self._pdb_type is not PDB_V1BETA1:
            # policy/v1 arrived in 1.21; only switch when v1beta1 really answers
            fallback = self._send(method, _path(PDB_V1BETA1, namespace, name), what, query=query, body=body)
            if fallback.status != 404 or _is_object_not_found(fallback):
                self._pdb_type = PDB_V1BETA1
                return fallback
        return response

    def _path(self, resource: str, namespace: str | None, name: str | None) -> str:
        if resource == PDB:
            return _path(self._pdb_type, namespace, name)
        if resource not in RESOURCES:
            raise ValueError(f"unknown resource {resource!r}; known: {', '.join(sorted(RESOURCES))}")
        return _path(RESOURCES[resource], namespace, name)

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        query: Query = (),
        body: dict[str, Any] | None = None,
        accept: str = JSON,
        preload: bool = True,
    ) -> RESTResponse:
        if method == "GET" and body is None and preload and accept == JSON and self._lanes is None:
            early = _AHEAD.pop((self._server, path, tuple(query)), None)
            answer = early.result() if early is not None else None  # its error, if it failed, is this read's
            if answer is not None:
                return answer
        api = self._client()
        wanted = {"Accept": accept, **({"Content-Type": "application/json"} if body is not None else {})}
        method, url, headers, payload, _ = api.param_serialize(
            method, path, query_params=[*query], header_params=wanted, body=body, auth_settings=["BearerToken"]
        )
        # lanes are a preference, not a queue: a read that waited LANE_WAIT_S goes ahead on a connection
        # of its own, so a server that hangs costs each read its own timeout, not the sum of them
        laned = self._lanes is not None and preload and self._lanes.acquire(timeout=LANE_WAIT_S)
        try:
            return self._exchange(api, method, url, headers, payload, what, preload)
        finally:
            if laned:
                assert self._lanes is not None
                self._lanes.release()

    def _exchange(self, api: ApiClient, method: str, url: str, headers: Any, payload: Any, what: str,
                  preload: bool) -> RESTResponse:
        deadline = time.monotonic() + self.timeout
        for attempt in range(RETRIES + 1):
            try:
                response = api.call_api(method, url, header_params=headers, body=payload, _request_timeout=self.timeout)
            except Exception as exc:  # urllib3 and socket errors, ApiException for TLS
                raise self._transport_error(exc, what) from None
            wait = _retry_wait(response, method, attempt, deadline)
            if wait is None:
                break
            self._read(response, what)  # drained, so the connection goes back to the pool
            time.sleep(wait)  # the server asked for it (Retry-After), within the call's timeout
        if preload:
            self._read(response, what)
        return response

    def _read(self, response: RESTResponse, what: str) -> bytes:
        try:
            data: bytes = response.read()
        except Exception as exc:  # the body broke off: a reset or an IncompleteRead
            raise self._transport_error(exc, what) from None
        return data

    def _read_capped(self, response: RESTResponse, what: str, limit: int) -> bytes:
        """At most `limit` bytes, even from a server that ignores limitBytes."""
        raw = response.response
        try:
            data: bytes = raw.read(limit + 1)
        except Exception as exc:
            raise self._transport_error(exc, what) from None
        if len(data) > limit:
            raw.close()  # unread bytes remain: this connection cannot go back to the pool
            return data[:limit]
        raw.release_conn()
        return data

    def _checked(self, response: RESTResponse, what: str) -> RESTResponse:
        if not 200 <= response.status < 300:
            raise self._status_error(response, what)
        return response

    def _status_error(self, response: RESTResponse, what: str) -> CastuiError:
        # for a 403 the Status message says which user lacks which verb on what: keep it
        error = for_http_status(response.status, what, retry_after=response.getheader("Retry-After"))
        return with_server_message(error, _status_message(response.data))

    def _json(self, response: RESTResponse, what: str, projection: type | None = None) -> dict[str, Any]:
        body = response.data or b""
        if projection is not None:
            from castui.clients.projection import decode_projected

            with paused_collector():
                projected = decode_projected(body, projection)
            if projected is not None:
                return projected
        try:
            if len(body) < BIG_ANSWER_BYTES:
                data = json.loads(body)
            else:
                with paused_collector():  # see castui.clients.gc_pause: 2–3× faster on big lists
                    data = json.loads(body)
        except ValueError as exc:
            raise MalformedResponse(f"{what}: invalid JSON from {endpoint(self._server)} ({exc})") from None
        if not isinstance(data, dict):
            raise MalformedResponse(f"{what}: expected a JSON object from {endpoint(self._server)}")
        return data

    def _transport_error(self, exc: BaseException, what: str) -> CastuiError:
        from urllib3 import exceptions as u3

        server = endpoint(self._server)
        reason = exc.reason if isinstance(exc, u3.MaxRetryError) and exc.reason is not None else exc
        # NewConnectionError subclasses ConnectTimeoutError for history's sake: a refusal is not a timeout
        if isinstance(reason, (u3.TimeoutError, TimeoutError)) and not isinstance(reason, u3.NewConnectionError):
            return RequestTimeout(f"{what}: {server} did not answer within {self.timeout:g}s")
        if isinstance(reason, (u3.ProtocolError, u3.IncompleteRead)) and "SSL" not in str(reason):
            return ConnectionFailed(f"{what}: connection to {server} closed mid-response")
        if self._proxy and (isinstance(reason, u3.ProxyError) or "SOCKS" in str(reason)
                            or not any(isinstance(c, ssl.SSLError) for c in causes(reason))):
            # name the proxy: blaming the apiserver for a proxy that is down sends people the wrong way
            return ConnectionFailed(f"{what}: cannot connect to {server} through the proxy "
                                    f"{proxy_endpoint(self._proxy)}: {describe_connection_error(reason)}")
        return ConnectionFailed(f"{what}: cannot connect to {server}: {describe_connection_error(reason)}")

    def _adoption_key(self) -> tuple[tuple[str, ...], str]:
        return tuple(str(f) for f in self._files), self._context

    def _client(self) -> ApiClient:
        with self._lock:
            if self._api is not None and self._expires is not None and time.time() > self._expires - 10:
                self._api.close()
                self._api = None  # the plugin's credential expired: ask it again, as kubectl would
            if self._api is None:
                self._api = self._build_client()
            return self._api

    def _build_client(self) -> ApiClient:
        if not self._in_cluster:
            # a token or certificate needs no `kubernetes` import: the first read goes out without it
            from castui.clients.kube_wire import static_client

            built = _ADOPTABLE.pop(self._adoption_key(), None)  # by `read_ahead`, for this context
            if built is not None and (wire := built.result()) is not None:
                return wire  # type: ignore[no-any-return]
            with _LOADING:
                wire = static_client(self._files, self._context, maxsize=CONNECTIONS)
            if wire is not None:
                wire.user_agent = f"castui/{__version__}"
                _warn_insecure(wire.verify_ssl, self._server)
                return wire  # type: ignore[return-value]  # the part of ApiClient the gateway calls
        client, config = client_library()

        configuration = client.Configuration()
        configuration.retries = False  # urllib3 would retry a closed port 3 times before failing
        # a diagnosis reads ~15 things at once; the default pool (5 × cores) threw connections away
        configuration.connection_pool_maxsize = CONNECTIONS
        try:
            if self._in_cluster:
                config.load_incluster_config(client_configuration=configuration)
                configuration.proxy = _remote_dns(proxy_for(self._server))
                configuration.no_proxy = None
            else:
                from castui.clients.credentials import resolve_config

                node = client_config(self._files, self._context)
                # exec plugins and token files resolved as kubectl does (reasons, timeouts, no stray log lines)
                self._expires = resolve_config(node, timeout=self.timeout)
                with _LOADING:
                    config.load_kube_config_from_dict(
                        node,
                        context=self._context,
                        client_configuration=configuration,
                        persist_config=False,
                    )
                # a kubeconfig's proxy-url applies wherever the cluster is; otherwise the environment's,
                # by kubectl's rules (NO_PROXY ranges, loopback direct). Decided once: the client would
                # re-read the environment on every request (its token refresh sets the host again)
                configuration.proxy = _remote_dns(_cluster_of(node).get("proxy-url") or proxy_for(self._server))
                configuration.no_proxy = None
                _warn_insecure(configuration.verify_ssl, self._server)
        except (config.ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
            source = "the in-cluster service account" if self._in_cluster else f"kubeconfig context {self._context!r}"
            raise ConfigurationError(f"cannot use {source}: {exc}") from None
        self._proxy = configuration.proxy
        api: ApiClient = client.ApiClient(configuration)
        api.user_agent = f"castui/{__version__}"
        return api


#: a read ahead: (resource, namespace, name or None for a list, query) as the gateway's own read would ask it
AheadRead = tuple[str, str | None, str | None, Query]


def read_ahead(kubeconfig: str | None, context: str | None, timeout: float, reads: Sequence[AheadRead]) -> Callable[[], None]:
    """Start `reads` (GETs) now, each in a thread of its own, for the gateway a command builds later for
    the same context: the cluster's first round trips overlap what the command still has to import
    (~0.3 s) instead of following it. That gateway's own read of the same path and query takes the
    answer, or its error, once, and adopts the client; what nobody takes is dropped by the function
    returned, which the command calls at its end.

    Only for credentials castui reads itself (a token or a certificate, castui.clients.kube_wire):
    a kubeconfig it cannot use, an exec plugin or in-cluster credentials are left to the gateway, as
    if nothing had been read ahead."""
    import concurrent.futures

    try:
        gateway = KubeGateway(kubeconfig, context, timeout)
    except CastuiError:
        return lambda: None  # the command's own gateway says why
    if gateway._in_cluster:
        return lambda: None
    built: Future[Any] = concurrent.futures.Future()
    adoption = gateway._adoption_key()
    _ADOPTABLE[adoption] = built
    ahead: list[tuple[tuple[str, str, tuple[tuple[str, str], ...]], Future[RESTResponse | None], str]] = []
    for resource, namespace, name, query in reads:
        what = _what("get" if name else "list", resource, namespace, name)
        key = (gateway._server, gateway._path(resource, namespace, name), tuple(query))
        ahead.append((key, concurrent.futures.Future(), what))
        _AHEAD[key] = ahead[-1][1]

    def read(key: tuple[str, str, tuple[tuple[str, str], ...]], answer: Future[RESTResponse | None], what: str) -> None:
        try:
            client = built.result()
            if client is None:
                answer.set_result(None)  # the gateway reads it itself
                return
            method, url, headers, _, _ = client.param_serialize("GET", key[1], query_params=[*key[2]],
                                                                 header_params={"Accept": JSON}, auth_settings=["BearerToken"])
            answer.set_result(gateway._exchange(client, method, url, headers, None, what, True))
        except BaseException as exc:  # noqa: BLE001 - the read's own error, for the read that takes it
            answer.set_exception(exc)

    def build() -> None:
        from castui.clients.kube_wire import static_client

        try:
            with _LOADING:
                wire = static_client(gateway._files, gateway._context, maxsize=CONNECTIONS)
        except CastuiError:
            wire = None  # the gateway builds its own and says why
        if wire is not None:
            wire.user_agent = f"castui/{__version__}"
            _warn_insecure(wire.verify_ssl, gateway._server)
        built.set_result(wire)
        for entry in ahead[1:]:
            threading.Thread(target=read, args=entry, name="castui-kube-ahead", daemon=True).start()
        if ahead:
            read(*ahead[0])

    # daemon threads: a read ahead that hangs never holds the command's end (its taker has a timeout)
    threading.Thread(target=build, name="castui-kube-ahead", daemon=True).start()

    def forget() -> None:
        if _ADOPTABLE.get(adoption) is built:
            del _ADOPTABLE[adoption]
        for key, answer, _ in ahead:
            if _AHEAD.get(key) is answer:
                del _AHEAD[key]

    return forget


def _remote_dns(proxy: str | None) -> str | None:
    """Go's SOCKS5 dialer lets the proxy resolve names (urllib3 spells that socks5h): a name only
    the proxy's side of the network knows must work as it does for kubectl."""
    if proxy and proxy.lower().startswith("socks5://"):
        return "socks5h://" + proxy[len("socks5://"):]
    return proxy


def _cluster_of(node: Any) -> dict[str, Any]:
    clusters = node.value.get("clusters") or []
    entry = clusters[0].value if clusters and hasattr(clusters[0], "value") else {}
    cluster = entry.get("cluster") if isinstance(entry, dict) else None
    return cluster if isinstance(cluster, dict) else {}


_warned_insecure: set[str] = set()


def _warn_insecure(verified: bool, server: str) -> None:
    """insecure-skip-tls-verify: said once per server, not as urllib3's warning on every request."""
    if verified:
        return
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    if server not in _warned_insecure:
        _warned_insecure.add(server)
        print(f"castui: warning: TLS certificates of {endpoint(server)} are not verified "
              "(insecure-skip-tls-verify in the kubeconfig)", file=sys.stderr)


def client_library() -> tuple[Any, Any]:
    """`kubernetes.client` and `kubernetes.config`: the slow import (~0.3 s), paid on the first call only."""
    from kubernetes import client, config

    return client, config


# -- in-cluster --


def _in_cluster_server() -> str:
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"


# -- paths and answers --


def _path(rtype: ResourceType, namespace: str | None, name: str | None) -> str:
    scope = f"/namespaces/{namespace}" if rtype.namespaced and namespace else ""
    return f"{rtype.api_prefix}{scope}/{rtype.plural}" + (f"/{name}" if name else "")


def _what(verb: str, resource: str, namespace: str | None, name: str | None = None) -> str:
    target = f"{resource} {name}" if name else resource
    if resource in RESOURCES and not RESOURCES[resource].namespaced:
        return f"{verb} {target}"
    return f"{verb} {target} in {namespace}" if namespace else f"{verb} {target} in all namespaces"


def _status(data: bytes | None) -> dict[str, Any]:
    try:
        status = json.loads(data or b"")
    except ValueError:
        return {}
    return status if isinstance(status, dict) else {}


def _status_message(data: bytes | None) -> str | None:
    message = _status(data).get("message")
    return message if isinstance(message, str) else None


def _is_object_not_found(response: RESTResponse) -> bool:
    """A 404 about an object (Status names it), not about the API path itself."""
    return bool((_status(response.data).get("details") or {}).get("name"))


#: the continue token could not be read from the head of a list answer
_UNREAD = object()
_PEEK_BYTES = 16 * 1024


def _peek_continue(data: bytes | None) -> object:
    """The continue token (None: last page) from a list answer's metadata, without decoding the items;
    _UNREAD when the head does not start with the list's metadata."""
    head = (data or b"")[:_PEEK_BYTES]
    meta_at, items_at = head.find(b'"metadata"'), head.find(b'"items"')
    if meta_at < 0 or 0 <= items_at < meta_at:
        return _UNREAD
    colon = head.find(b":", meta_at + len(b'"metadata"'))
    try:
        meta, _ = json.JSONDecoder().raw_decode(head[colon + 1 :].decode("utf-8", "ignore").lstrip())
    except ValueError:
        return _UNREAD
    if not isinstance(meta, dict):
        return _UNREAD
    token = meta.get("continue")
    return token if isinstance(token, str) and token else None


def _retry_wait(response: RESTResponse, method: str, attempt: int, deadline: float) -> float | None:
    """Seconds to wait before asking again, or None: client-go's rule (429 or 500-504 carrying
    Retry-After, which API Priority and Fairness sends), for reads only, within the timeout."""
    if method != "GET" or attempt >= RETRIES or not (response.status == 429 or 500 <= response.status <= 504):
        return None
    asked = retry_after_seconds(response.getheader("Retry-After"))
    if asked is None:
        return None
    wait = min(asked, RETRY_AFTER_CAP)
    return wait if time.monotonic() + wait < deadline else None


def _no_previous_container(response: RESTResponse) -> bool:
    # the apiserver answers 400 "previous terminated container "x" in pod "y" not found"
    message = (_status_message(response.data) or "").lower()
    return response.status in (400, 404) and "previous" in message
