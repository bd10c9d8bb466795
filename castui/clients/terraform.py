"""Terraform state, read natively: the castai_autoscaler resource's declared policies.

`terraform plan` cannot run without the castai provider, so castui compares what
the state declares with the live policies itself, the way the provider does:
only the declared keys, minus the fields the provider treats as volatile.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from castui.clients.errors import MalformedResponse

#: paths the provider itself ignores when it compares (filterVolatileFields)
VOLATILE = (
    "defaultNodeTemplateVersion",
    "spotInstances",
    "unschedulablePods.nodeConstraints",
    "unschedulablePods.customInstancesEnabled",
    "unschedulablePods.podPinner.status",
    "nodeDownscaler.evictor.status",
)


def read_state(directory: Path) -> dict[str, Any] | None:
    """The `castai_autoscaler` declaration from `terraform.tfstate`, or None when there is none.

    Returns {"address", "cluster_id", "declared": camelCase policies dict, "state_file"}.
    """
    path = directory / "terraform.tfstate"
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedResponse(f"{path}: not a readable Terraform state: {exc}") from None
    if not isinstance(state, dict) or state.get("version") != 4:
        version = state.get("version") if isinstance(state, dict) else "?"
        raise MalformedResponse(f"{path}: Terraform state version {version} is not supported (4 expected)")
    for resource in _list(state.get("resources")):
        if not isinstance(resource, dict) or resource.get("type") != "castai_autoscaler" or resource.get("mode") != "managed":
            continue
        for instance in _list(resource.get("instances")):
            attributes = instance.get("attributes") if isinstance(instance, dict) else None
            if not isinstance(attributes, dict):
                raise MalformedResponse(f"{path}: the castai_autoscaler resource has no attributes object")
            address = ".".join(p for p in (resource.get("module"), "castai_autoscaler", resource.get("name")) if p and isinstance(p, str))
            return {
                "address": address,
                "cluster_id": attributes.get("cluster_id"),
                "declared": declared_policies(attributes),
                "state_file": str(path),
            }
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def declared_policies(attributes: dict[str, Any]) -> dict[str, Any]:
    """`autoscaler_settings` (snake_case, lists of one block) → camelCase, or `autoscaler_policies_json` as is."""
    settings = attributes.get("autoscaler_settings")
    if settings:
        declared = _camel(_unwrap(settings))
        if not isinstance(declared, dict):
            raise MalformedResponse("autoscaler_settings is not a block of settings")
        return declared
    raw = attributes.get("autoscaler_policies_json")
    if raw:
        try:
            value = json.loads(raw) if isinstance(raw, str) else None
        except json.JSONDecodeError as exc:
            raise MalformedResponse(f"autoscaler_policies_json is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise MalformedResponse("autoscaler_policies_json is not a JSON object")
        return value
    return {}


def _unwrap(value: Any) -> Any:
    """SDK v2 stores a nested block as a one-item list."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return _unwrap(value[0])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items() if v is not None and v != []}
    return value


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): _camel(v) for k, v in value.items()}
    return value


def drift(declared: dict[str, Any], live: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(path, declared, live) for each declared leaf that differs, volatile paths skipped."""
    changes = []
    for key, want in declared.items():
        path = f"{prefix}{key}"
        if path in VOLATILE:
            continue
        have = live.get(key) if isinstance(live, dict) else None
        if isinstance(want, dict):
            changes.extend(drift(want, have if isinstance(have, dict) else {}, path + "."))
        elif want != have:
            changes.append((path, want, have))
    return changes
