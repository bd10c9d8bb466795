"""The Kubernetes API side of the lab: enough of a kube-apiserver for kubectl and
the official Python client.

Discovery, list/get/watch with label and field selectors and pagination, create,
replace, delete, the four PATCH flavours, `Table` output for kubectl, the `scale`,
`status` and `log` subresources, bearer-token authentication, a forbidden-list
authorisation (with SelfSubjectAccessReview for `kubectl auth can-i`), the OpenAPI v3
stubs that let plain `kubectl apply` validate, and protobuf bodies for kubectl's typed
`create` subcommands. Errors are `Status` objects worded like the real server's.

Requests are answered under `state.lock`; watches poll the store outside it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import yaml

from castui.json_merge import merge_patch
from castui.lab.http import LabRequest, LabResponse
from castui.lab.state import RESOURCES, LabState, ResourceType

Obj = dict[str, Any]

#: kubectl's /usr/bin dispatcher runs the bundled kubectl of this minor
SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-castui-lab",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

#: PodDisruptionBudgets are also served as policy/v1beta1 (Kubernetes ≤ 1.24) from the same store
PDB_V1BETA1 = ResourceType("policy", "v1beta1", "poddisruptionbudgets", "PodDisruptionBudget", True)
#: `kubectl auth can-i` (and permission checks) ask this create-only, storeless resource
ACCESS_REVIEW = ResourceType("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False)
EXTRA_TYPES = [PDB_V1BETA1, ACCESS_REVIEW]

#: group version → plural → the type as served there (its store is always `state.items(plural)`)
SERVED: dict[str, dict[str, ResourceType]] = {}
for _rt in [*RESOURCES.values(), *EXTRA_TYPES]:
    SERVED.setdefault(_rt.group_version, {})[_rt.plural] = _rt

SHORT_NAMES = {
    "namespaces": ["ns"],
    "nodes": ["no"],
    "pods": ["po"],
    "events": ["ev"],
    "configmaps": ["cm"],
    "services": ["svc"],
    "serviceaccounts": ["sa"],
    "deployments": ["deploy"],
    "daemonsets": ["ds"],
    "statefulsets": ["sts"],
    "replicasets": ["rs"],
    "poddisruptionbudgets": ["pdb"],
    "networkpolicies": ["netpol"],
    "customresourcedefinitions": ["crd", "crds"],
}
CATEGORY_ALL = {"pods", "services", "deployments", "daemonsets", "statefulsets", "replicasets"}
#: resources whose main endpoint ignores status changes (the real server's status subresource split)
STATUS_SUBRESOURCE = {
    "namespaces", "nodes", "pods", "services", "deployments", "daemonsets", "statefulsets",
    "replicasets", "poddisruptionbudgets", "customresourcedefinitions",
}  # fmt: skip
SCALE_SUBRESOURCE = {"deployments", "statefulsets", "replicasets"}
#: workloads whose controller would report status.observedGeneration; the lab reports it at once
OBSERVED_GENERATION = {"deployments", "daemonsets", "statefulsets", "replicasets"}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]

#: a watch without timeoutSeconds ends after this (informers re-watch); a longer one is capped
WATCH_DEFAULT_SECONDS = 5.0
WATCH_MAX_SECONDS = 30.0
WATCH_POLL_SECONDS = 0.1

#: user name when `state.kube_tokens` is empty (any token is accepted)
DEFAULT_USER = "kubernetes-admin"
PUBLIC_PATHS = {"/version", "/healthz", "/livez", "/readyz"}

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
    500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}  # fmt: skip


# -- errors --


class KubeError(Exception):
    """Becomes a `Status` response."""

    def __init__(self, code: int, message: str, reason: str | None = None, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details


def status_body(code: int, message: str, reason: str | None = None, details: Obj | None = None) -> Obj:
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def status_response(code: int, message: str, reason: str | None = None, details: Obj | None = None) -> LabResponse:
    return LabResponse.of_json(status_body(code, message, reason, details), code)


def is_kube_path(path: str) -> bool:
    """Only `/api/v1…`, not all of `/api/`: a Statuspage's `/api/v2/status.json` is another route's."""
    return (
        path in PUBLIC_PATHS
        or path in ("/api", "/apis", "/api/v1")
        or path.startswith(("/api/v1/", "/apis/", "/openapi"))
    )


def _resource_name(rt: ResourceType) -> str:
    """`pods`, `deployments.apps`: how error messages name a resource."""
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


def _not_found(rt: ResourceType, name: str) -> KubeError:
    return KubeError(
        404, f'{_resource_name(rt)} "{name}" not found', details={"name": name, "group": rt.group, "kind": rt.plural}
    )


# -- routing --


@dataclass
class Target:
    """What a resource path addresses."""

    rt: ResourceType
    namespace: str | None
    name: str | None = None
    sub: str | None = None
    watch: bool = False  # the legacy /watch/ path prefix

    @property
    def store(self) -> str:
        return self.rt.plural


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


def _flag(req: LabRequest, name: str) -> bool:
    return (req.arg(name) or "").lower() in ("1", "true")


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
    client_cn = req.headers.get("x-castui-lab-client-cn")  # a client certificate the lab's CA signed
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


# -- discovery --


def _discovery(path: str) -> Obj | None:
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_api_group(g) for g in _groups()]}
    parts = path.strip("/").split("/")
    if parts[0] == "apis" and len(parts) == 2:
        if parts[1] not in _groups():
            raise KubeError(404, "the server could not find the requested resource")
        return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(parts[1])}
    is_version = (parts[0] == "api" and len(parts) == 2) or (parts[0] == "apis" and len(parts) == 3)
    if not is_version:
        return None
    group_version = "/".join(parts[1:])
    if group_version not in SERVED:
        raise KubeError(404, "the server could not find the requested resource")
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [entry for rt in SERVED[group_version].values() for entry in _api_resources(rt)],
    }


def _groups() -> dict[str, list[str]]:
    """Named groups → versions, preferred first, in RESOURCES order."""
    groups: dict[str, list[str]] = {}
    for rt in [*RESOURCES.values(), *EXTRA_TYPES]:
        if rt.group and rt.version not in groups.setdefault(rt.group, []):
            groups[rt.group].append(rt.version)
    return groups


def _api_group(name: str) -> Obj:
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in _groups()[name]]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def _api_resources(rt: ResourceType) -> list[Obj]:
    main: Obj = {
        "name": rt.plural,
        "singularName": rt.kind.lower(),
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": ["create"] if rt is ACCESS_REVIEW else VERBS,
    }
    if rt.plural in SHORT_NAMES:
        main["shortNames"] = SHORT_NAMES[rt.plural]
    if rt.plural in CATEGORY_ALL:
        main["categories"] = ["all"]
    entries = [main]

    def sub(name: str, kind: str, verbs: list[str], **extra: str) -> None:
        entries.append(
            {
                "name": f"{rt.plural}/{name}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": kind,
                "verbs": verbs,
                **extra,
            }
        )

    if rt.plural in STATUS_SUBRESOURCE:
        sub("status", rt.kind, ["get", "patch", "update"])
    if rt.plural in SCALE_SUBRESOURCE:
        sub("scale", "Scale", ["get", "patch", "update"], group="autoscaling", version="v1")
    if rt.plural == "pods":
        sub("log", "Pod", ["get"])
    return entries


# -- OpenAPI v3: just enough for kubectl's field-validation check --


def _openapi(path: str) -> Obj:
    """kubectl validates `apply`/`create` client-side with OpenAPI v2 unless v3 says the server
    validates (`fieldValidation` on the PATCH operation). A v3 index and per-group-version documents
    that say so make plain `kubectl apply` work; v2 stays 404. PATCH operations have no requestBody,
    so kubectl computes strategic merge patches from its built-in types."""
    if path == "/openapi/v3":
        return {"paths": {gv_path: {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={_openapi_hash(gv)}"}
                          for gv, gv_path in _openapi_group_versions().items()}}  # fmt: skip
    by_path = {f"/openapi/v3/{gv_path}": gv for gv, gv_path in _openapi_group_versions().items()}
    if path not in by_path:
        raise KubeError(404, "the server could not find the requested resource")
    return _openapi_document(by_path[path])


def _openapi_group_versions() -> dict[str, str]:
    return {gv: f"apis/{gv}" if "/" in gv else f"api/{gv}" for gv in SERVED}


def _openapi_hash(group_version: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"castui-lab/{SERVER_VERSION['gitVersion']}/{group_version}").hex.upper()


def _openapi_document(group_version: str) -> Obj:
    parameters = [
        {"name": n, "in": "query", "schema": {"type": "string"}} for n in ("dryRun", "fieldManager", "fieldValidation")
    ]
    paths: Obj = {}
    for rt in SERVED[group_version].values():
        scope = "/namespaces/{namespace}" if rt.namespaced else ""
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        paths[f"{rt.api_prefix}{scope}/{rt.plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{rt.kind}",
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": parameters,
                "responses": {"200": {"description": "OK"}},
            }
        }
    info = {"title": "Kubernetes (castui lab)", "version": SERVER_VERSION["gitVersion"]}
    return {"openapi": "3.0.0", "info": info, "paths": paths, "components": {"schemas": {}}}


# -- object helpers --


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _key(obj: Obj) -> tuple[str, str]:
    meta = _meta(obj)
    return (meta.get("namespace") or "", meta.get("name") or "")


def _find(state: LabState, target: Target, name: str | None = None) -> Obj | None:
    wanted = name or target.name or ""
    namespace = target.namespace if target.rt.namespaced else None
    for obj in state.items(target.store):
        meta = _meta(obj)
        if meta.get("name") == wanted and (namespace is None or meta.get("namespace") == namespace):
            return obj
    return None


def _require(state: LabState, target: Target) -> Obj:
    obj = _find(state, target)
    if obj is None:
        raise _not_found(target.rt, target.name or "")
    return obj


def _served(rt: ResourceType, obj: Obj) -> Obj:
    """The object as this group version serves it (a v1beta1 PDB says so)."""
    return {**obj, "apiVersion": rt.group_version, "kind": rt.kind}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _timestamp(when: datetime | None = None) -> str:
    return (when or _now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def _current_rv(state: LabState) -> int:
    """The global resourceVersion; seeded past every number the scenario's objects already carry."""
    if state.resource_version == 0:
        seen = [
            int(rv)
            for objs in state.objects.values()
            for obj in objs
            if str(rv := _meta(obj).get("resourceVersion", "")).isdigit()
        ]
        state.resource_version = max(seen, default=0) + 1
    return state.resource_version


def _next_rv(state: LabState) -> str:
    state.resource_version = _current_rv(state) + 1
    return str(state.resource_version)


def _dry_run(req: LabRequest) -> bool:
    return bool(req.query.get("dryRun"))


def _body(req: LabRequest) -> Any:
    content_type = req.headers.get("content-type", "")
    if "protobuf" in content_type:
        return decode_protobuf(req.body)
    if "cbor" in content_type:
        accepted = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
        raise KubeError(415, f"the body of the request was in an unknown format - accepted media types include: "
                             f"{accepted}")  # fmt: skip
    try:
        return yaml.safe_load(req.body) if "yaml" in content_type else json.loads(req.body or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise KubeError(400, f"the request body could not be decoded: {exc}") from exc


def _body_object(req: LabRequest) -> Obj:
    obj = _body(req)
    if not isinstance(obj, dict):
        raise KubeError(400, "the request body must be an object")
    return obj


# -- protobuf request bodies --
# kubectl's typed subcommands (`create namespace|secret|configmap|serviceaccount|…binding|…role`)
# send protobuf and do not fall back to JSON, so the lab decodes the few kinds they create.
# A schema maps a field number to (JSON name, kind): "s" string, "b" bytes (base64), "i" int,
# "?" bool, "m" map<string,string>, "mb" map<string,bytes>, a nested schema, or [kind] repeated.

PbSchema = dict[int, tuple[str, Any]]
_PB_OWNER: PbSchema = {1: ("kind", "s"), 3: ("name", "s"), 4: ("uid", "s"), 5: ("apiVersion", "s"),
                       6: ("controller", "?"), 7: ("blockOwnerDeletion", "?")}  # fmt: skip
_PB_META: PbSchema = {1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"), 11: ("labels", "m"),
                      12: ("annotations", "m"), 13: ("ownerReferences", [_PB_OWNER]),
                      14: ("finalizers", ["s"])}  # fmt: skip
_PB_SUBJECT: PbSchema = {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")}
_PB_ROLE_REF: PbSchema = {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")}
_PB_RULE: PbSchema = {1: ("verbs", ["s"]), 2: ("apiGroups", ["s"]), 3: ("resources", ["s"]),
                      4: ("resourceNames", ["s"]), 5: ("nonResourceURLs", ["s"])}  # fmt: skip
_PB_BINDING: PbSchema = {1: ("metadata", _PB_META), 2: ("subjects", [_PB_SUBJECT]), 3: ("roleRef", _PB_ROLE_REF)}
_PB_ROLE: PbSchema = {1: ("metadata", _PB_META), 2: ("rules", [_PB_RULE])}
_PB_OBJECT_REF: PbSchema = {1: ("kind", "s"), 2: ("namespace", "s"), 3: ("name", "s")}
_PB_RESOURCE_ATTRIBUTES: PbSchema = {1: ("namespace", "s"), 2: ("verb", "s"), 3: ("group", "s"), 4: ("version", "s"),
                                     5: ("resource", "s"), 6: ("subresource", "s"), 7: ("name", "s")}  # fmt: skip
PROTOBUF_KINDS: dict[str, PbSchema] = {
    "Namespace": {1: ("metadata", _PB_META), 2: ("spec", {1: ("finalizers", ["s"])})},
    "Secret": {1: ("metadata", _PB_META), 2: ("data", "mb"), 3: ("type", "s"), 4: ("stringData", "m"),
               5: ("immutable", "?")},
    "ConfigMap": {1: ("metadata", _PB_META), 2: ("data", "m"), 3: ("binaryData", "mb"), 4: ("immutable", "?")},
    "ServiceAccount": {1: ("metadata", _PB_META), 2: ("secrets", [_PB_OBJECT_REF]),
                       3: ("imagePullSecrets", [{1: ("name", "s")}]), 4: ("automountServiceAccountToken", "?")},
    "ClusterRoleBinding": _PB_BINDING,
    "RoleBinding": _PB_BINDING,
    "ClusterRole": _PB_ROLE,
    "Role": _PB_ROLE,
    "SelfSubjectAccessReview": {1: ("metadata", _PB_META), 2: ("spec", {
        1: ("resourceAttributes", _PB_RESOURCE_ATTRIBUTES),
        2: ("nonResourceAttributes", {1: ("path", "s"), 2: ("verb", "s")}),
    })},
}  # fmt: skip
_PB_MAGIC = b"k8s\x00"


def decode_protobuf(data: bytes) -> Obj:
    """A Kubernetes protobuf envelope (magic `k8s` NUL + runtime.Unknown) → the object as JSON would have it."""
    if not data.startswith(_PB_MAGIC):
        raise KubeError(400, "the request body is not a Kubernetes protobuf envelope")
    try:
        envelope = _pb_message(
            data[len(_PB_MAGIC) :], {1: ("typeMeta", {1: ("apiVersion", "s"), 2: ("kind", "s")}), 2: ("raw", "raw")}
        )
        type_meta = envelope.get("typeMeta") or {}
        schema = PROTOBUF_KINDS.get(type_meta.get("kind", ""))
        if schema is None:
            raise KubeError(
                415,
                f"the lab decodes protobuf bodies only for {', '.join(PROTOBUF_KINDS)}; send JSON (e.g. kubectl apply)",
            )
        return {
            "apiVersion": type_meta.get("apiVersion"),
            "kind": type_meta["kind"],
            **_pb_message(envelope.get("raw", b""), schema),
        }
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        raise KubeError(400, f"the protobuf request body could not be decoded: {exc}") from exc


def _pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _pb_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    i = 0
    while i < len(buf):
        tag, i = _pb_varint(buf, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _pb_varint(buf, i)
            yield number, value
        elif wire == 2:
            length, i = _pb_varint(buf, i)
            yield number, buf[i : i + length]
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4  # fixed-width numbers: none of the decoded kinds use them
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _pb_message(buf: bytes, schema: PbSchema) -> Obj:
    out: Obj = {}
    for number, raw in _pb_fields(buf):
        if number not in schema:
            continue
        name, kind = schema[number]
        item = kind[0] if isinstance(kind, list) else kind
        value = _pb_value(raw, item)
        if item in ("m", "mb"):
            out.setdefault(name, {}).update([value])
        elif isinstance(kind, list):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _pb_value(raw: int | bytes, kind: Any) -> Any:
    if isinstance(raw, int):
        return bool(raw) if kind == "?" else raw
    if kind == "s":
        return raw.decode()
    if kind == "b":
        return base64.b64encode(raw).decode()
    if kind in ("m", "mb"):
        entry = _pb_message(raw, {1: ("key", "s"), 2: ("value", "b" if kind == "mb" else "s")})
        return entry.get("key", ""), entry.get("value", "")
    if isinstance(kind, dict):
        return _pb_message(raw, kind)
    return raw


# -- selectors --

_LABEL_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_LABEL_VALUE = r"[-A-Za-z0-9_.]*"
_SET_REQ = re.compile(rf"^(?P<key>{_LABEL_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EQ_REQ = re.compile(rf"^(?P<key>{_LABEL_KEY})\s*(?P<op>==|!=|=)\s*(?P<value>{_LABEL_VALUE})$")
_CMP_REQ = re.compile(rf"^(?P<key>{_LABEL_KEY})\s*(?P<op>[<>])\s*(?P<value>-?\d+)$")
_EXISTS_REQ = re.compile(rf"^(?P<not>!?)\s*(?P<key>{_LABEL_KEY})$")

Predicate = Callable[[Obj], bool]


def _split_requirements(selector: str) -> list[str]:
    """Commas separate requirements, except inside `in (a,b)`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _label_requirement(text: str) -> Callable[[dict[str, str]], bool]:
    if m := _SET_REQ.match(text):
        key, values = m["key"], {v.strip() for v in m["values"].split(",") if v.strip()}
        if m["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_REQ.match(text):
        key, value = m["key"], m["value"]
        if m["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _CMP_REQ.match(text):
        key, bound, greater = m["key"], int(m["value"]), m["op"] == ">"
        return lambda labels: _compare(labels.get(key), bound, greater)
    if m := _EXISTS_REQ.match(text):
        key, negate = m["key"], bool(m["not"])
        return lambda labels: (key in labels) != negate
    raise KubeError(400, f"unable to parse requirement: found '{text}', expected: label selector requirement")


def _compare(value: str | None, bound: int, greater: bool) -> bool:
    try:
        number = int(value or "")
    except ValueError:
        return False
    return number > bound if greater else number < bound


def label_predicate(selector: str | None) -> Predicate:
    requirements = [_label_requirement(r) for r in _split_requirements(selector or "")]
    return lambda obj: all(req(_meta(obj).get("labels") or {}) for req in requirements)


#: field labels each resource supports (besides metadata.name and metadata.namespace)
FIELD_LABELS: dict[str, set[str]] = {
    "pods": {
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
    },
    "events": {
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
        "reason", "reportingComponent", "source", "type",
    },
    "nodes": {"spec.unschedulable"},
    "namespaces": {"status.phase"},
    "secrets": {"type"},
    "replicasets": {"status.replicas"},
}  # fmt: skip
_FIELD_REQ = re.compile(r"^(?P<field>[A-Za-z0-9_.]+)\s*(?P<op>==|!=|=)\s*(?P<value>.*)$")
#: where a field label's value lives when it is not the label itself
_FIELD_PATHS = {"source": "source.component"}
_FIELD_DEFAULTS = {"spec.hostNetwork": "false", "spec.unschedulable": "false"}


def _field_value(obj: Obj, field: str) -> str:
    value: Any = obj
    for part in _FIELD_PATHS.get(field, field).split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return _FIELD_DEFAULTS.get(field, "")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_predicate(selector: str | None, resource: str) -> Predicate:
    checks: list[tuple[str, bool, str]] = []
    for text in _split_requirements(selector or ""):
        m = _FIELD_REQ.match(text)
        if m is None:
            raise KubeError(400, f"invalid selector: '{selector}'; can't understand '{text}'")
        field = m["field"]
        if field not in {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(resource, set()):
            raise KubeError(400, f"field label not supported: {field}")
        checks.append((field, m["op"] == "!=", m["value"].replace("\\", "")))
    return lambda obj: all((_field_value(obj, f) == v) != negate for f, negate, v in checks)


def _matcher(req: LabRequest, target: Target) -> Predicate:
    labels = label_predicate(req.arg("labelSelector"))
    fields = field_predicate(req.arg("fieldSelector"), target.rt.plural)
    namespace = target.namespace if target.rt.namespaced else None
    name = target.name

    def match(obj: Obj) -> bool:
        meta = _meta(obj)
        if namespace is not None and meta.get("namespace") != namespace:
            return False
        if name is not None and meta.get("name") != name:
            return False
        return labels(obj) and fields(obj)

    return match


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
                     limit=_int_arg(req, "limit"))
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


# -- scale subresource --


def _selector_string(selector: Any) -> str:
    """A LabelSelector as the `status.selector` string a Scale reports."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, key))  # fmt: skip
    return ",".join(parts)


def scale_of(obj: Obj) -> Obj:
    meta = _meta(obj)
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    keep = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in keep if k in meta},
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {"replicas": status.get("replicas", 0), "selector": _selector_string(spec.get("selector"))},
    }


def _scale_get(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    return LabResponse.of_json(scale_of(_require(state, target)))


def _scale_write(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    current = _require(state, target)
    if req.method == "PUT":
        scale = _body_object(req)
    else:
        content_type = req.headers.get("content-type", "").split(";")[0].strip()
        scale = apply_patch(content_type, scale_of(current), _body(req))
    if not isinstance(scale, dict):
        raise KubeError(422, "the patched Scale is not an object")
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise KubeError(
            422, f'Scale.autoscaling "{target.name}" is invalid: spec.replicas: Invalid value: {replicas!r}'
        )
    wanted_rv = _meta(scale).get("resourceVersion")

    def change(obj: Obj) -> Obj:
        obj.setdefault("spec", {})["replicas"] = replicas
        obj.setdefault("metadata", {})["resourceVersion"] = wanted_rv
        return obj

    main = Target(target.rt, target.namespace, target.name)
    _update(state, req, main, change)
    return LabResponse.of_json(scale_of(_require(state, main)))


# -- logs --

#: waiting reasons after which a container has never run, so it has no log yet
_NOT_STARTED = "is waiting to start"


def _logs(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    pod = _require(state, target)
    spec = pod.get("spec") or {}
    containers = [
        c.get("name") for part in ("containers", "initContainers", "ephemeralContainers") for c in spec.get(part) or []
    ]
    regular = [c.get("name") for c in spec.get("containers") or []]
    container = req.arg("container")
    if not container:  # as the real server: only a pod with one container has a default
        if len(regular) != 1:
            raise KubeError(400, f"a container name must be specified for pod {target.name}, "
                                 f"choose one of: [{' '.join(str(n) for n in regular)}]")
        container = regular[0]
    if container not in containers:
        raise KubeError(400, f"container {container} is not valid for pod {target.name}")
    previous = _flag(req, "previous")
    data = state.logs.get((target.namespace or "", target.name or "", container, previous))
    if data is None and previous:
        raise KubeError(400, f'previous terminated container "{container}" in pod "{target.name}" not found')
    if data is None:
        waiting = _waiting_reason(pod, container)
        if waiting and waiting != "CrashLoopBackOff":
            raise KubeError(400, f'container "{container}" in pod "{target.name}" {_NOT_STARTED}: {waiting}')
        data = b""
    raw = data.encode() if isinstance(data, str) else data
    return LabResponse(200, _trim_log(raw, req.arg("tailLines"), req.arg("limitBytes")), "text/plain")


def _waiting_reason(pod: Obj, container: str) -> str | None:
    status = pod.get("status") or {}
    for part in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(part) or []:
            if cs.get("name") == container:
                return ((cs.get("state") or {}).get("waiting") or {}).get("reason")
    return None


def _trim_log(data: bytes, tail_lines: str | None, limit_bytes: str | None) -> bytes:
    if tail_lines is not None and tail_lines.lstrip("-").isdigit() and int(tail_lines) >= 0:
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[len(lines) - int(tail_lines) :]) if int(tail_lines) < len(lines) else data
    if limit_bytes is not None and limit_bytes.isdigit():
        data = data[: int(limit_bytes)]
    return data


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


# -- watch --


def _watch(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    """ADDED for the current objects (when asked), a BOOKMARK ending the initial events, then
    changes found by polling the store, until `timeoutSeconds`."""
    match = _matcher(req, target)  # validates the selectors before the stream starts
    with state.lock:
        seen = {_key(o): copy.deepcopy(o) for o in state.items(target.store) if match(o)}
        rv = str(_current_rv(state))
    send_initial = req.arg("sendInitialEvents") == "true" or req.arg("resourceVersion") in (None, "", "0")
    bookmarks = req.arg("allowWatchBookmarks") == "true" or req.arg("sendInitialEvents") == "true"
    try:
        seconds = float(req.arg("timeoutSeconds") or WATCH_DEFAULT_SECONDS)
    except ValueError:
        seconds = WATCH_DEFAULT_SECONDS
    deadline = time.monotonic() + min(max(seconds, 0.0), WATCH_MAX_SECONDS)
    encode = _event_encoder(target.rt, req)
    initial = [encode("ADDED", seen[k]) for k in sorted(seen)] if send_initial else []
    if bookmarks:
        end_meta = {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}
        marker = {"kind": target.rt.kind, "apiVersion": target.rt.group_version, "metadata": end_meta}
        initial.append(json.dumps({"type": "BOOKMARK", "object": marker}).encode() + b"\n")
    stream = _watch_stream(state, target, match, seen, initial, deadline, encode)
    return LabResponse(200, None, "application/json", stream=stream)


def _event_encoder(rt: ResourceType, req: LabRequest) -> Callable[[str, Obj], bytes]:
    as_table = _wants_table(req)

    def encode(kind: str, obj: Obj) -> bytes:
        payload = table(rt, [obj], req, {}) if as_table else _served(rt, obj)
        return json.dumps({"type": kind, "object": payload}).encode() + b"\n"

    return encode


def _watch_stream(
    state: LabState,
    target: Target,
    match: Predicate,
    seen: dict[tuple[str, str], Obj],
    initial: list[bytes],
    deadline: float,
    encode: Callable[[str, Obj], bytes],
) -> Iterator[bytes]:
    if initial:
        yield b"".join(initial)
    while time.monotonic() < deadline:
        time.sleep(WATCH_POLL_SECONDS)
        # an empty chunk is a tick: the server does not write it but may end the stream on stop
        yield b"".join(encode(kind, obj) for kind, obj in _changes(state, target, match, seen))


def _changes(
    state: LabState, target: Target, match: Predicate, seen: dict[tuple[str, str], Obj]
) -> list[tuple[str, Obj]]:
    """What changed since the last poll, by content (hooks may edit objects without a resourceVersion)."""
    events: list[tuple[str, Obj]] = []
    with state.lock:
        now = {_key(o): o for o in state.items(target.store) if match(o)}
        for key, obj in sorted(now.items()):
            if key not in seen:
                events.append(("ADDED", copy.deepcopy(obj)))
            elif seen[key] != obj:
                events.append(("MODIFIED", copy.deepcopy(obj)))
        for key in sorted(set(seen) - set(now)):
            events.append(("DELETED", seen.pop(key)))
    for kind, obj in events:
        if kind != "DELETED":
            seen[_key(obj)] = obj
    return events


# -- tables (what kubectl get prints) --


def _wants_table(req: LabRequest) -> bool:
    return "as=Table" in req.headers.get("accept", "")


Column = tuple[str, str, int, Callable[[Obj, datetime], Any]]  # name, type, priority, cell


def table(rt: ResourceType, objs: list[Obj], req: LabRequest, list_meta: Obj) -> Obj:
    columns = TABLE_COLUMNS.get(rt.plural, GENERIC_COLUMNS)
    include = req.arg("includeObject") or "Metadata"
    now = _now()
    rows = []
    for obj in objs:
        row: Obj = {"cells": [cell(obj, now) for _, _, _, cell in columns]}
        if include == "Object":
            row["object"] = _served(rt, obj)
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}
        rows.append(row)
    definitions = [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": name,
            "priority": priority,
        }
        for name, kind, priority, _ in columns
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration, which kubectl's AGE column uses."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days % 365 == 0 else f"{years}y{days % 365}d"
    return f"{years}y"


def _age_of(stamp: Any, now: datetime) -> str:
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return human_duration((now - when).total_seconds())


def _age(obj: Obj, now: datetime) -> str:
    return _age_of(_meta(obj).get("creationTimestamp"), now)


def _name(obj: Obj, now: datetime) -> str:
    return str(_meta(obj).get("name", ""))


def _pod_status(pod: Obj) -> str:
    """kubectl's STATUS column: the phase, refined by container and init-container states."""
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    initializing = False
    init_count = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        initializing = True
        if terminated:
            reason = "Init:" + (terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{init_count}"
        break
    if not initializing:
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated:
                reason = terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}"
            elif state.get("running") and cs.get("ready"):
                running = True
        if reason == "Completed" and running:
            reason = "Running"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_ready(pod: Obj, now: datetime) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    return f"{sum(1 for cs in statuses if cs.get('ready'))}/{total}"


def _pod_restarts(pod: Obj, now: datetime) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    finished = [
        cs["lastState"]["terminated"]["finishedAt"]
        for cs in statuses
        if ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
    ]
    return f"{restarts} ({_age_of(max(finished), now)} ago)" if restarts and finished else str(restarts)


def _path(*keys: str, default: Any = "<none>") -> Callable[[Obj, datetime], Any]:
    def cell(obj: Obj, now: datetime) -> Any:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return default if value is None or value == "" else value

    return cell


def _deployment_ready(obj: Obj, now: datetime) -> str:
    return f"{(obj.get('status') or {}).get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 1)}"


def _containers(field: str) -> Callable[[Obj, datetime], str]:
    def cell(obj: Obj, now: datetime) -> str:
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        return ",".join(str(c.get(field, "")) for c in spec.get("containers") or [])

    return cell


def _node_status(node: Obj, now: datetime) -> str:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    text = {"True": "Ready", "False": "NotReady"}.get(ready or "", "Unknown")
    return text + (",SchedulingDisabled" if (node.get("spec") or {}).get("unschedulable") else "")


def _node_roles(node: Obj, now: datetime) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in _meta(node).get("labels") or {} if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _node_address(kind: str) -> Callable[[Obj, datetime], str]:
    def cell(node: Obj, now: datetime) -> str:
        addresses = (node.get("status") or {}).get("addresses") or []
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    return cell


def _event_last_seen(event: Obj, now: datetime) -> str:
    stamp = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
    return _age_of(stamp, now) if stamp else "<unknown>"


def _event_object(event: Obj, now: datetime) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


GENERIC_COLUMNS: list[Column] = [("Name", "string", 0, _name), ("Age", "string", 0, _age)]
TABLE_COLUMNS: dict[str, list[Column]] = {
    "pods": [
        ("Name", "string", 0, _name),
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, lambda o, now: _pod_status(o)),
        ("Restarts", "string", 0, _pod_restarts),
        ("Age", "string", 0, _age),
        ("IP", "string", 1, _path("status", "podIP")),
        ("Node", "string", 1, _path("spec", "nodeName")),
    ],
    "deployments": [
        ("Name", "string", 0, _name),
        ("Ready", "string", 0, _deployment_ready),
        ("Up-to-date", "integer", 0, _path("status", "updatedReplicas", default=0)),
        ("Available", "integer", 0, _path("status", "availableReplicas", default=0)),
        ("Age", "string", 0, _age),
        ("Containers", "string", 1, _containers("name")),
        ("Images", "string", 1, _containers("image")),
        ("Selector", "string", 1, lambda o, now: _selector_string((o.get("spec") or {}).get("selector"))),
    ],
    "nodes": [
        ("Name", "string", 0, _name),
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, _node_roles),
        ("Age", "string", 0, _age),
        ("Version", "string", 0, _path("status", "nodeInfo", "kubeletVersion", default="")),
        ("Internal-IP", "string", 1, _node_address("InternalIP")),
        ("External-IP", "string", 1, _node_address("ExternalIP")),
        ("OS-Image", "string", 1, _path("status", "nodeInfo", "osImage")),
        ("Kernel-Version", "string", 1, _path("status", "nodeInfo", "kernelVersion")),
        ("Container-Runtime", "string", 1, _path("status", "nodeInfo", "containerRuntimeVersion")),
    ],
    "events": [
        ("Last Seen", "string", 0, _event_last_seen),
        ("Type", "string", 0, _path("type", default="")),
        ("Reason", "string", 0, _path("reason", default="")),
        ("Object", "string", 0, _event_object),
        ("Message", "string", 0, _path("message", default="")),
    ],
    "namespaces": [
        ("Name", "string", 0, _name),
        ("Status", "string", 0, _path("status", "phase", default="Active")),
        ("Age", "string", 0, _age),
    ],
    "poddisruptionbudgets": [
        ("Name", "string", 0, _name),
        ("Min Available", "string", 0, _path("spec", "minAvailable", default="N/A")),
        ("Max Unavailable", "string", 0, _path("spec", "maxUnavailable", default="N/A")),
        ("Allowed Disruptions", "integer", 0, _path("status", "disruptionsAllowed", default=0)),
        ("Age", "string", 0, _age),
    ],
}
