"""One error taxonomy for every client, and one place for the words a person reads.

Clients raise these; the engine turns any of them into an `unknown` verdict whose
reason is `str(error)`. Messages never contain credentials: they are built from
status codes, hosts and resource names only.
"""

from __future__ import annotations


class CastuiError(Exception):
    """Base of every error castui expects and explains."""

    #: short machine-readable kind, used in JSON output and bundle manifests
    kind: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(CastuiError):
    kind = "configuration"


class ApiKeyMissing(CastuiError):
    kind = "api-key-missing"

    def __init__(self) -> None:
        super().__init__(
            "no CAST AI API key configured",
            hint="export CASTAI_API_KEY or enter one in the app",
        )


class Unauthorized(CastuiError):
    kind = "unauthorized"


class Forbidden(CastuiError):
    kind = "forbidden"


class NotFound(CastuiError):
    kind = "not-found"


class RateLimited(CastuiError):
    kind = "rate-limited"


class ServerError(CastuiError):
    kind = "server-error"


class RequestTimeout(CastuiError):
    kind = "timeout"


class ConnectionFailed(CastuiError):
    """DNS, TCP or TLS failure: nothing answered."""

    kind = "connection"


class MalformedResponse(CastuiError):
    kind = "malformed-response"


class ReadOnlyMode(CastuiError):
    kind = "read-only"

    def __init__(self, what: str) -> None:
        super().__init__(f"refused to {what}: castui runs in read-only mode")


def for_http_status(status: int, what: str, *, retry_after: str | None = None) -> CastuiError:
    """Map an HTTP status from any API to the taxonomy, with an actionable message."""
    if status == 401:
        return Unauthorized(f"{what}: 401 Unauthorized", hint="the credentials were rejected or have expired")
    if status == 403:
        return Forbidden(f"{what}: 403 Forbidden", hint="the credentials are valid but not allowed to read this")
    if status == 404:
        return NotFound(f"{what}: 404 Not Found")
    if status == 429:
        if retry_after:
            return RateLimited(f"{what}: 429 Too Many Requests; the server asked to wait {retry_after}s", hint="castui retried as asked")
        return RateLimited(f"{what}: 429 Too Many Requests", hint="try again in a minute")
    if status >= 500:
        return ServerError(f"{what}: server error {status}", hint="the service is failing; check its status page")
    return CastuiError(f"{what}: unexpected HTTP {status}")
