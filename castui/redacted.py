"""What redacted text looks like. The redactor (`castui.report.redact`) writes these marks; the
engine scrubs the raw copy of the agent's Secret with them at capture, without importing the report."""

from __future__ import annotations

import base64

REDACTED = "[REDACTED]"
#: a Secret's `data` value once redacted: base64 of the mark, so the object still decodes
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()
#: kubectl keeps a copy of the applied object, Secret data included, in this annotation
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
