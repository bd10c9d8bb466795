"""The one redaction function every output uses: screens, diagnose, bundles, reports.

It removes the configured API key wherever it appears, and anything shaped like a
credential: bearer tokens, `X-API-Key`/`Authorization` headers, passwords in URLs,
and values of secret-looking keys. Counts what it removed, by kind.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

REDACTED = "[REDACTED]"

#: (kind, pattern, group to keep before the secret)
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("header", re.compile(r"(?i)((?:x-api-key|authorization|x-castai-api-key)\s*[:=]\s*(?:bearer\s+|basic\s+)?)(?!\$\{)([^\s\"',;]+)")),
    ("bearer-token", re.compile(r"(?i)(bearer\s+)([a-z0-9\-._~+/]{8,}=*)")),
    ("url-password", re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)")),
    ("key-value", re.compile(r"(?i)((?:api[_-]?key|apikey|token|password|passwd|secret|client[_-]?secret)[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\]|\$\{)([^\s\"',;}{]{6,})")),
    ("jwt", re.compile(r"()(eyJ[a-zA-Z0-9_-]{8,}\.[a-zA-Z0-9_-]{8,}\.[a-zA-Z0-9_-]{8,})")),
]
SECRET_KEYS = re.compile(r"(?i)(api[_-]?key|apikey|token|password|passwd|secret|credential|private[_-]?key|client[_-]?secret|certificate-authority-data|client-key-data|client-certificate-data)")


@dataclass
class Redactor:
    """Redacts known secrets (exact values) and secret-shaped text; keeps counts by kind."""

    secrets: list[str] = field(default_factory=list)
    extra_patterns: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.secrets = sorted({s for s in self.secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._extra = [re.compile(p) for p in self.extra_patterns]

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= 4 and value not in self.secrets:
            self.secrets = sorted([*self.secrets, value], key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                self.counts["api-key"] += value.count(secret)
                value = value.replace(secret, REDACTED)
        for kind, pattern in PATTERNS:
            value, n = pattern.subn(lambda m: m.group(1) + REDACTED + (m.group(3) if m.lastindex and m.lastindex >= 3 else ""), value)
            self.counts[kind] += n
        for pattern in self._extra:
            value, n = pattern.subn(REDACTED, value)
            self.counts["custom"] += n
        return value

    def data(self, value: Any, key: str = "") -> Any:
        """Redact a JSON-shaped value; values under secret-looking keys are replaced whole."""
        if isinstance(value, dict):
            return {k: self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v, key) for v in value]
        if isinstance(value, str):
            if key and SECRET_KEYS.search(key) and value and value != REDACTED and not value.startswith("${"):
                self.counts["secret-value"] += 1
                return REDACTED
            return self.text(value)
        return value

    def lines(self, values: Iterable[str]) -> list[str]:
        return [self.text(v) for v in values]


def redactor_for(settings: Any, *more_secrets: str | None) -> Redactor:
    """The redactor for a run: the configured key, extra patterns from the config."""
    secrets = [settings.api_key_value, *more_secrets] if settings is not None else list(more_secrets)
    patterns = list(getattr(settings, "redact_patterns", []) or [])
    return Redactor(secrets=[s for s in secrets if s], extra_patterns=patterns)
