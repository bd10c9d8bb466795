"""What the clients' lab holds: a CAST AI organisation with two clusters and keys of
every kind, and a small castai-agent namespace."""

from __future__ import annotations

from typing import Any

from castui.lab.server import LabServer
from castui.lab.state import LabState

CLUSTER_ID = "5f1c0a52-1111-4c3e-9d0b-6a4f2e8c1d01"
HIDDEN_ID = "5f1c0a52-2222-4c3e-9d0b-6a4f2e8c1d02"
KEY = "lab-key-full-access"
READONLY_KEY = "lab-key-read-only"
SCOPED_KEY = "lab-key-one-cluster"
REVOKED_KEY = "lab-key-revoked"
NO_ACCESS_KEY = "lab-key-no-access"
NS = "castai-agent"
ADMIN_TOKEN = "admin-token"
VIEWER_TOKEN = "viewer-token"
WORKLOADS = 250


def cluster(cluster_id: str, name: str) -> dict[str, Any]:
    return {
        "id": cluster_id,
        "name": name,
        "organizationId": "org-1",
        "providerType": "eks",
        "region": {"name": "eu-central-1", "displayName": "Europe (Frankfurt)"},
        "status": "ready",
        "agentStatus": "online",
        "agentSnapshotReceivedAt": "2024-06-01T12:00:00.123456789Z",
        "reconcileInfo": {"status": "ok", "mode": "enabled", "errorCount": 0},
        "eks": {"clusterName": f"{name}-eks", "accountId": "123456789012"},
        "someFutureField": {"nested": True},
    }


def policies() -> dict[str, Any]:
    return {
        "enabled": True,
        "isScopedMode": False,
        "unschedulablePods": {"enabled": True, "headroom": {"enabled": False, "cpuPercentage": 10}},
        "clusterLimits": {"enabled": True, "cpu": {"minCores": 1, "maxCores": 20}},
        "nodeDownscaler": {
            "enabled": True,
            "emptyNodes": {"enabled": True, "delaySeconds": 300},
            "evictor": {"enabled": True, "aggressiveMode": False, "cycleInterval": "60s", "status": "Compatible"},
        },
        "spotInstances": {"enabled": True, "spotBackups": {"enabled": False}, "spotDiversityEnabled": False},
    }


def pod(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": labels or {"app.kubernetes.io/name": "castai-agent"}},
        "spec": {"containers": [{"name": "agent", "image": "castai/agent:v0.60.0"}]},
        "status": {"phase": "Running"},
    }


def make_state() -> LabState:
    state = LabState()
    state.castai.api_keys = {
        KEY: {"status": 200, "readonly": False, "clusters": None},
        READONLY_KEY: {"status": 200, "readonly": True, "clusters": None},
        SCOPED_KEY: {"status": 200, "clusters": [CLUSTER_ID]},
        REVOKED_KEY: {"status": 401},
        NO_ACCESS_KEY: {"status": 403},
    }
    state.castai.clusters = [cluster(CLUSTER_ID, "prod"), cluster(HIDDEN_ID, "staging")]
    state.castai.policies = {CLUSTER_ID: policies()}
    state.castai.node_templates = {
        CLUSTER_ID: [
            {"name": "default-by-castai", "isDefault": True, "isEnabled": True,
             "constraints": {"spot": True, "onDemand": True, "useSpotFallbacks": True, "architectures": ["amd64"]}},
            {"template": {"name": "gpu", "isEnabled": False, "customTaints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]},
             "stats": {"countOnDemand": 2, "countSpot": 1, "countFallback": 0}},
        ]
    }  # fmt: skip
    state.castai.workloads = {
        CLUSTER_ID: [
            {"id": f"w-{i}", "name": f"app-{i}", "namespace": "default", "kind": "Deployment",
             "recommendation": {"confidence": 0.4, "estimatedThresholdReachedAt": "2024-06-02T00:00:00Z"},
             "recommendationStatus": {"type": "STATUS_WAITING", "lowConfidence": True}}
            for i in range(WORKLOADS)
        ]
    }  # fmt: skip
    state.castai.auth_tokens = [
        {"id": "tok-1", "name": "castui", "active": True, "readonly": True, "expiresAt": None,
         "tokenPrefix": "a1b2", "token": "full-token-value-never-kept"},
    ]  # fmt: skip
    state.objects["namespaces"] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}]
    state.objects["pods"] = [pod(f"castai-agent-{i}") for i in range(7)] + [
        pod("evictor", {"app.kubernetes.io/name": "castai-evictor"})
    ]
    state.objects["poddisruptionbudgets"] = [
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "castai-agent", "namespace": NS},
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "castai-agent"}}}}
    ]  # fmt: skip
    state.logs[(NS, "castai-agent-0", "agent", False)] = (
        'time="2024-06-01T12:00:00Z" level=info msg="delta upload finished"\n'
    )
    state.kube_tokens = {ADMIN_TOKEN: "admin", VIEWER_TOKEN: "viewer"}
    state.kube_forbidden = {"viewer": {"secrets"}}
    return state


def requests_to(lab: LabServer, fragment: str) -> int:
    with lab.state.lock:
        return sum(1 for _, path in lab.state.request_log if fragment in path)
