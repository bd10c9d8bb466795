"""What a lab serves: Kubernetes objects, pod logs, the CAST AI API's data, a Helm
repository index and a status page. Scenarios build one; a bundle replays one.

Everything is plain JSON-shaped data (the objects exactly as an API server would
return them), so the same state can be written into a bundle and served again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


#: the resources castui reads, keyed by plural; the lab also serves PodDisruptionBudgets
#: as policy/v1beta1 (what Kubernetes 1.20 has) from the same store
RESOURCES: dict[str, ResourceType] = {
    r.plural: r
    for r in [
        ResourceType("", "v1", "namespaces", "Namespace", False),
        ResourceType("", "v1", "nodes", "Node", False),
        ResourceType("", "v1", "pods", "Pod", True),
        ResourceType("", "v1", "events", "Event", True),
        ResourceType("", "v1", "configmaps", "ConfigMap", True),
        ResourceType("", "v1", "secrets", "Secret", True),
        ResourceType("", "v1", "services", "Service", True),
        ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True),
        ResourceType("apps", "v1", "deployments", "Deployment", True),
        ResourceType("apps", "v1", "daemonsets", "DaemonSet", True),
        ResourceType("apps", "v1", "statefulsets", "StatefulSet", True),
        ResourceType("apps", "v1", "replicasets", "ReplicaSet", True),
        ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True),
        ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
        ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
        ResourceType("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
        ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
        ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
        ResourceType("autoscaling.cast.ai", "v1alpha1", "evictorconfigs", "EvictorConfig", False),
        ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True),
        ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
    ]
}


@dataclass
class CastaiState:
    """The CAST AI API's side of a lab."""

    #: accepted keys → {"status": 200|401|403, "readonly": bool, "active": bool, "expiresAt": str|None,
    #:                  "clusters": [ids this key may see] | None (all)}
    api_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    node_templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    workloads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    auth_tokens: list[dict[str, Any]] = field(default_factory=list)
    #: what the in-cluster curl pod reports when it calls the API ("200", "000" for no answer)
    in_cluster_reachability: str = "200"


@dataclass
class Fault:
    """An injected failure on the lab's HTTP surface.

    `path` is a regular expression matched against the request path (without query).
    kinds: latency (seconds=…), hang, reset, truncated-json, invalid-json, status (status=…, retry_after=…),
           non-utf8-log, huge-log (size=…), long-line (size=…), trickle (a byte every seconds=…, never ending).
    `times`: how many requests it applies to (None: all).
    """

    kind: str
    path: str = ".*"
    method: str | None = None
    status: int | None = None
    seconds: float = 0.0
    retry_after: str | None = None
    size: int = 0
    times: int | None = None


@dataclass
class LabState:
    """Everything a lab server answers from; guarded by `lock` because the server is threaded."""

    #: resource name (a key of RESOURCES) → list of objects as the API returns them
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (namespace, pod, container, previous) → log text (str) or raw bytes
    logs: dict[tuple[str, str, str, bool], str | bytes] = field(default_factory=dict)
    castai: CastaiState = field(default_factory=CastaiState)
    #: the Helm repository index.yaml as a dict (`{"apiVersion": "v1", "entries": {...}}`)
    helm_index: dict[str, Any] | None = None
    #: Statuspage-style JSON: {"status": {...status.json}, "incidents": {...unresolved.json}}, None: 404
    status_page: dict[str, Any] | None = None
    faults: list[Fault] = field(default_factory=list)
    #: the clock the scenario was built against (and a bundle's capture time)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: bearer tokens the Kubernetes side accepts → user name; empty means any token
    kube_tokens: dict[str, str] = field(default_factory=dict)
    #: user name → resource names that user is forbidden to read ("*" for all)
    kube_forbidden: dict[str, set[str]] = field(default_factory=dict)
    #: a served response is read-only (bundle replay): every write answers 405
    read_only: bool = False
    #: called after every successful write, under `lock`: (state, resource, namespace, name, obj or None)
    #: scenarios use them to make the lab react to a fix (a restart brings healthy pods back)
    on_write: list[Callable[["LabState", str, str | None, str, dict[str, Any] | None], None]] = field(
        default_factory=list, repr=False
    )
    #: every request served, as (method, path); the benchmark counts them
    request_log: list[tuple[str, str]] = field(default_factory=list, repr=False)
    #: notified after each request is logged, so a test can wait for requests to arrive
    request_seen: threading.Condition = field(default_factory=threading.Condition, repr=False)
    #: the Kubernetes side's global resourceVersion counter (0: not started; seeded from the objects' own)
    resource_version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def items(self, resource: str) -> list[dict[str, Any]]:
        return self.objects.setdefault(resource, [])

    def find(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        for obj in self.items(resource):
            meta = obj.get("metadata", {})
            if meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return obj
        return None
