"""Routing, authentication and authorisation: a request path → the handler that answers it."""

from __future__ import annotations

from collections.abc import Callable

from castui.lab.http import LabRequest, LabResponse
from castui.lab.kube_api.bodies import _body_object
from castui.lab.kube_api.common import (
    ACCESS_REVIEW,
    DEFAULT_USER,
    PUBLIC_PATHS,
    SCALE_SUBRESOURCE,
    SERVED,
    SERVER_VERSION,
    STATUS_SUBRESOURCE,
    KubeError,
    Obj,
    Target,
    _flag,
    is_kube_path,
    status_response,
)
from castui.lab.kube_api.discovery import _discovery, _openapi
from castui.lab.kube_api.reads import _get, _list
from castui.lab.kube_api.subresources import _logs, _scale_get, _scale_write
from castui.lab.kube_api.watch import _watch
from castui.lab.kube_api.writes import _create, _delete, _patch, _replace
from castui.lab.state import LabState


def route(state: LabState, req: LabRequest) -> LabResponse | None:
    path = req.path.rstrip("/") or "/"
    if not is_kube_path(path):
        return None
    try:
        return _route(state, req, path)
    except KubeError as err:
        return status_response(err.code, err.message, err.reason, err.details)


def _route(state: LabState, req: LabRequest, path: str) -> LabResponse:
    user = _authenticate(state, req, path)
    if path == "/version":
        return LabResponse.of_json(SERVER_VERSION)
    if path in ("/healthz", "/livez", "/readyz"):
        return LabResponse.of_text("ok")
    if path.startswith("/openapi"):
        return LabResponse.of_json(_openapi(path))
    discovery = _discovery(path)
    if discovery is not None:
        return LabResponse.of_json(discovery)
    target = _parse_target(path)
    verb = _verb(req, target)
    if target.rt is ACCESS_REVIEW:
        return _access_review(state, req, user, verb)
    _authorize(state, user, verb, target)
    if req.method not in ("GET", "HEAD") and state.read_only:
        raise KubeError(405, f"the lab is read-only (a replayed bundle): {verb} is not allowed")
    return _dispatch(state, req, target, verb)


def _parse_target(path: str) -> Target:
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        group, version, rest = parts[1], parts[2] if len(parts) > 2 else "", parts[3:]
    served = SERVED.get(f"{group}/{version}" if group else version)
    if served is None or not rest:
        raise KubeError(404, "the server could not find the requested resource")
    watch = rest[0] == "watch"
    if watch:
        rest = rest[1:]
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in served and served[rest[2]].namespaced:
        namespace, rest = rest[1], rest[2:]
    rt = served.get(rest[0])
    if rt is None or len(rest) > 3:
        raise KubeError(404, "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return Target(rt, namespace, name, sub, watch)


def _is_watch(req: LabRequest, target: Target) -> bool:
    return target.watch or _flag(req, "watch")


def _verb(req: LabRequest, target: Target) -> str:
    if req.method in ("GET", "HEAD"):
        if _is_watch(req, target):
            return "watch"
        return "get" if target.name else "list"
    if req.method == "DELETE":
        return "delete" if target.name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(req.method, req.method.lower())


def _dispatch(state: LabState, req: LabRequest, target: Target, verb: str) -> LabResponse:
    if verb == "watch":
        return _watch(state, req, target)
    if target.sub is not None and target.rt.plural not in _SUBRESOURCES.get(target.sub, set()):
        raise KubeError(404, "the server could not find the requested resource")
    handler = _HANDLERS.get((target.sub, verb))
    if handler is None:
        raise KubeError(405, f"the server does not allow this method on the requested resource ({verb})")
    with state.lock:
        return handler(state, req, target)


# -- authentication and authorisation --


def _authenticate(state: LabState, req: LabRequest, path: str) -> str:
    """The user behind the bearer token; anonymous only for /version and health checks."""
    header = req.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if not state.kube_tokens:
        return DEFAULT_USER
    client_cn = req.headers.get("x-castui-lab-client-cn")  # a client certificate the lab's TLS verified
    if token is None and client_cn:
        token = f"x509:{client_cn}"
    if token is None and path in PUBLIC_PATHS:
        return "system:anonymous"
    user = state.kube_tokens.get(token or "")
    if user is None:
        raise KubeError(401, "Unauthorized")
    return user


def _denied(state: LabState, user: str, plural: str, sub: str | None) -> bool:
    """`kube_forbidden[user]` holds plurals ("pods" also covers pods/log), subresources ("pods/log") or "*"."""
    denied = state.kube_forbidden.get(user) or set()
    return bool({"*", plural, plural + (f"/{sub}" if sub else "")} & set(denied))


def _authorize(state: LabState, user: str, verb: str, target: Target) -> None:
    if not _denied(state, user, target.rt.plural, target.sub):
        return
    resource = target.rt.plural + (f"/{target.sub}" if target.sub else "")
    subject = f'{target.rt.plural} "{target.name}"' if target.name else target.rt.plural
    scope = f'in the namespace "{target.namespace}"' if target.namespace else "at the cluster scope"
    details: Obj = {"kind": target.rt.plural}
    if target.name:
        details["name"] = target.name
    if target.rt.group:
        details["group"] = target.rt.group
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{target.rt.group}" {scope}'
    )
    raise KubeError(403, message, details=details)


def _access_review(state: LabState, req: LabRequest, user: str, verb: str) -> LabResponse:
    """SelfSubjectAccessReview: allowed unless `kube_forbidden` denies that resource (reads and writes)."""
    if verb != "create":
        raise KubeError(405, f"the server does not allow this method on the requested resource ({verb})")
    review = _body_object(req)
    attributes = (review.get("spec") or {}).get("resourceAttributes") or {}
    denied = bool(attributes) and _denied(
        state, user, attributes.get("resource", ""), attributes.get("subresource") or None
    )
    status: Obj = {"allowed": not denied}  # RBAC-style: a denial is no rule allowing it, with no reason
    return LabResponse.of_json(
        {**review, "apiVersion": ACCESS_REVIEW.group_version, "kind": ACCESS_REVIEW.kind, "status": status}, 201
    )


#: (subresource, verb) → handler; the watch verb is handled apart (it streams)
_HANDLERS: dict[tuple[str | None, str], Callable[[LabState, LabRequest, Target], LabResponse]] = {
    (None, "list"): _list,
    (None, "get"): _get,
    (None, "create"): _create,
    (None, "update"): _replace,
    (None, "patch"): _patch,
    (None, "delete"): _delete,
    ("log", "get"): _logs,
    ("scale", "get"): _scale_get,
    ("scale", "update"): _scale_write,
    ("scale", "patch"): _scale_write,
    ("status", "get"): _get,
    ("status", "update"): _replace,
    ("status", "patch"): _patch,
}
_SUBRESOURCES = {"log": {"pods"}, "scale": SCALE_SUBRESOURCE, "status": STATUS_SUBRESOURCE}
