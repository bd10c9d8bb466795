"""Fixtures for the lab's real-HTTP tests: a small CAST AI agent cluster and a running LabServer."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from castui.lab.server import LabServer
from castui.lab.state import LabState

NS = "castai-agent"
AGENT = "castai-agent"
POD = "castai-agent-7d9f8b6c5-x2x4k"
RS = "castai-agent-7d9f8b6c5"
NODE = "lab-node-1"
ADMIN_TOKEN = "lab-admin-token"
VIEWER_TOKEN = "viewer-token"


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _node(now: datetime) -> dict[str, Any]:
    info_fields = ("architecture", "bootID", "containerRuntimeVersion", "kernelVersion", "kubeProxyVersion",
                   "kubeletVersion", "machineID", "operatingSystem", "osImage", "systemUUID")  # fmt: skip
    info = {f: f"lab-{f}" for f in info_fields} | {
        "architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.2", "kubeletVersion": "v1.32.0",
        "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
    }  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE,
            "uid": "node-uid-1",
            "resourceVersion": "10",
            "creationTimestamp": _ts(now - timedelta(days=3)),
            "labels": {"kubernetes.io/hostname": NODE, "node-role.kubernetes.io/worker": ""},
        },
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}],
            "nodeInfo": info,
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "3900m", "memory": "15Gi", "pods": "110"},
        },
    }


def _container_status(name: str, now: datetime, restarts: int) -> dict[str, Any]:
    return {
        "name": name,
        "image": "us-docker.pkg.dev/castai-hub/library/agent:v0.60.0",
        "imageID": "us-docker.pkg.dev/castai-hub/library/agent@sha256:" + "0" * 64,
        "ready": True,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": _ts(now - timedelta(minutes=30))}},
        "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "finishedAt": _ts(now - timedelta(minutes=31))}},
    }


def _pod(
    name: str, namespace: str, labels: dict[str, str], owner: dict[str, Any] | None, phase: str, now: datetime
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "resourceVersion": "20",
        "creationTimestamp": _ts(now - timedelta(hours=2)),
        "labels": labels,
    }
    if owner:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": NODE,
            "containers": [{"name": "agent", "image": "us-docker.pkg.dev/castai-hub/library/agent:v0.60.0"}],
        },
        "status": {
            "phase": phase,
            "podIP": "10.1.0.7",
            "startTime": _ts(now - timedelta(hours=2)),
            "conditions": [{"type": "Ready", "status": "True" if phase == "Running" else "False"}],
            "containerStatuses": [_container_status("agent", now, 2)] if phase == "Running" else [],
        },
    }


def make_state() -> LabState:
    now = datetime.now(timezone.utc)
    labels = {"app.kubernetes.io/name": AGENT, "app.kubernetes.io/instance": AGENT}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": AGENT,
            "namespace": NS,
            "uid": "deploy-uid",
            "resourceVersion": "30",
            "generation": 1,
            "creationTimestamp": _ts(now - timedelta(days=1)),
            "labels": labels,
        },  # fmt: skip
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": AGENT}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": "agent", "image": "us-docker.pkg.dev/castai-hub/library/agent:v0.60.0"}]
                },
            },
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },  # fmt: skip
    }
    replicaset = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": RS,
            "namespace": NS,
            "uid": "rs-uid",
            "resourceVersion": "31",
            "labels": labels,
            "creationTimestamp": _ts(now - timedelta(days=1)),
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": AGENT, "uid": "deploy-uid", "controller": True}
            ],
        },  # fmt: skip
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": AGENT}},
            "template": deployment["spec"]["template"],
        },
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
    }
    rs_owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": RS, "uid": "rs-uid", "controller": True}
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{POD}.17a",
            "namespace": NS,
            "uid": "event-uid",
            "resourceVersion": "40",
            "creationTimestamp": _ts(now - timedelta(minutes=31)),
        },  # fmt: skip
        "involvedObject": {"kind": "Pod", "name": POD, "namespace": NS, "apiVersion": "v1", "uid": f"uid-{POD}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting failed container agent",
        "count": 2,
        "firstTimestamp": _ts(now - timedelta(minutes=40)),
        "lastTimestamp": _ts(now - timedelta(minutes=31)),
        "source": {"component": "kubelet"},
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": AGENT,
            "namespace": NS,
            "uid": "pdb-uid",
            "resourceVersion": "50",
            "creationTimestamp": _ts(now - timedelta(days=1)),
        },
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": AGENT}}},
        "status": {
            "currentHealthy": 1,
            "desiredHealthy": 1,
            "disruptionsAllowed": 0,
            "expectedPods": 1,
            "observedGeneration": 1,
        },
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "castai-agent",
            "namespace": NS,
            "uid": "secret-uid",
            "resourceVersion": "60",
            "creationTimestamp": _ts(now - timedelta(days=1)),
        },
        "type": "Opaque",
        "data": {"API_KEY": base64.b64encode(b"lab-api-key").decode()},
    }
    namespaces = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": n,
                "uid": f"ns-{n}",
                "resourceVersion": "5",
                "creationTimestamp": _ts(now - timedelta(days=3)),
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }  # fmt: skip
        for n in (NS, "kube-system")
    ]
    state = LabState(
        objects={
            "namespaces": namespaces,
            "nodes": [_node(now)],
            "deployments": [deployment],
            "replicasets": [replicaset],
            "pods": [
                _pod(POD, NS, labels, rs_owner, "Running", now),
                _pod("coredns-5d78c9869d-abcde", "kube-system", {"k8s-app": "kube-dns"}, None, "Pending", now),
            ],
            "events": [event],
            "poddisruptionbudgets": [pdb],
            "secrets": [secret],
        },
        logs={
            (NS, POD, "agent", False): "agent starting\nconnected to api.cast.ai\nsnapshot sent\n",
            (NS, POD, "agent", True): "panic: cannot reach api.cast.ai: context deadline exceeded\n",
        },
        kube_tokens={ADMIN_TOKEN: "lab-admin", VIEWER_TOKEN: "viewer"},
        kube_forbidden={"viewer": {"secrets"}},
        now=now,
    )
    return state


@pytest.fixture
def lab_state() -> LabState:
    return make_state()


@pytest.fixture
def lab(lab_state: LabState) -> Iterator[LabServer]:
    with LabServer(lab_state) as server:
        yield server


@pytest.fixture
def kubeconfig(lab: LabServer, tmp_path: Path) -> Path:
    return lab.write_kubeconfig(tmp_path / "kubeconfig", token=ADMIN_TOKEN)
