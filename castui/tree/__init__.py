"""The decision tree: ten symptoms, each a module that reads top to bottom
(checks → causes → fixes). Ids are a public contract: never rename them."""

from __future__ import annotations

from castui.tree import (
    agent_crashloop,
    agent_disconnected,
    api_unauthorized,
    evictor_aggressive,
    helm_mismatch,
    no_scale_down,
    no_scale_up,
    spot_fallback,
    terraform_drift,
    workload_autoscaler,
)
from castui.tree.model import Symptom

SYMPTOMS: tuple[Symptom, ...] = (
    agent_crashloop.SYMPTOM,
    agent_disconnected.SYMPTOM,
    api_unauthorized.SYMPTOM,
    no_scale_up.SYMPTOM,
    no_scale_down.SYMPTOM,
    spot_fallback.SYMPTOM,
    evictor_aggressive.SYMPTOM,
    terraform_drift.SYMPTOM,
    helm_mismatch.SYMPTOM,
    workload_autoscaler.SYMPTOM,
)

BY_ID: dict[str, Symptom] = {s.id: s for s in SYMPTOMS}


def symptom(symptom_id: str) -> Symptom:
    try:
        return BY_ID[symptom_id]
    except KeyError:
        from castui.clients.errors import ConfigurationError

        raise ConfigurationError(f"unknown symptom {symptom_id!r}; known: {', '.join(BY_ID)}") from None


def cause_ids() -> list[str]:
    seen: dict[str, None] = {}
    for s in SYMPTOMS:
        for c in s.causes:
            seen.setdefault(c.id, None)
    return list(seen)
