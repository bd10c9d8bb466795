"""Load a lab scenario's Kubernetes objects into a real kube-apiserver, and take them out again.

A real server owns some metadata and validates the rest, so each lab object is
adapted the way `kubectl create` plus a controller would have made it:

- server-owned metadata goes (uid, resourceVersion, creationTimestamp, generation):
  the server picks its own, which is why castui reads ages from status fields and
  event timestamps, never from creationTimestamp;
- ownerReferences point at the uids the server gave the owners (owners are created
  first; a reference to an owner the scenario does not have keeps the lab's uid, as
  a real cluster with a garbage collector lagging behind would);
- status is written through the `status` subresource after the create (a create
  ignores it);
- Nodes get their kubelet port (the stand-in's) in `daemonEndpoints`;
- PodDisruptionBudgets are created as policy/v1beta1: Kubernetes 1.20 has no policy/v1;
- namespaces that exist already (default, kube-system) are kept, and namespaces are
  never deleted: without the namespace controller a deleted namespace stays
  Terminating forever, so unloading deletes the objects one by one instead.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from castui.lab.state import RESOURCES, LabState, ResourceType

#: creation order: owners and namespaces before what refers to them
ORDER = [
    "namespaces", "customresourcedefinitions", "nodes", "clusterroles", "clusterrolebindings", "roles", "rolebindings",
    "serviceaccounts", "configmaps", "secrets", "services", "networkpolicies", "deployments", "statefulsets",
    "daemonsets", "replicasets", "pods", "poddisruptionbudgets", "evictorconfigs", "leases", "events", "apiservices",
]
WITH_STATUS = {"nodes", "pods", "deployments", "replicasets", "daemonsets", "statefulsets", "poddisruptionbudgets"}
PDB_V1BETA1 = ResourceType("policy", "v1beta1", "poddisruptionbudgets", "PodDisruptionBudget", True)
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


def resource_type(plural: str) -> ResourceType:
    return PDB_V1BETA1 if plural == "poddisruptionbudgets" else RESOURCES[plural]


def collection_path(rt: ResourceType, namespace: str | None) -> str:
    scope = f"/namespaces/{namespace}" if rt.namespaced and namespace else ""
    return f"{rt.api_prefix}{scope}/{rt.plural}"


@dataclass
class LoadedScenario:
    """What `load` created, so `unload` can take exactly that out again."""

    created: list[tuple[str, str | None, str]] = field(default_factory=list)  # (plural, namespace, name)
    requests: int = 0
    seconds: float = 0.0


class ClusterLoader:
    """Talks to the real server as `admin` over one keep-alive connection."""

    def __init__(self, url: str, admin_token: str, kubelet_port: int) -> None:
        self.kubelet_port = kubelet_port
        self.http = httpx.Client(base_url=url, verify=False, timeout=30,
                                 headers={"Authorization": f"Bearer {admin_token}", "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201),
             params: dict[str, str] | None = None) -> httpx.Response:
        response = self.http.request(method, path, json=body, params=params)
        if response.status_code not in ok:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:600]}")
        return response

    def load(self, state: LabState) -> LoadedScenario:
        started = time.monotonic()
        loaded = LoadedScenario()
        uids: dict[tuple[str, str | None, str], str] = {}  # (kind, namespace, name) → server uid
        unknown = set(state.objects) - set(ORDER)
        if unknown:
            raise ValueError(f"the loader does not know how to create {sorted(unknown)}")
        for plural in ORDER:
            rt = resource_type(plural)
            for original in state.objects.get(plural) or []:
                body, status = adapt(original, rt, uids, self.kubelet_port)
                meta = body["metadata"]
                namespace = meta.get("namespace") if rt.namespaced else None
                path = collection_path(rt, namespace)
                response = self.call("POST", path, body, ok=(200, 201, 409) if plural == "namespaces" else (200, 201))
                loaded.requests += 1
                if response.status_code == 409:
                    continue  # default, kube-system: the server made them already
                created = response.json()
                uids[(rt.kind, namespace, meta["name"])] = created["metadata"]["uid"]
                if plural != "namespaces":
                    loaded.created.append((plural, namespace, meta["name"]))
                if status is not None and plural in WITH_STATUS:
                    created["status"] = status
                    self.call("PUT", f"{path}/{meta['name']}/status", created)
                    loaded.requests += 1
        loaded.seconds = time.monotonic() - started
        return loaded

    def unload(self, loaded: LoadedScenario) -> None:
        """Delete what `load` created, dependents first, with no grace period (there is no kubelet to confirm)."""
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0, "propagationPolicy": "Background"}
        for plural, namespace, name in reversed(loaded.created):
            path = f"{collection_path(resource_type(plural), namespace)}/{name}"
            self.http.request("DELETE", path, json=options)
        self.wait_until_gone(loaded)

    def wait_until_gone(self, loaded: LoadedScenario, timeout: float = 20.0) -> None:
        """Deletion is synchronous without finalizers; poll (bounded) in case a finalizer holds one."""
        deadline = time.monotonic() + timeout
        remaining = list(loaded.created)
        while remaining:
            remaining = [(p, ns, n) for p, ns, n in remaining
                         if self.http.get(f"{collection_path(resource_type(p), ns)}/{n}").status_code != 404]
            if remaining and time.monotonic() > deadline:
                raise RuntimeError(f"objects not deleted after {timeout:g}s: {remaining[:5]}")


def adapt(original: dict[str, Any], rt: ResourceType, uids: dict[tuple[str, str | None, str], str],
          kubelet_port: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(body to create, status to write afterwards) for one lab object."""
    body = copy.deepcopy(original)
    body["apiVersion"] = rt.group_version
    body["kind"] = rt.kind
    meta = body.setdefault("metadata", {})
    for key in SERVER_OWNED:
        meta.pop(key, None)
    namespace = meta.get("namespace")
    for ref in meta.get("ownerReferences") or []:
        server_uid = uids.get((ref.get("kind"), namespace, ref.get("name")))
        if server_uid:
            ref["uid"] = server_uid
    status = body.pop("status", None) if rt.plural in WITH_STATUS else None
    if rt.plural == "apiservices":
        # no metrics-server runs behind it here: a local APIService is one the aggregator itself marks Available
        body.pop("status", None)
        for key in ("service", "insecureSkipTLSVerify", "caBundle"):
            body.get("spec", {}).pop(key, None)
    if rt.plural == "nodes" and status is not None:
        status.setdefault("daemonEndpoints", {})["kubeletEndpoint"] = {"Port": kubelet_port}
        addresses = [a for a in status.get("addresses") or [] if a.get("type") != "InternalIP"]
        status["addresses"] = [{"type": "InternalIP", "address": "127.0.0.1"}, *addresses]
    return body, status
