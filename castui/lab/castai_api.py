"""The lab's CAST AI API: the endpoints castui reads (castai-facts.md §1.3), served
from `state.castai`, with the key checks a real API makes.

Keys: `X-API-Key` must name an entry of `state.castai.api_keys`; its `status`
(200/401/403) is how the API treats it, its `clusters` which clusters it may see
(None: all), and `readonly: true` refuses writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from castui.lab.http import LabRequest, LabResponse
from castui.lab.state import LabState

#: a workloads page when the request names no `page.limit`
WORKLOADS_PAGE = 100

_CLUSTERS = re.compile(r"^/v1/kubernetes/external-clusters/?$")
_CLUSTER = re.compile(r"^/v1/kubernetes/external-clusters/(?P<id>[^/]+)$")
_POLICIES = re.compile(r"^/v1/kubernetes/clusters/(?P<id>[^/]+)/policies$")
_NODE_TEMPLATES = re.compile(r"^/v1/kubernetes/clusters/(?P<id>[^/]+)/node-templates$")
_WORKLOADS = re.compile(r"^/v1/workload-autoscaling/clusters/(?P<id>[^/]+)/workloads$")
_WORKLOAD_POLICIES = re.compile(r"^/v1/workload-autoscaling/clusters/(?P<id>[^/]+)/policies$")
_TOKENS = re.compile(r"^/v1/auth/tokens$")
_EVICTOR_OWNERSHIP = re.compile(r"^/workload-eviction/v1/clusters/(?P<id>[^/]+)/config$")
_EVICTOR_ADVANCED = re.compile(r"^/v1/kubernetes/clusters/(?P<id>[^/]+)/evictor-advanced-config$")


def route(state: LabState, req: LabRequest) -> LabResponse | None:
    handler, match = _dispatch(req.path)
    if handler is None:
        return None
    with state.lock:
        key = state.castai.api_keys.get(req.headers.get("x-api-key", ""))
        refused = _refuse(key)
        if refused is not None:
            return refused
        assert key is not None
        cluster_id = match["id"] if match is not None and "id" in match.groupdict() else None
        if cluster_id is not None:
            denied = _cluster_access(state, key, cluster_id)
            if denied is not None:
                return denied
        return handler(state, req, key, cluster_id)


Handler = Callable[[LabState, LabRequest, dict[str, Any], str | None], LabResponse]


def _dispatch(path: str) -> tuple[Handler | None, re.Match[str] | None]:
    for pattern, handler in (
        (_CLUSTERS, _clusters),
        (_CLUSTER, _cluster),
        (_POLICIES, _policies),
        (_NODE_TEMPLATES, _node_templates),
        (_WORKLOADS, _workloads),
        (_WORKLOAD_POLICIES, _workload_policies),
        (_TOKENS, _tokens),
        (_EVICTOR_OWNERSHIP, _evictor_ownership),
        (_EVICTOR_ADVANCED, _evictor_advanced),
    ):
        match = pattern.match(path)
        if match is not None:
            return handler, match
    return None, None


# -- access --


def _refuse(key: dict[str, Any] | None) -> LabResponse | None:
    if key is None or key.get("status", 200) == 401:
        return _message(401, "Unauthorized")
    if key.get("status", 200) == 403:
        return _message(403, "Forbidden")
    return None


def _visible(key: dict[str, Any], cluster_id: str) -> bool:
    allowed = key.get("clusters")
    return allowed is None or cluster_id in allowed


def _cluster_access(state: LabState, key: dict[str, Any], cluster_id: str) -> LabResponse | None:
    if _find_cluster(state, cluster_id) is None:
        return _message(404, "cluster not found")
    if not _visible(key, cluster_id):
        return _message(403, "Forbidden")
    return None


# -- endpoints --


def _clusters(state: LabState, req: LabRequest, key: dict[str, Any], _: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    return LabResponse.of_json({"items": [c for c in state.castai.clusters if _visible(key, c.get("id", ""))]})


def _cluster(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    return LabResponse.of_json(_find_cluster(state, cluster_id or ""))


def _policies(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    assert cluster_id is not None
    if req.method == "GET":
        policies = state.castai.policies.get(cluster_id)
        return _message(404, "policies not found") if policies is None else LabResponse.of_json(policies)
    if req.method != "PUT":
        return _not_allowed()
    if state.read_only:
        return _message(405, "this lab is a read-only replay")
    if key.get("readonly"):
        return _message(403, "Forbidden: the API key is read-only")
    try:
        body = req.json()
    except ValueError:
        return _message(400, "invalid JSON body")
    if not isinstance(body, dict):
        return _message(400, "the body must be a JSON object")
    state.castai.policies[cluster_id] = body
    for hook in state.on_write:
        hook(state, "castai.policies", None, cluster_id, body)
    return LabResponse.of_json(state.castai.policies[cluster_id])


def _node_templates(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    include_default = req.arg("includeDefault", "true") != "false"
    items = [_template_item(t) for t in state.castai.node_templates.get(cluster_id or "", [])]
    if not include_default:
        items = [i for i in items if not i["template"].get("isDefault")]
    return LabResponse.of_json({"items": items})


def _template_item(stored: dict[str, Any]) -> dict[str, Any]:
    """Scenarios may store bare templates or the API's `{template, stats}` items."""
    if "template" in stored:
        return stored
    return {"template": stored, "stats": {"countOnDemand": 0, "countSpot": 0, "countFallback": 0}}


def _workloads(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    workloads = state.castai.workloads.get(cluster_id or "", [])
    try:
        start = int(req.arg("page.cursor") or 0)
        limit = int(req.arg("page.limit") or WORKLOADS_PAGE)
    except ValueError:
        return _message(400, "invalid page.cursor or page.limit")
    end = start + max(1, limit)
    # the cursor is opaque to clients; here it is simply the next offset
    return LabResponse.of_json(
        {"workloads": workloads[start:end], "nextCursor": str(end) if end < len(workloads) else ""}
    )


def _workload_policies(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    return LabResponse.of_json({"items": state.castai.workload_policies.get(cluster_id or "", [])})


def _tokens(state: LabState, req: LabRequest, key: dict[str, Any], _: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    return LabResponse.of_json({"items": state.castai.auth_tokens})


def _evictor_ownership(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    """docs.cast.ai evictor-config-ownership: `{"configOwnership": "castai" | "self-managed"}`."""
    if req.method != "GET":
        return _not_allowed()
    owner = state.castai.evictor_ownership.get(cluster_id or "")
    return _message(404, "evictor config not found") if owner is None else LabResponse.of_json({"configOwnership": owner})


def _evictor_advanced(state: LabState, req: LabRequest, key: dict[str, Any], cluster_id: str | None) -> LabResponse:
    if req.method != "GET":
        return _not_allowed()
    rules = state.castai.evictor_advanced_config.get(cluster_id or "")
    return _message(404, "advanced config not found") if rules is None else LabResponse.of_json({"evictionConfig": rules})


# -- helpers --


def _find_cluster(state: LabState, cluster_id: str) -> dict[str, Any] | None:
    return next((c for c in state.castai.clusters if c.get("id") == cluster_id), None)


def _message(status: int, message: str) -> LabResponse:
    return LabResponse.of_json({"message": message}, status)


def _not_allowed() -> LabResponse:
    return _message(405, "Method Not Allowed")
