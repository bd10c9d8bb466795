"""create, replace, patch, delete: one write path that stamps versions and runs the hooks."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable

from castui.lab.http import LabRequest, LabResponse
from castui.lab.kube_api.bodies import _body, _body_object, _dry_run
from castui.lab.kube_api.common import (
    OBSERVED_GENERATION,
    STATUS_SUBRESOURCE,
    KubeError,
    Obj,
    Target,
    _find,
    _meta,
    _next_rv,
    _require,
    _resource_name,
    _served,
    _timestamp,
)
from castui.lab.kube_api.patches import apply_patch
from castui.lab.state import RESOURCES, LabState

# -- writes --


def _commit(state: LabState, target: Target, before: Obj | None, after: Obj | None) -> None:
    """Store the write (updating the stored dict in place: scenarios may hold it) and run the hooks."""
    items = state.items(target.store)
    if before is None and after is not None:
        items.append(after)
    elif before is not None and after is None:
        items[:] = [o for o in items if o is not before]
    elif before is not None and after is not None:
        before.clear()
        before.update(after)
        after = before
    meta = _meta(after if after is not None else before or {})
    for hook in list(state.on_write):
        hook(state, target.store, meta.get("namespace"), meta.get("name", ""), after)


def _normalise(target: Target, obj: Obj) -> None:
    """Stored objects carry the canonical group version (a v1beta1 PDB is stored as policy/v1)."""
    canonical = RESOURCES[target.store]
    obj["apiVersion"], obj["kind"] = canonical.group_version, canonical.kind


def _check_kind(target: Target, obj: Obj) -> None:
    kind = obj.get("kind")
    if kind and kind != target.rt.kind:
        raise KubeError(400, f"the kind of the object ({kind}) does not match the resource ({target.rt.kind})")


def _stamp_write(state: LabState, target: Target, before: Obj | None, after: Obj) -> None:
    """resourceVersion always; generation when the spec changes; observedGeneration like a quick controller."""
    meta = after.setdefault("metadata", {})
    meta["resourceVersion"] = _next_rv(state)
    if "spec" in after:
        old_generation = int(_meta(before).get("generation") or 1) if before else 0
        changed = before is None or _spec_part(before) != _spec_part(after)
        meta["generation"] = old_generation + 1 if changed else old_generation
    if target.store in OBSERVED_GENERATION and "generation" in meta:
        status = after.get("status")
        after["status"] = {**(status if isinstance(status, dict) else {}), "observedGeneration": meta["generation"]}


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _create(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    return _create_object(state, req, target, _body_object(req))


def _create_object(state: LabState, req: LabRequest, target: Target, obj: Obj) -> LabResponse:
    _check_kind(target, obj)
    meta = obj.setdefault("metadata", {})
    if target.rt.namespaced:
        if meta.get("namespace") and target.namespace and meta["namespace"] != target.namespace:
            raise KubeError(
                400, "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = meta.get("namespace") or target.namespace or "default"
    else:
        meta.pop("namespace", None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
    if not meta.get("name"):
        raise KubeError(
            422, f'{target.rt.kind} "" is invalid: metadata.name: Required value: name or generateName is required'
        )
    located = Target(target.rt, meta.get("namespace"), meta["name"])
    if _find(state, located) is not None:
        raise KubeError(409, f'{_resource_name(target.rt)} "{meta["name"]}" already exists', "AlreadyExists",
                        {"name": meta["name"], "group": target.rt.group, "kind": target.rt.plural})  # fmt: skip
    _normalise(target, obj)
    meta.update(uid=str(uuid.uuid4()), creationTimestamp=_timestamp())
    for server_field in ("deletionTimestamp", "managedFields"):
        meta.pop(server_field, None)
    _stamp_write(state, target, None, obj)
    if not _dry_run(req):
        _commit(state, located, None, obj)
    return LabResponse.of_json(_served(target.rt, obj), 201)


def _update(state: LabState, req: LabRequest, target: Target, change: Callable[[Obj], Obj]) -> LabResponse:
    """The one write path for PUT, PATCH and the status subresource."""
    current = _require(state, target)
    before = copy.deepcopy(current)
    after = change(copy.deepcopy(current))
    if not isinstance(after, dict):
        raise KubeError(422, "the patched object is not an object")
    wanted_rv = _meta(after).get("resourceVersion")
    if wanted_rv and wanted_rv != _meta(before).get("resourceVersion"):
        message = (
            f'Operation cannot be fulfilled on {_resource_name(target.rt)} "{target.name}": '
            "the object has been modified; please apply your changes to the latest version and try again"
        )
        raise KubeError(
            409, message, "Conflict", {"name": target.name, "group": target.rt.group, "kind": target.rt.plural}
        )
    _check_kind(target, after)
    after = _keep_split(target, before, after)
    _keep_identity(before, after)
    _normalise(target, after)
    _stamp_write(state, target, before, after)
    if _dry_run(req):
        return LabResponse.of_json(_served(target.rt, after))
    _commit(state, target, current, after)
    return LabResponse.of_json(_served(target.rt, current))


def _keep_split(target: Target, before: Obj, after: Obj) -> Obj:
    """The status subresource changes only status; the main endpoint never does (when the type has one)."""
    if target.sub == "status":
        merged = copy.deepcopy(before)
        if "status" in after:
            merged["status"] = after["status"]
        return merged
    if target.rt.plural in STATUS_SUBRESOURCE:
        after.pop("status", None)
        if "status" in before:
            after["status"] = before["status"]
    return after


def _keep_identity(before: Obj, after: Obj) -> None:
    old, new = _meta(before), after.setdefault("metadata", {})
    if new.get("name") and new["name"] != old.get("name"):
        raise KubeError(
            400, f"the name of the object ({new['name']}) does not match the name on the URL ({old.get('name')})"
        )
    for field in ("name", "namespace", "uid", "creationTimestamp"):
        if field in old:
            new[field] = old[field]
        else:
            new.pop(field, None)


def _replace(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    body = _body_object(req)
    return _update(state, req, target, lambda current: body)


def _patch(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    content_type = req.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "application/apply-patch+yaml" and _find(state, target) is None and target.sub is None:
        obj = _body_object(req)
        obj.setdefault("metadata", {}).setdefault("name", target.name)
        return _create_object(state, req, target, obj)  # server-side apply creates
    patch = _body(req)
    return _update(state, req, target, lambda current: apply_patch(content_type, current, patch))


def _delete(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    current = _require(state, target)
    served = _served(target.rt, copy.deepcopy(current))
    if not _dry_run(req):
        _next_rv(state)
        _commit(state, target, current, None)
    if target.rt.plural == "pods":
        return LabResponse.of_json(served)  # pods answer with the object (graceful deletion)
    meta = _meta(current)
    details = {"name": meta.get("name"), "group": target.rt.group, "kind": target.rt.plural, "uid": meta.get("uid")}
    return LabResponse.of_json(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
    )
