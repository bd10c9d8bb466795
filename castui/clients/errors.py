"""The error taxonomy, as the clients raise it; it lives in `castui.errors` so the models
(config, suppressions) can use it without importing the clients."""

from castui.errors import (
    ApiKeyMissing,
    CastuiError,
    ConfigurationError,
    ConnectionFailed,
    Forbidden,
    MalformedResponse,
    NotFound,
    RateLimited,
    ReadOnlyMode,
    RequestTimeout,
    ServerError,
    Unauthorized,
    for_http_status,
)

__all__ = [
    "ApiKeyMissing", "CastuiError", "ConfigurationError", "ConnectionFailed", "Forbidden", "MalformedResponse",
    "NotFound", "RateLimited", "ReadOnlyMode", "RequestTimeout", "ServerError", "Unauthorized", "for_http_status",
]  # fmt: skip
