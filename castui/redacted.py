"""What redacted text looks like, and the secrets castui learned while running. The redactor
(`castui.report.redact`) writes these marks and knows these secrets; the engine scrubs the raw copy
of the agent's Secret with the marks and records the secrets it reads, without importing the report."""

from __future__ import annotations

import base64

REDACTED = "[REDACTED]"
#: a Secret's `data` value once redacted: base64 of the mark, so the object still decodes
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()
#: kubectl keeps a copy of the applied object, Secret data included, in this annotation
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

#: secrets castui read while running (the agent's key from its Secret): every redactor made
#: afterwards knows them, whatever shape they have
_LEARNED: dict[str, str] = {}


def learn_secret(value: str | None, kind: str) -> None:
    """Remember a secret castui has read, before anything it read can be shown."""
    if value and len(value.strip()) >= 4:
        _LEARNED.setdefault(value.strip(), kind)


def learned() -> list[tuple[str, str]]:
    """The secrets learned so far, with their kinds."""
    return list(_LEARNED.items())
