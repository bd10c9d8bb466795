"""The Kubernetes API over urllib3 alone, for kubeconfigs whose credentials are static.

Importing the `kubernetes` package costs 0.3–0.6 s of CPU (311 modules: oauthlib, requests,
websocket, dateutil…), and a diagnosis's first Kubernetes read used to wait for it. A
context whose user is a bearer token or a client certificate, and whose cluster names its
server and CA, needs none of that: this module speaks to it with urllib3, the transport the
`kubernetes` client uses underneath, through the small part of `ApiClient` that
`KubeGateway` calls (`param_serialize`, `call_api`, `close`).

Everything else (exec credential plugins, auth providers, token files, proxies, in-cluster
service accounts, basic auth) stays with the `kubernetes` package: `static_client` returns
None for it and the gateway builds the `kubernetes` client as before.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from castui.clients.errors import ConfigurationError
from castui.clients.kubeconfig import merged_kubeconfig

#: what a user entry may hold for castui to authenticate without the `kubernetes` package
STATIC_USER_KEYS = frozenset({"token", "client-certificate", "client-certificate-data", "client-key", "client-key-data"})
#: what a cluster entry may hold (proxy-url and anything newer go to the `kubernetes` package)
STATIC_CLUSTER_KEYS = frozenset({"server", "certificate-authority", "certificate-authority-data",
                                 "insecure-skip-tls-verify", "tls-server-name", "extensions"})
#: a proxy in the environment is the `kubernetes` client's to honour (with its no_proxy rules)
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class WireResponse:
    """What `KubeGateway` reads of an answer: the same attributes as the `kubernetes` client's RESTResponse."""

    __slots__ = ("response", "status", "data")

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status: int = response.status
        self.data: bytes | None = None

    def read(self) -> bytes:
        if self.data is None:
            self.data = self.response.data
        return self.data

    def getheader(self, name: str, default: str | None = None) -> str | None:
        value = self.response.headers.get(name, default)
        return value if value is None else str(value)


class WireClient:
    """A keep-alive connection pool to one API server with fixed credentials."""

    def __init__(self, server: str, *, token: str | None, ssl_context: ssl.SSLContext | None,
                 tls_server_name: str | None, maxsize: int) -> None:
        import urllib3

        self.host = server.rstrip("/")
        self.user_agent = "castui"
        #: as the `kubernetes` Configuration says it (castui warns once when it is off)
        self.verify_ssl = ssl_context is None or ssl_context.verify_mode != ssl.CERT_NONE
        self._token = token
        options: dict[str, Any] = {"maxsize": maxsize, "retries": False, "block": False}
        if ssl_context is not None:
            options["ssl_context"] = ssl_context
            options["cert_reqs"] = ssl_context.verify_mode
            if tls_server_name:
                options["server_hostname"] = tls_server_name
        self._pool = urllib3.PoolManager(**options)

    def param_serialize(self, method: str, path: str, *, query_params: list[tuple[str, str]], header_params: dict[str, str],
                        body: Any = None, auth_settings: list[str] | None = None) -> tuple[str, str, dict[str, str], Any, None]:
        url = self.host + path + (f"?{urlencode(query_params, quote_via=quote)}" if query_params else "")
        headers = {**header_params, "User-Agent": self.user_agent}
        if self._token and auth_settings:
            headers["Authorization"] = f"Bearer {self._token}"
        return method, url, headers, body, None

    def call_api(self, method: str, url: str, header_params: dict[str, str], body: Any = None,
                 _request_timeout: float | None = None) -> WireResponse:
        import urllib3

        payload = json.dumps(body) if body is not None else None
        timeout = urllib3.Timeout(total=_request_timeout) if _request_timeout else None
        return WireResponse(self._pool.request(method, url, body=payload, headers=header_params, timeout=timeout,
                                               preload_content=False, retries=False))

    def close(self) -> None:
        self._pool.clear()


def is_static(files: list[Path], context: str) -> bool:
    """Whether `static_client` can serve `context` (no TLS material read yet): False means the
    `kubernetes` package will be needed for it."""
    return _static_entries(files, context) is not None


def static_client(files: list[Path], context: str, *, maxsize: int) -> WireClient | None:
    """A client for `context` when its credentials are static; None when the `kubernetes` package must build it."""
    entries = _static_entries(files, context)
    if entries is None:
        return None
    server, token, cluster, user, cluster_path, user_path = entries
    try:
        context_ssl = _ssl_context(cluster, user, cluster_path, user_path) if server.startswith("https://") else None
    except (OSError, ValueError, ssl.SSLError, binascii.Error) as exc:
        raise ConfigurationError(f"cannot use kubeconfig context {context!r}: {_reason(exc)}") from None
    tls_name = cluster.get("tls-server-name")
    return WireClient(server, token=token or None, ssl_context=context_ssl,
                      tls_server_name=tls_name if isinstance(tls_name, str) else None, maxsize=maxsize)


def _static_entries(files: list[Path], context: str) -> tuple[str, str | None, dict[str, Any], dict[str, Any], Path, Path] | None:
    """(server, token, cluster, user, the cluster's file, the user's file) of a context castui can serve itself."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return None
    merged = merged_kubeconfig(files)
    found = merged["contexts"].get(context)
    if found is None:
        return None
    ctx = found[1].get("context") or {}
    cluster_found = merged["clusters"].get(ctx.get("cluster"))
    user_found = merged["users"].get(ctx.get("user")) if ctx.get("user") else (None, {"user": {}})
    if cluster_found is None or user_found is None:
        return None
    cluster_path, cluster_entry = cluster_found
    user_path, user_entry = user_found
    cluster, user = cluster_entry.get("cluster") or {}, user_entry.get("user") or {}
    if not isinstance(cluster, dict) or not isinstance(user, dict):
        return None
    if set(cluster) - STATIC_CLUSTER_KEYS or set(user) - STATIC_USER_KEYS:
        return None
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        return None
    token = user.get("token")
    if token is not None and not isinstance(token, str):
        return None
    return server, token, cluster, user, cluster_path, user_path


def _ssl_context(cluster: dict[str, Any], user: dict[str, Any], cluster_path: Path, user_path: Path) -> ssl.SSLContext:
    """Trust and client certificate as the `kubernetes` client sets them: the cluster's CA (else the
    system's), no verification with insecure-skip-tls-verify, the user's certificate and key."""
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context()
    if cluster.get("insecure-skip-tls-verify") is True:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.verify_mode = ssl.CERT_REQUIRED
        ca_data = cluster.get("certificate-authority-data")
        ca_file = cluster.get("certificate-authority")
        if ca_data:
            context.load_verify_locations(cadata=_decoded(ca_data, "certificate-authority-data").decode("ascii", "replace"))
        elif ca_file:
            context.load_verify_locations(cafile=str(_resolved(ca_file, cluster_path)))
        else:
            context.load_default_certs()
    cert = _material(user, "client-certificate", user_path)
    key = _material(user, "client-key", user_path)
    if cert is not None or key is not None:
        if cert is None or key is None:
            raise ValueError("the user has a client certificate without its key, or a key without its certificate")
        _load_chain(context, cert, key)
    return context


def _material(user: dict[str, Any], name: str, base: Path) -> bytes | Path | None:
    """A user's certificate or key: the decoded -data, or the path of its file."""
    data = user.get(f"{name}-data")
    if data:
        return _decoded(data, f"{name}-data")
    if not user.get(name):
        return None
    path = _resolved(user[name], base)
    if not path.is_file():  # ssl's own error names no file
        raise FileNotFoundError(2, "No such file", str(path))
    return path


def _load_chain(context: ssl.SSLContext, cert: bytes | Path, key: bytes | Path) -> None:
    """ssl reads a certificate chain only from files: data goes to private files that exist just while it is read."""
    with tempfile.TemporaryDirectory(prefix="castui-kube-") as private:  # mode 0700
        paths = []
        for name, material in (("cert", cert), ("key", key)):
            if isinstance(material, Path):
                paths.append(str(material))
                continue
            target = os.path.join(private, name)
            with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(material)
            paths.append(target)
        context.load_cert_chain(paths[0], paths[1])


def _decoded(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not text")
    try:
        return base64.b64decode(value, validate=False)
    except binascii.Error:
        raise ValueError(f"{what} is not base64") from None


def _resolved(value: Any, base: Path) -> Path:
    """A path from a kubeconfig, relative to the file that names it (kubectl's rule)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base.parent / path


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}"
    if isinstance(exc, ssl.SSLError):
        return f"unusable certificate or key ({exc.reason or exc})"
    return str(exc) or type(exc).__name__
