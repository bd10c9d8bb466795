"""Which proxy a request goes through, decided as kubectl (Go's net/http) decides it.

- `HTTPS_PROXY` / `HTTP_PROXY` (either case) by the URL's scheme; for the CAST AI side also
  `ALL_PROXY`, as curl and httpx read it. `socks5://`, `socks5h://` and `http://` proxies.
- `NO_PROXY`: `*`, host names and domain suffixes (`example.com` and `.example.com` cover its
  subdomains), IP addresses, **CIDR ranges** (`10.0.0.0/8`), each optionally with a port.
- Loopback (`localhost`, 127.0.0.0/8, ::1) never goes through a proxy taken from the environment:
  kind, minikube and `kubectl port-forward` live there. A kubeconfig's `proxy-url` is explicit and
  applies to its cluster wherever it is, loopback included (kubectl does the same).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

SOCKS_SCHEMES = ("socks5", "socks5h", "socks4", "socks4a")


def _env(env: Mapping[str, str], name: str) -> str:
    return (env.get(name.upper()) or env.get(name.lower()) or "").strip()


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY says to go direct to host[:port] (Go's httpproxy rules, CIDR included)."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:  # a network range
            try:
                if address is not None and address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry_host, entry_port = _split_port(entry)
        if entry_port is not None and port is not None and entry_port != port:
            continue
        try:
            entry_address = ipaddress.ip_address(entry_host.strip("[]"))
        except ValueError:
            entry_address = None
        if entry_address is not None:  # an address matches only itself
            if address == entry_address:
                return True
            continue
        if entry_host.startswith("*."):
            entry_host = entry_host[1:]
        if entry_host.startswith("."):
            if host.endswith(entry_host):
                return True
        elif host == entry_host or host.endswith("." + entry_host):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:8080
        close = entry.find("]")
        rest = entry[close + 1 :]
        return entry[: close + 1], int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, int(port) if port.isdigit() else None
    return entry, None


def proxy_for(url: str, env: Mapping[str, str] | None = None, *, all_proxy: bool = False) -> str | None:
    """The environment's proxy for `url`, or None for a direct connection."""
    env = os.environ if env is None else env
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or is_loopback(host):
        return None
    scheme = (parts.scheme or "https").lower()
    proxy = _env(env, f"{scheme}_proxy") or (_env(env, "all_proxy") if all_proxy else "")
    if not proxy:
        return None
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = None
    if bypassed(host, port, _env(env, "no_proxy")):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"  # Go and curl read a bare host:port as http


def proxy_endpoint(proxy: str) -> str:
    """`scheme://host:port` of a proxy URL: what messages show (never its user or password)."""
    parts = urlsplit(proxy)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"
