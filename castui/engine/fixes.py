"""Turns a cause's fix template into concrete commands for this cluster.

Each argv element is formatted on its own, so a hostile name from the cluster
stays one argument. Secrets are never filled in: commands say `${CASTAI_API_KEY}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from castui.diagnosis import ApiCall, Fix
from castui.json_merge import merge_patch
from castui.tree.model import FixTemplate, Judgement, fill

if TYPE_CHECKING:
    from castui.engine.facts import Facts


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
    context, kubeconfig = diagnosed_target(facts)
    commands = [pin_target(argv, context=context, kubeconfig=kubeconfig) for argv in commands]
    api_call = None
    if template.policies_patch is not None:
        patch = template.policies_patch(values) if callable(template.policies_patch) else template.policies_patch
        if patch:  # a callable answers None where the policies do not own the setting (a self-managed Evictor)
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


def diagnosed_target(facts: "Facts") -> tuple[str | None, str | None]:
    """The context castui read (its name even when it was only the current one) and the
    kubeconfig the user named; None inside a cluster, where there is no context to name."""
    from castui.clients.kube import IN_CLUSTER

    context = facts.kube.context_name if facts.kube is not None else facts.settings.context
    return (None if context == IN_CLUSTER else context), facts.settings.kubeconfig


#: the flag that names the context, per tool that talks to the cluster
CONTEXT_FLAGS = {"kubectl": "--context", "helm": "--kube-context"}


def pin_target(argv: list[str], *, context: str | None, kubeconfig: str | None) -> list[str]:
    """kubectl and helm name the diagnosed context (and kubeconfig) themselves: a command run,
    printed or copied acts on that cluster, whatever context is current when it runs."""
    if not argv or argv[0] not in CONTEXT_FLAGS:
        return argv
    flag, pinned = CONTEXT_FLAGS[argv[0]], []
    if context and not any(a == flag or a.startswith(flag + "=") for a in argv):
        pinned += [flag, context]
    if kubeconfig and not any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in argv):
        pinned += ["--kubeconfig", kubeconfig]
    return [argv[0], *pinned, *argv[1:]]


async def _policies_call(patch: dict[str, Any], facts: "Facts") -> ApiCall:
    try:
        cluster_id = await facts.cluster_id()
        _, current = await facts.policies_with_raw()
    except Exception:  # noqa: BLE001 - without the current policies the diff shows no "before"
        cluster_id, current = None, {}
    body = merge_patch(current, patch)
    return ApiCall(
        method="PUT",
        # the literal id (an id is not a secret; nothing exports a variable for it), escaped
        path=f"/v1/kubernetes/clusters/{quote(cluster_id, safe='') if cluster_id else '<cluster-id>'}/policies",
        body=body,
        changes={path: (_at(current, path), new) for path, new in leaves(patch)},
        patch=patch,
    )


#: run by `sh -c`: read the policies now, set only the patched fields, PUT the result; the outer
#: shell sees one single-quoted word, so nothing in it (or in the patch) expands when pasted
COMPOSE_SCRIPT = (
    'body=$(curl -fsS -H "X-API-Key: $CASTAI_API_KEY" "$1" | python3 -c "import json,sys; '
    "m=lambda t,p: {**t, **{k: m(t.get(k) if isinstance(t.get(k),dict) else {}, v) if isinstance(v,dict) else v "
    'for k,v in p.items()}}; json.dump(m(json.load(sys.stdin), json.loads(sys.argv[1])), sys.stdout)" "$2") '
    '&& printf %s "$body" | curl -fsS -X PUT -H "X-API-Key: $CASTAI_API_KEY" -H "Content-Type: application/json" '
    '--data-binary @- "$1"'
)


def curl_for(api_url: str, call: ApiCall) -> list[str]:
    """The same change by hand: GET the policies, merge the one patch, PUT them back; never a
    whole document captured earlier (it would undo whatever changed since)."""
    return ["sh", "-c", COMPOSE_SCRIPT, "castui-fix", f"{api_url}{call.path}",
            json.dumps(call.patch, sort_keys=True, separators=(",", ":"))]


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
