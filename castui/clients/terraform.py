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
#: of those, the ones CAST AI syncs between the legacy policies and the default node template: a diff
#: there alone is the provider's own artefact (castai/terraform-provider-castai@58fea27
#: castai/resource_autoscaler.go filterVolatileFields; PR #577 "handle custom instances field policy drift")
TEMPLATE_SYNCED = (
    "defaultNodeTemplateVersion",
    "spotInstances",
    "unschedulablePods.nodeConstraints",
    "unschedulablePods.customInstancesEnabled",
)
#: node template attributes compared with `GET /node-templates` (TFP docs/resources/node_template.md)
TEMPLATE_FIELDS = ("is_enabled", "should_taint", "constraints")


def read_state(directory: Path, *, timeout: float = 30.0) -> dict[str, Any] | None:
    """What the Terraform state declares for CAST AI, or None when the directory has no state.

    A local `terraform.tfstate` is read as a file; with a remote backend configured
    (`.terraform/terraform.tfstate`) and no local state, `terraform state pull` prints it
    (read-only; guide v2 §8). Returns {"state_file", "castai_resources": [addresses of castai_*
    resources], "address", "cluster_id", "declared": camelCase policies dict (the `castai_autoscaler`;
    address and declared are None without one), "node_templates": [{"address", "name", "declared"}]}.
    """
    path = directory / "terraform.tfstate"
    if path.is_file():
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedResponse(f"{path}: not a readable Terraform state: {exc}") from None
        return castai_declarations(state, str(path))
    if (directory / ".terraform" / "terraform.tfstate").is_file():
        return castai_declarations(pull_state(directory, timeout), f"`terraform -chdir={directory} state pull`")
    return None


def pull_state(directory: Path, timeout: float) -> Any:
    """The remote state as `terraform state pull` prints it (argv, no shell, no prompts)."""
    import os
    import shutil
    import subprocess

    from castui.clients.errors import CastuiError, RequestTimeout

    terraform = shutil.which("terraform")
    hint = f"or run `terraform -chdir={directory} state pull > DIR/terraform.tfstate` and pass --terraform-dir DIR"
    if terraform is None:
        raise CastuiError(f"{directory} uses a remote Terraform backend and no `terraform` is on PATH to pull the state",
                          hint="install terraform " + hint)
    env = {**os.environ, "TF_INPUT": "0", "TF_IN_AUTOMATION": "1"}
    try:
        result = subprocess.run([terraform, f"-chdir={directory}", "state", "pull"], capture_output=True, timeout=timeout,
                                env=env, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise RequestTimeout(f"`terraform state pull` in {directory}: no answer within {timeout:g}s") from None
    except OSError as exc:
        raise CastuiError(f"`terraform state pull` in {directory} could not run: {exc}", hint=hint) from None
    if result.returncode != 0:
        last = (result.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1][:300]
        raise CastuiError(f"`terraform state pull` in {directory} failed (exit {result.returncode}): {last}", hint=hint)
    try:
        return json.loads(result.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedResponse(f"`terraform state pull` in {directory} printed no JSON state: {exc}") from None


def castai_declarations(state: Any, source: str) -> dict[str, Any]:
    """What a parsed v4 state declares for CAST AI (see `read_state`)."""
    path = source
    if not isinstance(state, dict) or state.get("version") != 4:
        version = state.get("version") if isinstance(state, dict) else "?"
        raise MalformedResponse(f"{path}: Terraform state version {version} is not supported (4 expected)")
    found: dict[str, Any] = {"state_file": source, "castai_resources": [], "address": None, "cluster_id": None,
                             "declared": None, "node_templates": []}
    for resource in _list(state.get("resources")):
        kind = resource.get("type") if isinstance(resource, dict) else None
        if not isinstance(kind, str) or not kind.startswith("castai_") or resource.get("mode") != "managed":
            continue
        for instance in _list(resource.get("instances")):
            attributes = instance.get("attributes") if isinstance(instance, dict) else None
            if not isinstance(attributes, dict):
                raise MalformedResponse(f"{path}: the {kind} resource has no attributes object")
            address = ".".join(p for p in (resource.get("module"), kind, resource.get("name")) if p and isinstance(p, str))
            found["castai_resources"].append(address)
            if kind == "castai_autoscaler" and found["address"] is None:
                found.update(address=address, cluster_id=attributes.get("cluster_id"), declared=declared_policies(attributes))
            elif kind == "castai_node_template" and isinstance(attributes.get("name"), str):
                found["node_templates"].append(
                    {"address": address, "name": attributes["name"], "declared": declared_template(attributes)})
    return found


def declared_template(attributes: dict[str, Any]) -> dict[str, Any]:
    """A castai_node_template's compared attributes in the API's camelCase: scalars only (nested
    lists of blocks have shapes the API spells differently, so they are not compared)."""
    declared: dict[str, Any] = {}
    for name in TEMPLATE_FIELDS:
        value = _unwrap(attributes.get(name))
        if isinstance(value, dict):
            scalars = {k: v for k, v in _camel(value).items() if isinstance(v, (bool, int, float, str))}
            if scalars:
                declared[_camel({name: None}).popitem()[0]] = scalars
        elif isinstance(value, (bool, int, float, str)):
            declared[_camel({name: None}).popitem()[0]] = value
    return declared


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


def drift(declared: dict[str, Any], live: dict[str, Any], prefix: str = "", *,
          keep: tuple[str, ...] = ()) -> list[tuple[str, Any, Any]]:
    """(path, declared, live) for each declared leaf that differs, volatile paths skipped (except `keep`).

    Only declared keys are compared: the provider merges the configuration onto the live policies
    (TFP castai/resource_autoscaler.go getChangedPolicies), so an undeclared key never drifts."""
    changes = []
    for key, want in declared.items():
        path = f"{prefix}{key}"
        if path in VOLATILE and path not in keep:
            continue
        have = live.get(key) if isinstance(live, dict) else None
        if isinstance(want, dict):
            changes.extend(drift(want, have if isinstance(have, dict) else {}, path + ".", keep=keep))
        elif want != have:
            changes.append((path, want, have))
    return changes


def is_template_synced(path: str) -> bool:
    return any(path == p or path.startswith(p + ".") for p in TEMPLATE_SYNCED)
