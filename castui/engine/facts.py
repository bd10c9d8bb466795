"""Everything one diagnosis run reads, each fetched at most once.

Checks of different symptoms ask for the same things (the namespace's pods, the
policies, the nodes); `Facts` memoises each fetch as a shared task, failures
included, so ten symptoms cost one request per resource. Blocking Kubernetes
calls run in threads; CAST AI calls are async.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from castui.clients.errors import ApiKeyMissing, CastuiError, NotFound, RequestTimeout

if TYPE_CHECKING:
    import httpx

    from castui.clients.castai import CastaiClient
    from castui.clients.castai_models import AuthToken, Cluster, NodeTemplate, Policies, Workload
    from castui.clients.helm import HelmRelease
    from castui.clients.kube import KubeGateway
    from castui.config import Settings

T = TypeVar("T")

AGENT = "castai-agent"
AGENT_SELECTOR = "app.kubernetes.io/name=castai-agent"
METADATA_CONFIGMAP = "castai-agent-metadata"


class Facts:
    def __init__(
        self,
        settings: "Settings",
        kube: "KubeGateway | None",
        castai: "CastaiClient",
        http: "httpx.AsyncClient",
        *,
        now: datetime | None = None,
        kube_error: CastuiError | None = None,
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.castai = castai
        self.http = http
        self.now = now or datetime.now(timezone.utc)
        #: why there is no Kubernetes gateway (unreachable kubeconfig, unknown context)
        self.kube_error = kube_error
        self._tasks: dict[Any, asyncio.Future[Any]] = {}
        #: raw answers, for bundles: key → JSON-able value
        self.raw: dict[str, Any] = {}

    # --- the memo ---------------------------------------------------------------------------

    async def once(self, key: Any, fetch: Callable[[], Awaitable[T]]) -> T:
        """Run `fetch` once per key per run; every caller awaits the same result or error."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._bounded(fetch))
            self._tasks[key] = task
        return await asyncio.shield(task)

    async def _bounded(self, fetch: Callable[[], Awaitable[T]]) -> T:
        try:
            return await asyncio.wait_for(fetch(), timeout=self.settings.timeout)
        except (asyncio.TimeoutError, TimeoutError):
            raise RequestTimeout(f"no answer within {self.settings.timeout:g}s") from None

    async def kube_call(self, key: Any, call: Callable[["KubeGateway"], T]) -> T:
        if self.kube is None:
            raise self.kube_error or CastuiError("no Kubernetes connection")
        gateway = self.kube
        return await self.once(key, lambda: asyncio.to_thread(call, gateway))

    async def kube_list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        key = ("list", resource, namespace, label_selector, field_selector)
        items = await self.kube_call(
            key,
            lambda kube: kube.list(resource, namespace, label_selector=label_selector, field_selector=field_selector),
        )
        self.raw.setdefault(_raw_key(key), items)
        return items

    async def kube_get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = ("get", resource, namespace, name)
        obj = await self.kube_call(key, lambda kube: kube.get(resource, namespace, name))
        self.raw.setdefault(_raw_key(key), obj)
        return obj

    # --- Kubernetes ---------------------------------------------------------------------------

    @property
    def ns(self) -> str:
        return self.settings.namespace

    async def ns_pods(self) -> list[dict[str, Any]]:
        """Every pod in the CAST AI namespace: one list serves the agent, evictor and autoscaler checks."""
        return await self.kube_list("pods", self.ns)

    async def pods_of(self, app_name: str) -> list[dict[str, Any]]:
        pods = await self.ns_pods()
        return [p for p in pods if _labels(p).get("app.kubernetes.io/name") == app_name]

    async def ns_deployments(self) -> list[dict[str, Any]]:
        return await self.kube_list("deployments", self.ns)

    async def deployment(self, name: str) -> dict[str, Any] | None:
        for deployment in await self.ns_deployments():
            if deployment["metadata"]["name"] == name:
                return deployment
        return None

    async def logs(self, pod: str, container: str | None = None, *, previous: bool = False, tail: int | None = 50) -> str:
        key = ("logs", self.ns, pod, container, previous, tail)
        text = await self.kube_call(
            key, lambda kube: kube.logs(self.ns, pod, container, previous=previous, tail_lines=tail)
        )
        self.raw.setdefault(_raw_key(key), text)
        return text

    async def nodes(self) -> list[dict[str, Any]]:
        return await self.kube_list("nodes")

    async def pending_pods(self) -> list[dict[str, Any]]:
        pods = await self.kube_list("pods", None, field_selector="status.phase=Pending")
        return [p for p in pods if not p.get("spec", {}).get("nodeName")]

    async def all_pods(self) -> list[dict[str, Any]]:
        return await self.kube_list("pods", None)

    async def events(self, *, namespace: str | None = None, reason: str | None = None) -> list[dict[str, Any]]:
        return await self.kube_list("events", namespace, field_selector=f"reason={reason}" if reason else None)

    async def pdbs(self) -> list[dict[str, Any]]:
        return await self.kube_list("poddisruptionbudgets", None)

    async def network_policies(self) -> list[dict[str, Any]]:
        return await self.kube_list("networkpolicies", self.ns)

    async def workload_controllers(self) -> list[dict[str, Any]]:
        deployments, statefulsets = await asyncio.gather(
            self.kube_list("deployments", None), self.kube_list("statefulsets", None)
        )
        return [*deployments, *statefulsets]

    async def evictor_configs(self) -> list[dict[str, Any]]:
        try:
            return await self.kube_list("evictorconfigs", None)
        except NotFound:
            return []  # the CRD is not installed: nothing was applied by CAST AI

    async def helm_releases(self) -> list["HelmRelease"]:
        from castui.clients.helm import latest_releases

        secrets = await self.kube_list("secrets", self.ns, label_selector="owner=helm")
        return await self.once(("helm-releases",), lambda: asyncio.to_thread(latest_releases, secrets))

    async def agent_api_key(self) -> str | None:
        """The agent's own key, read to be *tested*, never used to read data; never stored in `raw`."""
        secret = await self.kube_call(("get", "secrets", self.ns, AGENT), lambda kube: kube.get("secrets", self.ns, AGENT))
        if not secret:
            return None
        value = (secret.get("data") or {}).get("API_KEY")
        return base64.b64decode(value).decode("utf-8", "replace").strip() if value else None

    # --- CAST AI -------------------------------------------------------------------------------

    async def cluster_id(self) -> str:
        """Configured, else the agent's metadata ConfigMap, else exactly one name match in the API."""
        return await self.once(("cluster-id",), self._discover_cluster_id)

    async def _discover_cluster_id(self) -> str:
        if self.settings.cluster_id:
            return self.settings.cluster_id
        reasons = []
        try:
            configmap = await self.kube_get("configmaps", self.ns, METADATA_CONFIGMAP)
            found = ((configmap or {}).get("data") or {}).get("CLUSTER_ID")
            if found:
                return found.strip()
            reasons.append(f"ConfigMap {self.ns}/{METADATA_CONFIGMAP} has no CLUSTER_ID")
        except CastuiError as exc:
            reasons.append(f"ConfigMap {self.ns}/{METADATA_CONFIGMAP}: {exc}")
        names = {n for n in (self.kube.context_name, self.kube.cluster_name) if n} if self.kube else set()
        clusters = await self.clusters()
        matches = [c for c in clusters if names & _cluster_names(c)]
        if len(matches) == 1:
            return matches[0].id
        reasons.append(
            f"{len(matches)} clusters in the API match {sorted(names) or 'no kube context'}"
            if clusters or names
            else "the API lists no clusters"
        )
        raise CastuiError("cluster id unknown: " + "; ".join(reasons), hint="set CASTAI_CLUSTER_ID or --cluster-id")

    async def clusters(self) -> list["Cluster"]:
        clusters = await self.once(("clusters",), self.castai.list_clusters)
        self.raw.setdefault("castai/clusters", [c.model_dump(mode="json", by_alias=True) for c in clusters])
        return clusters

    async def cluster(self) -> "Cluster":
        cluster_id = await self.cluster_id()
        cluster = await self.once(("cluster", cluster_id), lambda: self.castai.get_cluster(cluster_id))
        self.raw.setdefault("castai/cluster", cluster.model_dump(mode="json", by_alias=True))
        return cluster

    async def policies(self) -> "Policies":
        return (await self.policies_with_raw())[0]

    async def policies_with_raw(self) -> tuple["Policies", dict[str, Any]]:
        cluster_id = await self.cluster_id()
        result = await self.once(("policies", cluster_id), lambda: self.castai.get_policies(cluster_id))
        self.raw.setdefault("castai/policies", result[1])
        return result

    async def node_templates(self) -> list["NodeTemplate"]:
        cluster_id = await self.cluster_id()
        templates = await self.once(("templates", cluster_id), lambda: self.castai.list_node_templates(cluster_id))
        self.raw.setdefault("castai/node-templates", [t.model_dump(mode="json", by_alias=True) for t in templates])
        return templates

    async def workloads(self) -> list["Workload"]:
        cluster_id = await self.cluster_id()
        workloads = await self.once(("workloads", cluster_id), lambda: self.castai.list_workloads(cluster_id))
        self.raw.setdefault("castai/workloads", [w.model_dump(mode="json", by_alias=True) for w in workloads])
        return workloads

    async def auth_tokens(self) -> list["AuthToken"]:
        return await self.once(("tokens",), self.castai.list_auth_tokens)

    async def agent_key_status(self) -> int | None:
        """HTTP status the API gives the agent's key (one call, key never shown); None: no key in the cluster."""

        async def test() -> int | None:
            key = await self.agent_api_key()
            return None if key is None else await self.castai.test_key(key)

        return await self.once(("agent-key-status",), test)

    async def has_api_key(self) -> bool:
        return self.castai.has_key

    def require_api_key(self) -> None:
        if not self.castai.has_key:
            raise ApiKeyMissing()

    # --- outside the cluster ------------------------------------------------------------------

    async def chart_index(self) -> dict[str, str]:
        from castui.clients.helmrepo import fetch_index

        return await self.once(("helm-index",), lambda: fetch_index(self.http, self.settings.helm_repo_url))

    async def terraform_state(self) -> dict[str, Any] | None:
        """The tfstate of the Terraform directory, or None when there is none."""
        from castui.clients.terraform import read_state

        return await self.once(
            ("tfstate",), lambda: asyncio.to_thread(read_state, Path(self.settings.terraform_dir))
        )


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def _cluster_names(cluster: "Cluster") -> set[str]:
    names = {cluster.name} if cluster.name else set()
    for provider in ("eks", "gke", "aks"):
        details = getattr(cluster, provider, None)
        if details is not None and details.cluster_name:
            names.add(details.cluster_name)
    return names


def _raw_key(key: tuple[Any, ...]) -> str:
    return json.dumps([k for k in key], default=str)
