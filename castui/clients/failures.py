"""How a failed exchange is worded, for both of castui's transports: httpx (CAST AI, Helm, the
status page; castui.clients.http) and urllib3 (Kubernetes; castui.clients.kube). Neither is
imported here, so a diagnosis's first Kubernetes reads go out before httpx is imported."""

from __future__ import annotations

import errno
import socket
import ssl
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from castui.clients.errors import CastuiError

#: a server may ask for minutes; castui is interactive and waits a few seconds at most
RETRY_AFTER_CAP = 5.0
SERVER_MESSAGE_LIMIT = 300


def endpoint(url: object) -> str:
    """`host[:port]/path` of a URL: what error messages show (no scheme, query or userinfo)."""
    parts = urlsplit(str(url))
    return f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


def with_server_message(error: CastuiError, server_message: str | None) -> CastuiError:
    """Append what the server said (e.g. which verb a 403 refused) unless it adds nothing."""
    text = " ".join((server_message or "").split())[:SERVER_MESSAGE_LIMIT]
    if text and text.lower() not in error.message.lower():
        error.message = f"{error.message}: {text}"
        error.args = (error.message,)
    return error


def describe_connection_error(exc: BaseException) -> str:
    """A plain reason for a failed connection, from the innermost cause that says something."""
    chain = list(causes(exc))
    for cause in chain:  # the x509 reason (kubectl's "x509: …") wherever it sits in the chain
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS handshake failed ({cause.verify_message or 'certificate verify failed'})"
    for cause in chain:
        if isinstance(cause, ssl.SSLError) or "SSL" in type(cause).__name__:
            return "TLS handshake failed"
    for cause in chain:
        if isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError":
            return "name not resolved"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
    return str(chain[-1]) or type(chain[-1]).__name__


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes, and urllib3's `MaxRetryError.reason`, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        current = current.__cause__ or current.__context__ or (reason if isinstance(reason, BaseException) else None)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
