"""Discovery (`/api`, `/apis`, resource lists) and the OpenAPI v3 stubs kubectl validates with."""

from __future__ import annotations

import uuid

from castui.lab.kube_api.common import (
    ACCESS_REVIEW,
    CATEGORY_ALL,
    EXTRA_TYPES,
    SCALE_SUBRESOURCE,
    SERVED,
    SERVER_VERSION,
    SHORT_NAMES,
    STATUS_SUBRESOURCE,
    VERBS,
    KubeError,
    Obj,
)
from castui.lab.state import RESOURCES, ResourceType

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
