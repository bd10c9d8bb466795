"""What the commands (`diagnose`, `bundle`, `report`, the fleet) and the app share, apart from
the entry point (`castui.cli`) so that none of them imports it. Imports stay lazy, as in cli."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castui.report.redact import Redactor


def redactor_for(settings: Any, *more_secrets: str | None) -> Redactor:
    """The redactor for a run, with the credentials of the kubeconfig read here: the report layer does no I/O."""
    from castui.clients.kubeconfig import kubeconfig_users
    from castui.report.redact import redactor_for as build

    return build(settings, *more_secrets, kubeconfig_users=kubeconfig_users(getattr(settings, "kubeconfig", None)))
