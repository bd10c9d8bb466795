"""The one HTTP client castui uses, and the one mapping from HTTP failures to the
error taxonomy (`castui.clients.errors`).

Every message names what castui was doing and the URL's host and path; never a
header, a query string or a body castui sent, so credentials cannot leak into one.
"""

from __future__ import annotations

import asyncio
import functools
import json as jsonlib
import logging
import os
import ssl
import time
from typing import Any

import httpx  # castui.clients (imported first) keeps httpx's own command line out

from castui import __version__
from castui.clients.errors import (
    CastuiError,
    ConfigurationError,
    ConnectionFailed,
    MalformedResponse,
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
from castui.clients.proxies import proxy_endpoint, proxy_for

log = logging.getLogger(__name__)

USER_AGENT = f"castui/{__version__}"
DEFAULT_TIMEOUT = 10.0
#: statuses worth another try: rate limiting and a gateway or backend briefly away
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.25
#: 502–504 may have reached the backend, so only repeat requests that are safe to repeat
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


#: requests one client has in flight at once (a fleet's clusters share the CAST AI client)
IN_FLIGHT = 16


class GatedClient(httpx.AsyncClient):
    """An AsyncClient that never has more requests in flight than it has connections.

    Requests left waiting inside httpcore's pool cost CPU on every pool event (each waiting request
    scans every connection): measured against the lab, 3–6 ms of CPU a request with 40 waiting, 1.1 ms
    when they wait here instead. A fleet of twenty sends ~100 requests through one client.
    """

    def __init__(self, *, in_flight: int = IN_FLIGHT, **kwargs: Any) -> None:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        verify = kwargs.pop("verify", True)
        # proxies chosen per request by castui's rules (NO_PROXY ranges, loopback direct), not httpx's;
        # with a transport given httpx itself never uses `verify`, so a lazy one stays with the router
        kwargs.setdefault("transport", ProxyRouter(verify=verify, limits=limits))
        super().__init__(limits=limits, **kwargs)
        self._in_flight = asyncio.Semaphore(in_flight)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        async with self._in_flight:  # without stream=True, send() returns with the body read and the connection free
            return await super().send(request, **kwargs)


class ProxyRouter(httpx.AsyncBaseTransport):
    """Direct, or through the proxy `castui.clients.proxies` picks for the request's URL (HTTP or
    SOCKS); a failure reaching the proxy is reported as the proxy's (httpx.ProxyError)."""

    def __init__(self, *, verify: Any, limits: httpx.Limits) -> None:
        """`verify`: what httpx takes, or a function that builds it (called once, at the first request
        that needs TLS: loading CA bundles costs tens of ms, which plain-HTTP requests need not pay)."""
        self._verify, self._limits = verify, limits
        self._transports: dict[tuple[str | None, bool], httpx.AsyncHTTPTransport] = {}

    def _tls(self) -> Any:
        if callable(self._verify):
            try:
                self._verify = self._verify()
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise ConfigurationError(f"cannot load the trusted CA certificates: {_short(exc)}") from None
        return self._verify

    def _transport(self, proxy: str | None, tls: bool = True) -> httpx.AsyncHTTPTransport:
        """The pool for `proxy`; `tls` False: one that only ever carries plain HTTP (no TLS to the
        server nor to the proxy), so its TLS context is never used and none is built for it."""
        key = (proxy, tls)
        if key not in self._transports:
            via = proxy.replace("socks5h://", "socks5://", 1) if proxy else None  # httpx's SOCKS resolves remotely
            verify = self._tls() if tls else False
            try:
                self._transports[key] = httpx.AsyncHTTPTransport(verify=verify, limits=self._limits, proxy=via)
            except ImportError:
                raise httpx.ProxyError(f"{proxy_endpoint(proxy or '')} needs SOCKS support: pip install 'httpx[socks]'") from None
            except ValueError as exc:
                raise httpx.ProxyError(f"{proxy_endpoint(proxy or '')} is not a proxy URL castui can use ({exc})") from None
        return self._transports[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = proxy_for(str(request.url), all_proxy=True)
        transport = self._transport(proxy, request.url.scheme != "http" or (proxy or "").startswith("https://"))
        if proxy is None:
            return await transport.handle_async_request(request)
        try:
            return await transport.handle_async_request(request)
        except (httpx.ConnectError, httpx.ProxyError, httpx.ConnectTimeout) as exc:
            if any(isinstance(c, ssl.SSLError) for c in causes(exc)):
                raise  # the tunnel stood; the TLS handshake with the server failed: not the proxy's doing
            reason = describe_connection_error(exc) if isinstance(exc, httpx.ConnectError) else _short(exc)
            if isinstance(exc, httpx.ConnectTimeout):
                reason = "no answer"
            raise httpx.ProxyError(f"{proxy_endpoint(proxy)}: {reason}", request=request) from None

    async def aclose(self) -> None:
        for transport in self._transports.values():
            await transport.aclose()


def create_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """An AsyncClient with castui's defaults; `timeout` also bounds retry waits."""
    return GatedClient(
        verify=functools.partial(_tls_context, *(os.environ.get(name) for name in CA_VARIABLES)),
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,  # a redirect means a wrong URL; following it could carry the key elsewhere
        http2=False,
    )


#: where users point TLS clients at extra CAs (OpenSSL's, requests', curl's); they key the cache
CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@functools.lru_cache(maxsize=4)
def _tls_context(cert_file: str | None, cert_dir: str | None, requests_bundle: str | None = None,
                 curl_bundle: str | None = None) -> ssl.SSLContext:
    """Trust as curl and kubectl do, built once (loading CAs costs ~25 ms; a session opens two clients):
    the operating system's store through `truststore` (as pip does; on Linux it reads SSL_CERT_FILE /
    SSL_CERT_DIR, else the distribution's bundle), certifi's bundle, and the files REQUESTS_CA_BUNDLE and
    CURL_CA_BUNDLE name. A corporate CA (TLS interception) installed in any of them is trusted."""
    try:
        import truststore

        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError:  # pragma: no cover - a dependency; kept for a broken install
        context = ssl.create_default_context()
    import certifi

    loaded: set[str] = set()
    for bundle in (certifi.where(), cert_file, requests_bundle, curl_bundle):
        # often one file under several names (SSL_CERT_FILE = REQUESTS_CA_BUNDLE = CURL_CA_BUNDLE): ~40 ms a load
        if bundle and os.path.isfile(bundle) and os.path.realpath(bundle) not in loaded:
            loaded.add(os.path.realpath(bundle))
            context.load_verify_locations(cafile=bundle)
    if cert_dir and os.path.isdir(cert_dir):
        context.load_verify_locations(capath=cert_dir)
    return context


def labelled(what: str, url: str | httpx.URL) -> str:
    """How every message starts: what castui was doing, and where."""
    return f"{what} at {endpoint(url)}"


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str,
    headers: dict[str, str] | None = None,
    json: Any = None,
    params: dict[str, str] | None = None,
    retries: int = 2,
    check: bool = True,
) -> httpx.Response:
    """Send a request, retrying 429/502–504; with `check`, a non-2xx answer raises its taxonomy error."""
    label = labelled(what, url)
    budget = _budget(client)
    deadline = time.monotonic() + budget
    attempt = 0
    while True:
        response = await _send(client, method, url, what, budget, headers=headers, json=json, params=params)
        wait = _retry_wait(response, method, attempt, retries)
        if wait is None or time.monotonic() + wait > deadline:
            break
        log.debug("%s: HTTP %d, retrying in %.2fs", label, response.status_code, wait)
        await asyncio.sleep(wait)
        attempt += 1
    if check and not response.is_success:
        raise status_error(response, label)
    return response


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str,
    headers: dict[str, str] | None = None,
    json: Any = None,
    params: dict[str, str] | None = None,
    retries: int = 2,
) -> Any:
    """`request` and decode the JSON answer; an empty 204 is None."""
    response = await request(client, method, url, what=what, headers=headers, json=json, params=params, retries=retries)
    if response.status_code == 204 or (not response.content and method.upper() != "GET"):
        return None
    return decode_json(response, labelled(what, url))


def decode_json(response: httpx.Response, label: str) -> Any:
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    if content_type and "json" not in content_type:
        raise MalformedResponse(f"{label}: answered {content_type} instead of JSON")
    try:
        return jsonlib.loads(response.content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedResponse(f"{label}: invalid JSON ({_short(exc)})") from None


def status_error(response: httpx.Response, label: str) -> CastuiError:
    """The taxonomy error for a non-2xx answer, with the server's own message when it has one."""
    error = for_http_status(response.status_code, label, retry_after=response.headers.get("retry-after"))
    if response.is_redirect:
        return with_server_message(error, f"redirected to {endpoint(response.headers.get('location', ''))}")
    return with_server_message(error, _server_message(response))


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    what: str,
    budget: float,
    **kwargs: Any,
) -> httpx.Response:
    # `from None` below: castui's message is the whole story; httpx's chain adds only noise
    label = labelled(what, url)
    started = time.monotonic()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise RequestTimeout(f"{label}: no answer within {budget:g}s") from None
    except httpx.ConnectError as exc:
        raise ConnectionFailed(f"{label}: {describe_connection_error(exc)}") from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise ConnectionFailed(f"{label}: connection closed mid-response") from None
    except httpx.WriteError:
        raise ConnectionFailed(f"{label}: connection closed while sending the request") from None
    except httpx.ProxyError as exc:
        raise ConnectionFailed(f"{label}: through the proxy {_short(exc)}") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise ConfigurationError(f"{what}: invalid URL ({_short(exc)})") from None
    except httpx.LocalProtocolError:
        # its text quotes the offending header, which may be the API key: say nothing of it
        raise ConfigurationError(f"{label}: the request could not be sent (a header value is not valid)") from None
    except httpx.DecodingError:
        raise MalformedResponse(f"{label}: the body does not match its Content-Encoding") from None
    except httpx.RequestError as exc:
        raise ConnectionFailed(f"{label}: {describe_connection_error(exc)}") from None
    log.debug("%s %s → %d in %.0f ms", method, endpoint(url), response.status_code, (time.monotonic() - started) * 1000)
    return response


def _budget(client: httpx.AsyncClient) -> float:
    """The client's timeout, which also caps the time spent waiting to retry."""
    timeout = client.timeout
    limits = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t is not None]
    return max(limits) if limits else DEFAULT_TIMEOUT


def _retry_wait(response: httpx.Response, method: str, attempt: int, retries: int) -> float | None:
    """Seconds to wait before retrying, or None when this answer is final."""
    status = response.status_code
    if attempt >= retries or status not in RETRY_STATUSES:
        return None
    if status != 429 and method.upper() not in IDEMPOTENT:
        return None
    asked = retry_after_seconds(response.headers.get("retry-after"))
    if asked is not None:
        return min(asked, RETRY_AFTER_CAP)
    return BACKOFF_BASE * 2.0**attempt


def _server_message(response: httpx.Response) -> str | None:
    """`message` from a JSON error body (CAST AI's ErrorResponse, a Kubernetes Status)."""
    try:
        body = jsonlib.loads(response.content)
    except ValueError:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def _short(exc: BaseException, limit: int = 120) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
