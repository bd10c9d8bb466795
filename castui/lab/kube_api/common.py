"""What every part of the lab's Kubernetes API shares: the served types, errors as `Status`
objects, what a path addresses (`Target`), object helpers and the global resourceVersion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

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


def _flag(req: LabRequest, name: str) -> bool:
    return (req.arg(name) or "").lower() in ("1", "true")


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
