"""Turns a cause's fix template into concrete commands for this cluster.

Each argv element is formatted on its own, so a hostile name from the cluster
stays one argument. Secrets are never filled in: commands say `${CASTAI_API_KEY}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from castui.diagnosis import ApiCall, Fix
from castui.json_merge import merge_patch
from castui.tree.model import FixTemplate, Judgement

if TYPE_CHECKING:
    from castui.engine.facts import Facts


class _Keep(dict[str, Any]):
    """`str.format_map` that leaves unknown `{names}` as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: Mapping[str, Any]) -> str:
    try:
        return template.format_map(_Keep(values))
    except (ValueError, IndexError, AttributeError):
        return template


async def render_fix(template: FixTemplate, judgement: Judgement, facts: "Facts") -> Fix:
    values = {
        "ns": facts.settings.namespace,
        "api_host": urlparse(facts.settings.api_url).hostname or facts.settings.api_url,
        "terraform_dir": facts.settings.terraform_dir,
        **judgement.fix_args,
    }
    commands = template.commands(values) if callable(template.commands) else [
        [fill(arg, values) for arg in argv] for argv in template.commands
    ]
    api_call = None
    if template.policies_patch is not None:
        patch = template.policies_patch(values) if callable(template.policies_patch) else template.policies_patch
        api_call = await _policies_call(dict(patch), facts)
        commands.append(curl_for(facts.settings.api_url, api_call))
    note = fill(template.note, values) if template.note else None
    if template.guidance is not None and (guided := template.guidance(values)):
        note = f"{guided} {note}" if note else guided
    expandable = next((v for v in judgement.fix_args.values() if isinstance(v, str) and "${" in v), None)
    if expandable is not None:
        # shell_join keeps `${CASTAI_…}` expandable on purpose; the same text inside a name from the
        # cluster would hand the user's key (or any variable) to whoever named it. No valid
        # Kubernetes name contains `${`, so such a name means tampering: offer no command at all.
        commands = []
        note = (f"no command shown: {expandable!r} comes from the cluster and contains '${{', which a shell "
                "would expand (no valid Kubernetes name does); find out who created it") + (f". {note}" if note else "")
    return Fix(
        title=fill(template.title, values),
        explanation=fill(template.explanation, values),
        commands=commands,
        mutates=template.mutates,
        recheck=list(template.recheck),
        api_call=api_call,
        stdin=fill(template.stdin, values) if template.stdin else None,
        note=note,
    )


async def _policies_call(patch: dict[str, Any], facts: "Facts") -> ApiCall:
    try:
        _, current = await facts.policies_with_raw()
    except Exception:  # noqa: BLE001 - without the current policies the PUT carries just the patch
        current = {}
    body = merge_patch(current, patch)
    return ApiCall(
        method="PUT",
        path="/v1/kubernetes/clusters/${CASTAI_CLUSTER_ID}/policies",
        body=body,
        changes={path: (_at(current, path), new) for path, new in leaves(patch)},
    )


def curl_for(api_url: str, call: ApiCall) -> list[str]:
    return [
        "curl", "-sS", "-X", call.method,
        "-H", "X-API-Key: ${CASTAI_API_KEY}",
        "-H", "Content-Type: application/json",
        f"{api_url}{call.path}",
        "--data", json.dumps(call.body, sort_keys=True, separators=(",", ":")),
    ]


def leaves(document: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for key, value in document.items():
        if isinstance(value, Mapping) and value:
            found.extend(leaves(value, f"{prefix}{key}."))
        else:
            found.append((f"{prefix}{key}", value))
    return found


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, Mapping):
            return None
        document = document.get(part)
    return document
