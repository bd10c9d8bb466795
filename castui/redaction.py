"""The redactor for a run: `castui.report.redact.redactor_for` with the kubeconfig's credentials
read here, so the report layer does no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castui.report.redact import Redactor


def redactor_for(settings: Any, *more_secrets: str | None) -> Redactor:
    """The configured key, the kubeconfig's credentials, extra patterns from the config, and `more_secrets`."""
    from castui.clients.kubeconfig import kubeconfig_users
    from castui.report.redact import redactor_for as build

    return build(settings, *more_secrets, kubeconfig_users=kubeconfig_users(getattr(settings, "kubeconfig", None)))
