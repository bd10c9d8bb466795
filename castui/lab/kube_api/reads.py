"""list (paginated) and get."""

from __future__ import annotations

import base64
import binascii
import json

from castui.lab.http import LabRequest, LabResponse
from castui.lab.kube_api.common import KubeError, Obj, Target, _current_rv, _require, _served
from castui.lab.kube_api.selectors import _matcher
from castui.lab.kube_api.tables import _wants_table, table
from castui.lab.state import LabState

# -- reads --


def _encode_continue(rv: int, last: tuple[str, str]) -> str:
    raw = json.dumps({"v": "castui-lab/1", "rv": rv, "start": list(last)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        namespace, name = data["start"]
        return (str(namespace), str(name))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise KubeError(
            400, "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ) from exc


def _int_arg(req: LabRequest, name: str) -> int:
    value = req.arg(name) or "0"
    if not value.isdigit():
        raise KubeError(400, f"{name}: invalid value {value!r}: must be a non-negative integer")
    return int(value)


def _list(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    from castui.lab.list_index import list_body, list_page  # a sorted index per store: 100,000 pods page fast

    match = _matcher(req, target)  # validates the selectors even when there are none to apply
    selective = bool(req.arg("labelSelector") or req.arg("fieldSelector"))
    token = req.arg("continue")
    rv = _current_rv(state)
    meta: Obj = {"resourceVersion": str(rv)}
    page = list_page(state, target.store, namespace=target.namespace if target.rt.namespaced else None,
                     match=match if selective else None, after=_decode_continue(token) if token else None,
                     limit=_int_arg(req, "limit"), selector=(req.arg("labelSelector"), req.arg("fieldSelector"), target.name))
    items = page.items
    if page.last is not None:
        meta["continue"] = _encode_continue(rv, page.last)
        if page.remaining is not None:  # unknown with selectors: the real server omits it then
            meta["remainingItemCount"] = page.remaining
    if _wants_table(req):
        return LabResponse.of_json(table(target.rt, items, req, meta))
    body = list_body(state, target.store, target.rt.kind, target.rt.group_version, meta, items, lambda o: _served(target.rt, o))
    return LabResponse(200, body, "application/json")


def _get(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    obj = _require(state, target)
    if _wants_table(req):
        return LabResponse.of_json(table(target.rt, [obj], req, {"resourceVersion": str(_current_rv(state))}))
    return LabResponse.of_json(_served(target.rt, obj))
