"""The four PATCH flavours: JSON patch, merge patch, strategic merge patch, server-side apply."""

from __future__ import annotations

import copy
from typing import Any

from castui.json_merge import merge_patch
from castui.lab.kube_api.common import KubeError, Obj

# -- patches --

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")  # fmt: skip


def apply_patch(content_type: str, current: Obj, patch: Any) -> Any:
    if content_type == "application/json-patch+json":
        return json_patch(current, patch)
    if content_type == "application/merge-patch+json":
        return merge_patch(current, patch)
    if content_type in ("application/strategic-merge-patch+json", "application/apply-patch+yaml"):
        # server-side apply as create-or-merge: enough for a lab without field ownership
        if not isinstance(patch, dict):
            raise KubeError(422, "a strategic merge patch must be an object")
        return strategic_merge(current, patch)
    raise KubeError(
        415,
        "the body of the request was in an unknown format - accepted media types include: " + ", ".join(PATCH_TYPES),
    )


#: the patchMergeKey of the lists Kubernetes merges by key instead of replacing
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "ownerReferences": "uid", "conditions": "type", "hostAliases": "ip", "taints": "key",
    "readinessGates": "conditionType", "addresses": "type", "topologySpreadConstraints": "topologyKey",
}  # fmt: skip
#: primitive lists with set semantics
MERGE_SETS = {"finalizers"}
_DELETE = object()


def strategic_merge(target: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge patch for the lists the lab's objects use, with the `$patch`,
    `$retainKeys`, `$deleteFromPrimitiveList/…` directives (`$setElementOrder/…` is ignored)."""
    if not isinstance(patch, dict):
        return patch
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return strategic_merge({}, {k: v for k, v in patch.items() if k != "$patch"})
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [x for x in result.get(field) or [] if x not in value]
    if isinstance(patch.get("$retainKeys"), list):
        result = {k: v for k, v in result.items() if k in patch["$retainKeys"]}
    return result


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":  # container ports merge by containerPort, service ports by port
        return "containerPort" if any(isinstance(i, dict) and "containerPort" in i for i in items) else "port"
    return MERGE_KEYS.get(field)


def _fresh(value: Any) -> Any:
    return strategic_merge({}, value) if isinstance(value, dict) else value


def _merge_list(field: str, current: Any, patch: list[Any]) -> list[Any]:
    old = current if isinstance(current, list) else []
    if field in MERGE_SETS:
        return old + [v for v in patch if v not in old]
    key = _merge_key(field, patch + old)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [_fresh(i) for i in patch if not (isinstance(i, dict) and i.get("$patch"))]
    if any(i.get("$patch") == "replace" for i in patch):
        return [_fresh(i) for i in patch if i.get("$patch") != "replace"]
    result = list(old)
    for item in patch:
        index = next(
            (n for n, o in enumerate(result) if isinstance(o, dict) and key in item and o.get(key) == item[key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_fresh(item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


class _PatchError(Exception):
    pass


def json_patch(document: Any, operations: Any) -> Any:
    """RFC 6902 (add, remove, replace, move, copy, test) with RFC 6901 pointers."""
    if not isinstance(operations, list):
        raise KubeError(422, "a JSON patch must be a list of operations")
    doc = copy.deepcopy(document)
    try:
        for op in operations:
            doc = _json_patch_op(doc, op)
    except (_PatchError, KeyError, IndexError, ValueError, TypeError) as exc:
        raise KubeError(422, f"the server rejected our request due to an error in our request: {exc}") from exc
    return doc


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _json_patch_op(doc: Any, op: Obj) -> Any:
    kind, path = op.get("op"), _pointer(op.get("path", ""))
    if kind == "test":
        if _get_at(doc, path) != op.get("value"):
            raise _PatchError(f"test failed at {op.get('path')}")
        return doc
    if kind == "remove":
        return _remove_at(doc, path)
    if kind in ("add", "replace"):
        if kind == "replace":
            doc = _remove_at(doc, path)
        return _add_at(doc, path, copy.deepcopy(op["value"]))
    if kind in ("move", "copy"):
        source = _pointer(op["from"])
        value = copy.deepcopy(_get_at(doc, source))
        if kind == "move":
            doc = _remove_at(doc, source)
        return _add_at(doc, path, value)
    raise _PatchError(f"unknown operation {kind!r}")


def _get_at(doc: Any, path: list[str]) -> Any:
    for part in path:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def _add_at(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, last = _get_at(doc, path[:-1]), path[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if not 0 <= index <= len(parent):
            raise _PatchError(f"index {last} out of range")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise _PatchError(f"cannot add below a {type(parent).__name__}")
    return doc


def _remove_at(doc: Any, path: list[str]) -> Any:
    if not path:
        return None
    parent, last = _get_at(doc, path[:-1]), path[-1]
    if isinstance(parent, list):
        del parent[int(last)]
    else:
        del parent[last]
    return doc
