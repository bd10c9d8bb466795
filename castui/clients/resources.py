"""The Kubernetes resources castui reads: group, version, plural, kind, scope.

The clients build request paths from it and the engine names reads with it; the lab
serves the same table."""

from __future__ import annotations

from dataclasses import dataclass


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
        ResourceType("apiregistration.k8s.io", "v1", "apiservices", "APIService", False),
        ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
    ]
}
