"""Everything one diagnosis run reads, each fetched at most once.

Checks of different symptoms ask for the same things (the namespace's pods, the
policies, the nodes); `Facts` memoises each fetch as a shared task, failures
included, so ten symptoms cost one request per resource. Blocking Kubernetes
calls run in threads; CAST AI calls are async.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from castui.clients.errors import ApiKeyMissing, CastuiError, NotFound, RequestTimeout
from castui.engine.first_round import FOLD_PAGE_SIZE, METADATA_CONFIGMAP
from castui.engine.source import LIVE, Source, raw_key
from castui.tree.reader import AGENT

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from castui.clients.castai import CastaiClient
    from castui.clients.castai_models import AuthToken, Cluster, NodeTemplate, Policies, Workload
    from castui.clients.helm import HelmRelease
    from castui.clients.kube import KubeGateway
    from castui.config import Settings

T = TypeVar("T")

AGENT_SELECTOR = "app.kubernetes.io/name=castai-agent"
#: failures that never reached a server (nothing to replay)
#: (a missing API key is recorded: a replay must reproduce that castui had none at capture)
UNRECORDED = frozenset({"read-only"})
#: a paged list (Facts.kube_fold) gets the timeout afresh with each page, at most this many timeouts in all
PAGED_TIMEOUTS = 12
#: memo keys that are the same for every cluster of one API key: a fleet run fetches them once
SHARED_KEYS = frozenset({("clusters",), ("tokens",), ("helm-index",)})
#: threads for blocking Kubernetes calls. asyncio's default pool has cpu+4 (6 on two cores): a few long
#: paginated lists filled it and every small read queued behind them. Threads here mostly wait on sockets;
#: a re-run starts ~50 reads at once (Facts.prefetch), and 32 left the rest a round trip behind.
KUBE_THREADS = 64
_kube_pool: "ThreadPoolExecutor | None" = None


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
        shared: dict[Any, "asyncio.Future[Any]"] | None = None,
        source: Source = LIVE,
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.castai = castai
        self.http = http
        #: the door every read goes through: the clients, or a bundle's recorded answers (replay)
        self.source = source
        self.now = now or datetime.now(timezone.utc)
        #: why there is no Kubernetes gateway (unreachable kubeconfig, unknown context)
        self.kube_error = kube_error
        self._tasks: dict[Any, asyncio.Future[Any]] = {}
        #: a memo shared by several runs (a fleet: one per cluster) for SHARED_KEYS
        self.shared = shared
        #: raw answers, for bundles (and their replay): JSON key of the request → JSON-able answer
        self.raw: dict[str, Any] = {}
        #: requests that failed, same keys: {"kind": error kind, "message": castui's message, "hint": its hint}
        self.raw_errors: dict[str, dict[str, str | None]] = {}
        #: the agent key this run tested; a re-run tests it again at once, speculatively (prefetch)
        self._tested_key: str | None = None
        self._early_key_test: tuple[str, asyncio.Future[int]] | None = None

    # --- the memo ---------------------------------------------------------------------------

    async def once(self, key: Any, fetch: Callable[..., Awaitable[T]], *, paged: bool = False) -> T:
        """Run `fetch` once per key per run; every caller awaits the same result or error.
        `paged`: see `_bounded`."""
        return await asyncio.shield(self._task(key, fetch, paged=paged))

    def _task(self, key: Any, fetch: Callable[..., Awaitable[T]], *, paged: bool = False) -> "asyncio.Future[T]":
        tasks = self.shared if self.shared is not None and key in SHARED_KEYS else self._tasks
        task = tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._bounded(fetch, key, paged=paged))
            # a run cut short (a fleet cluster's deadline) leaves no one to read a failure: read it here,
            # or asyncio logs "exception was never retrieved" from the garbage collector
            task.add_done_callback(_retrieve)
            tasks[key] = task
        return task

    def prefetch(self, previous: "Facts | None" = None) -> None:
        """Start, before any check asks, the read every CAST AI read of the cluster waits for (its id),
        and on a re-run (`previous`: the session's last run) every read that run made whose address
        is known: its Kubernetes gets, lists and logs, and its CAST AI reads under the id it learned.

        Each goes into the memo under the key a check would use, so the check awaits it instead of
        starting it a round trip later. Should the id have changed, the checks read under the new
        one: a speculative read is at worst wasted, never used for another cluster.
        """
        self._task(("cluster-id",), self._discover_cluster_id)
        if previous is None or not self.source.live:  # a recording answers at once, and must ask nobody
            return
        learned = _result(previous._tasks.get(("cluster-id",)))
        if previous._tested_key is not None:
            # the agent's key test needs the key from its Secret, a round trip first; the key rarely
            # changes between two runs, so test the last one now: used only if the Secret still holds it
            key = previous._tested_key
            early = asyncio.ensure_future(self._bounded(lambda: self.castai.test_key(key), ("agent-key-status",)))
            early.add_done_callback(_retrieve)
            self._early_key_test = (key, early)
        for key in list(previous._tasks):
            fetch = self._refetch(key, learned)
            if fetch is not None:
                self._task(key, fetch, paged=key[0] == "list")

    def _refetch(self, key: Any, cluster_id: Any) -> Callable[..., Awaitable[Any]] | None:
        """How to read `key` again without the check that asked for it (None: only that check knows)."""
        kind, args = key[0], key[1:]
        if kind in CLUSTER_READS:
            if not isinstance(cluster_id, str) or args != (cluster_id,) or not self.castai.has_key:
                return None
            read = CLUSTER_READS[kind]
            return lambda: read(self, cluster_id)
        if self.kube is None:
            return None
        gateway = self.kube
        if kind == "list":
            return self._list_fetch(*args)
        if kind == "get":
            return lambda: in_kube_thread(lambda kube: kube.get(*args), gateway)
        if kind == "logs":
            namespace, pod, container, previous, tail = args
            return lambda: in_kube_thread(
                lambda kube: kube.logs(namespace, pod, container, previous=previous, tail_lines=tail), gateway)
        return None

    async def recorded(self, key: tuple[Any, ...], fetch: Callable[[], Awaitable[T]],
                       to_raw: Callable[[T], Any] = lambda v: v, decode: Callable[[Any], T] = lambda v: v) -> T:
        """Read `key` through the source and remember its answer (or its failure) in `raw` for bundles.

        `to_raw` makes the answer JSON-shaped for `raw`; `decode` turns a recorded one back."""
        try:
            value = await self.source.answer(key, fetch, decode)
        except CastuiError as error:
            if error.kind not in UNRECORDED:
                self.raw_errors.setdefault(raw_key(key), {"kind": error.kind, "message": error.message, "hint": error.hint})
            raise
        self.raw.setdefault(raw_key(key), to_raw(value))
        return value

    async def _bounded(self, fetch: Callable[..., Awaitable[T]], key: Any = None, *, paged: bool = False) -> T:
        """`fetch()` within the timeout. `paged`: `fetch(progressed)` calls `progressed()` (from any thread) on
        each page, which restarts the timeout: a list answering page after page is not "no answer", however
        big the cluster; PAGED_TIMEOUTS timeouts in all bound it still."""
        timeout = self.settings.timeout
        loop = asyncio.get_running_loop()
        last = loop.time() + timeout * PAGED_TIMEOUTS
        try:
            async with asyncio.timeout(timeout) as deadline:  # unlike wait_for, no extra task per fetch
                if not paged:
                    return await fetch()
                inside = True

                def bump() -> None:
                    if inside:  # a page's call may land after the fetch returned
                        deadline.reschedule(min(loop.time() + timeout, last))

                try:
                    return await fetch(lambda: loop.call_soon_threadsafe(bump))
                finally:
                    inside = False
        except TimeoutError:
            if paged and loop.time() >= last - 0.01:
                raise RequestTimeout(f"{describe_fetch(key)}: still paging after {timeout * PAGED_TIMEOUTS:g}s") from None
            raise RequestTimeout(f"{describe_fetch(key)}: no answer within {timeout:g}s") from None

    async def kube_call(self, key: Any, call: Callable[["KubeGateway"], T]) -> T:
        if self.kube is None:
            raise self.kube_error or CastuiError("no Kubernetes connection")
        gateway = self.kube
        return await self.once(key, lambda: in_kube_thread(call, gateway))

    async def kube_list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        key = ("list", resource, namespace, label_selector, field_selector)
        return await self.recorded(key, lambda: self.once(
            key, self._list_fetch(resource, namespace, label_selector, field_selector), paged=True))

    def _list_fetch(self, resource: str, namespace: str | None, label_selector: str | None,
                    field_selector: str | None) -> Callable[[Callable[[], Any]], Awaitable[list[dict[str, Any]]]]:
        """A whole list, page by page in the Kubernetes thread; each page restarts the timeout (`_bounded`)."""
        if self.kube is None:
            raise self.kube_error or CastuiError("no Kubernetes connection")
        gateway = self.kube

        def listed(kube: "KubeGateway", progressed: Callable[[], Any]) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            for page in kube.iter_pages(resource, namespace, label_selector=label_selector, field_selector=field_selector):
                progressed()
                items.extend(page)
            return items

        return lambda progressed: in_kube_thread(listed, gateway, progressed)

    async def kube_get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = ("get", resource, namespace, name)
        return await self.recorded(key, lambda: self.kube_call(key, lambda kube: kube.get(resource, namespace, name)))

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
        return await self.recorded(key, lambda: self.kube_call(
            key, lambda kube: kube.logs(self.ns, pod, container, previous=previous, tail_lines=tail)
        ))

    async def nodes(self) -> list[dict[str, Any]]:
        return await self.kube_list("nodes")

    async def pending_pods(self) -> list[dict[str, Any]]:
        pods = await self.kube_list("pods", None, field_selector="status.phase=Pending")
        return [p for p in pods if not p.get("spec", {}).get("nodeName")]

    async def all_pods(self) -> list[dict[str, Any]]:
        return await self.kube_list("pods", None)

    async def kube_fold(
        self,
        name: str,
        resource: str,
        fold: Callable[[Iterable[list[dict[str, Any]]]], T],
        *,
        namespace: str | None = None,
        field_selector: str | None = None,
        page_size: int = FOLD_PAGE_SIZE,
        projection: type | None = None,
    ) -> T:
        """A big list folded page by page (in the Kubernetes thread) into what a check needs, so
        100,000 pods never sit in memory at once; `raw` keeps the folded answer under ("fold", name).
        `projection`: the only fields `fold` reads of an item (castui.clients.projection), decoded ~7× faster."""
        from castui.clients.gc_pause import paused_collector

        def folded(kube: "KubeGateway", progressed: Callable[[], Any]) -> T:
            def pages() -> Iterable[list[dict[str, Any]]]:
                for page in kube.iter_pages(resource, namespace, field_selector=field_selector, page_size=page_size,
                                            projection=projection):
                    progressed()  # each page restarts the timeout (Facts._bounded)
                    yield page

            # each page's objects die with the page (reference counting); collector passes in between
            # would only rescan them, and everything else castui holds, again and again
            with paused_collector():
                return fold(pages())

        key = ("fold", name, resource, namespace, field_selector)

        def fetch() -> Awaitable[T]:
            if self.kube is None:  # asked only of a live source: a recording needs no gateway
                raise self.kube_error or CastuiError("no Kubernetes connection")
            gateway = self.kube
            return self.once(key, lambda progressed: in_kube_thread(folded, gateway, progressed), paged=True)

        # a recording keeps the list behind the fold (castui.bundle lists it), folded anew on replay
        return await self.recorded(key, fetch, decode=lambda objects: fold([objects]))

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

    async def api_service(self, name: str) -> dict[str, Any] | None:
        """An APIService (`v1beta1.metrics.k8s.io`: metrics-server's), or None when it is not registered."""
        return await self.kube_get("apiservices", None, name)

    async def helm_releases(self) -> list["HelmRelease"]:
        from castui.clients.helm import latest_releases

        secrets = await self.kube_list("secrets", self.ns, label_selector="owner=helm")
        return await self.once(("helm-releases",), lambda: asyncio.to_thread(latest_releases, secrets))

    async def agent_api_key(self, secret_name: str = AGENT, field: str = "API_KEY") -> str | None:
        """The agent's own key, read to be *tested*, never used to read data; `raw` keeps the Secret without its data.

        The Secret is the one the agent's Deployment references (the umbrella chart's is
        `castai-credentials`: castai/helm-charts charts/castai-umbrella values.yaml)."""
        key = ("get", "secrets", self.ns, secret_name)
        secret = await self.recorded(key, lambda: self.kube_call(key, lambda kube: kube.get("secrets", self.ns, secret_name)),
                                     _without_data)
        if not secret:
            return None
        value = (secret.get("data") or {}).get(field)
        api_key = base64.b64decode(value).decode("utf-8", "replace").strip() if value else None
        from castui.redacted import learn_secret

        learn_secret(api_key, "agent-key")  # whatever its shape, no output made from now on shows it
        return api_key

    async def lease(self, name: str) -> dict[str, Any] | None:
        """A Lease in the CAST AI namespace (the agent's leader election: `agent-leader-election-lock`)."""
        return await self.kube_get("leases", self.ns, name)

    # --- CAST AI -------------------------------------------------------------------------------

    async def cluster_id(self) -> str:
        """Configured, else the agent's metadata ConfigMap, else exactly one name match in the API."""
        return await self.once(("cluster-id",), self._discover_cluster_id)

    async def _discover_cluster_id(self) -> str:
        """Every way real installs leave it (guide v2, conventions): CASTAI_CLUSTER_ID, the agent's metadata
        ConfigMap, the agent's STATIC_CLUSTER_ID (the Terraform modules' additionalEnv), else exactly one
        cluster in the API whose name matches the kube context or cluster as the cloud CLIs write them."""
        if self.settings.cluster_id:
            return self.settings.cluster_id
        reasons = []
        try:
            configmap = await self.kube_get("configmaps", self.ns, METADATA_CONFIGMAP)
            found = ((configmap or {}).get("data") or {}).get("CLUSTER_ID")
            if isinstance(found, str) and found.strip():
                from castui.config import checked_cluster_id

                # text from the cluster: trimmed, and refused unless it is an id (never a path)
                return checked_cluster_id(found, source=f"ConfigMap {self.ns}/{METADATA_CONFIGMAP}'s CLUSTER_ID")
            reasons.append(f"ConfigMap {self.ns}/{METADATA_CONFIGMAP} has no CLUSTER_ID")
        except CastuiError as exc:
            reasons.append(f"ConfigMap {self.ns}/{METADATA_CONFIGMAP}: {exc}")
        try:
            static = _container_env(await self.deployment(AGENT)).get("STATIC_CLUSTER_ID", "").strip()
            if static:
                from castui.config import checked_cluster_id

                return checked_cluster_id(static, source=f"Deployment {self.ns}/{AGENT}'s STATIC_CLUSTER_ID")
        except CastuiError as exc:
            reasons.append(f"Deployment {self.ns}/{AGENT}: {exc}")
        kube_names = [n for n in (self.kube.context_name, self.kube.cluster_name) if n] if self.kube else []
        names = {cloud_cluster_name(n) for n in kube_names}
        clusters = await self.clusters()
        matches = [c for c in clusters if names & _cluster_names(c)]
        if len(matches) == 1:
            return matches[0].id
        if len(matches) > 1:
            reasons.append(f"{len(matches)} clusters in the API are named {sorted(names)}: "
                           + ", ".join(f"{c.id} ({c.name})" for c in matches[:5]))
        else:
            reasons.append(f"no cluster in the API is named {sorted(names) or 'like the kube context'}"
                           if clusters else "the API lists no clusters")
        raise CastuiError("cluster id unknown: " + "; ".join(reasons), hint="set CASTAI_CLUSTER_ID or --cluster-id")

    async def clusters(self) -> list["Cluster"]:
        return await self.recorded(("castai", "clusters"), lambda: self.once(("clusters",), self.castai.list_clusters),
                                   _dump_all, _models(_castai_models().Cluster))

    async def cluster(self) -> "Cluster":
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "cluster", cluster_id),
                                   lambda: self.once(("cluster", cluster_id), lambda: self.castai.get_cluster(cluster_id)),
                                   _dump, _castai_models().Cluster.model_validate)

    async def policies(self) -> "Policies":
        return (await self.policies_with_raw())[0]

    async def policies_with_raw(self) -> tuple["Policies", dict[str, Any]]:
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "policies", cluster_id),
                                   lambda: self.once(("policies", cluster_id), lambda: self.castai.get_policies(cluster_id)),
                                   lambda result: result[1], lambda raw: (_castai_models().Policies.model_validate(raw), raw))

    async def node_templates(self) -> list["NodeTemplate"]:
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "node-templates", cluster_id),
                                   lambda: self.once(("templates", cluster_id), lambda: self.castai.list_node_templates(cluster_id)),
                                   _dump_all, _models(_castai_models().NodeTemplate))

    async def workloads(self) -> list["Workload"]:
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "workloads", cluster_id),
                                   lambda: self.once(("workloads", cluster_id), lambda: self.castai.list_workloads(cluster_id)),
                                   _dump_all, _models(_castai_models().Workload))

    async def evictor_ownership(self) -> str | None:
        """`configOwnership` of the Evictor (`castai` | `self-managed`), None when the API has no answer for
        this cluster (404: no Evictor configuration there)."""
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "evictor-ownership", cluster_id),
                                   lambda: self.once(("evictor-ownership", cluster_id), lambda: self._evictor_ownership_of(cluster_id)))

    async def _evictor_ownership_of(self, cluster_id: str) -> str | None:
        try:
            return (await self.castai.get_evictor_ownership(cluster_id)).config_ownership
        except NotFound:
            return None

    async def evictor_advanced_config(self) -> list[dict[str, Any]]:
        """The Evictor's advanced rules (`evictionConfig`), [] when the API has none for this cluster (404)."""
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "evictor-advanced-config", cluster_id),
                                   lambda: self.once(("evictor-advanced-config", cluster_id),
                                                     lambda: self._evictor_advanced_config_of(cluster_id)))

    async def _evictor_advanced_config_of(self, cluster_id: str) -> list[dict[str, Any]]:
        try:
            config = await self.castai.get_evictor_advanced_config(cluster_id)
        except NotFound:
            return []
        return [rule.model_dump(by_alias=True, exclude_none=True) for rule in config.eviction_config]

    async def workload_scaling_policies(self) -> list[dict[str, Any]]:
        cluster_id = await self.cluster_id()
        return await self.recorded(("castai", "workload-policies", cluster_id),
                                   lambda: self.once(("workload-policies", cluster_id),
                                                     lambda: self.castai.list_workload_scaling_policies(cluster_id)))

    async def auth_tokens(self) -> list["AuthToken"]:
        return await self.recorded(("castai", "auth-tokens"), lambda: self.once(("tokens",), self.castai.list_auth_tokens),
                                   _dump_all, _models(_castai_models().AuthToken))

    async def agent_key_status(self, secret_name: str = AGENT, field: str = "API_KEY") -> int | None:
        """HTTP status the API gives the agent's key (one call, key never shown); None: no key in the cluster."""

        async def test() -> int | None:
            key = await self.agent_api_key(secret_name, field)
            if key is None:
                return None
            self._tested_key = key
            if self._early_key_test is not None and self._early_key_test[0] == key:
                return await self._early_key_test[1]
            return await self.castai.test_key(key)

        return await self.recorded(("castai", "agent-key-status"), lambda: self.once(("agent-key-status",), test))

    async def in_cluster_api_status(self) -> str:
        from castui.engine.active import in_cluster_api_status

        return await in_cluster_api_status(self)

    async def has_api_key(self) -> bool:
        return self.castai.has_key

    def require_api_key(self) -> None:
        if not self.castai.has_key:
            raise ApiKeyMissing()

    # --- outside the cluster ------------------------------------------------------------------

    async def chart_index(self) -> dict[str, str]:
        from castui.clients.helmrepo import fetch_index

        return await self.recorded(("helm-index",),
                                   lambda: self.once(("helm-index",), lambda: fetch_index(self.http, self.settings.helm_repo_url)))

    async def terraform_state(self) -> dict[str, Any] | None:
        """The tfstate of the Terraform directory, or None when there is none."""
        from castui.clients.terraform import read_state

        return await self.recorded(("tfstate",), lambda: self.once(
            ("tfstate",), lambda: asyncio.to_thread(read_state, Path(self.settings.terraform_dir), timeout=self.settings.timeout)
        ))


#: memo keys (kind, cluster id) of the CAST AI reads of one cluster → the read behind it, as its accessor
#: makes it; a re-run starts these at once under the id the last run learned (Facts.prefetch)
CLUSTER_READS: dict[str, Callable[[Facts, str], Awaitable[Any]]] = {
    "cluster": lambda facts, cluster_id: facts.castai.get_cluster(cluster_id),
    "policies": lambda facts, cluster_id: facts.castai.get_policies(cluster_id),
    "templates": lambda facts, cluster_id: facts.castai.list_node_templates(cluster_id),
    "workloads": lambda facts, cluster_id: facts.castai.list_workloads(cluster_id),
    "workload-policies": lambda facts, cluster_id: facts.castai.list_workload_scaling_policies(cluster_id),
    "evictor-ownership": lambda facts, cluster_id: facts._evictor_ownership_of(cluster_id),
    "evictor-advanced-config": lambda facts, cluster_id: facts._evictor_advanced_config_of(cluster_id),
}


def _retrieve(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled():
        task.exception()


def _result(task: "asyncio.Future[Any] | None") -> Any:
    """A finished fetch's value; None when it failed, was cancelled or is still running."""
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def release_kube_threads() -> None:
    """At a command's end: the pool's idle threads leave (a stuck read's stays, for `aio.end` to see);
    the next call starts a fresh pool (an in-process caller, such as a test, runs many commands)."""
    global _kube_pool
    pool, _kube_pool = _kube_pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


async def in_kube_thread(call: Callable[..., T], *args: Any) -> T:
    """Run a blocking Kubernetes call on castui's own pool (see KUBE_THREADS)."""
    global _kube_pool
    if _kube_pool is None:
        from concurrent.futures import ThreadPoolExecutor

        from castui.aio import at_end

        _kube_pool = ThreadPoolExecutor(KUBE_THREADS, thread_name_prefix="castui-kube")
        at_end(release_kube_threads)
    return await asyncio.get_running_loop().run_in_executor(_kube_pool, functools.partial(call, *args))


#: what a fetch-once key reads, in the words the clients' own messages use (a timeout names it)
FETCHES = {
    "cluster-id": "find the CAST AI cluster id",
    "clusters": "list CAST AI clusters",
    "cluster": "get CAST AI cluster",
    "policies": "read autoscaler policies of cluster",
    "templates": "list node templates of cluster",
    "workloads": "list workload autoscaler workloads of cluster",
    "workload-policies": "list workload scaling policies of cluster",
    "evictor-ownership": "read the Evictor configuration owner of cluster",
    "evictor-advanced-config": "read the Evictor advanced configuration of cluster",
    "tokens": "list CAST AI API keys",
    "agent-key-status": "test the agent's API key",
    "helm-releases": "read the Helm releases",
    "helm-index": "read the Helm repository index",
    "tfstate": "read the Terraform state",
}


def describe_fetch(key: Any) -> str:
    """What a `Facts.once` key reads: "list nodes", "read the log of pod ns/name", "list CAST AI API keys"."""
    from castui.clients.resources import RESOURCES

    if not isinstance(key, tuple) or not key:
        return "read from the cluster or the API"
    kind, args = str(key[0]), key[1:]
    if kind == "fold" and len(args) > 1:  # ("fold", name, resource, namespace, field selector): a paged list
        kind, args = "list", args[1:]
    if kind in ("list", "get") and args:
        resource, namespace = str(args[0]), args[1] if len(args) > 1 else None
        target = f"{resource} {args[2]}" if kind == "get" and len(args) > 2 else resource
        if resource in RESOURCES and not RESOURCES[resource].namespaced:
            return f"{kind} {target}"
        return f"{kind} {target} in {namespace}" if namespace else f"{kind} {target} in all namespaces"
    if kind == "logs" and len(args) >= 2:
        return f"read the {'previous ' if len(args) > 3 and args[3] else ''}log of pod {args[0]}/{args[1]}"
    words = FETCHES.get(kind, kind)
    return f"{words} {args[0]}" if args and words.endswith(" cluster") else words


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def _cluster_names(cluster: "Cluster") -> set[str]:
    """The names a cluster goes by in the API: its own and its cloud's (`eks|gke|aks.clusterName`)."""
    return {n for n in (cluster.name, cluster.provider_cluster_name) if n}


_EKS_ARN = re.compile(r"^arn:aws[\w-]*:eks:[^:]+:\d+:cluster/(?P<name>.+)$")


def cloud_cluster_name(kube_name: str) -> str:
    """The cloud's cluster name inside a kubeconfig name as the cloud CLIs write it: `aws eks
    update-kubeconfig` uses the ARN `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`, `gcloud` writes
    `gke_PROJECT_LOCATION_NAME`, `az aks get-credentials` the plain name."""
    if match := _EKS_ARN.match(kube_name):
        return match.group("name")
    parts = kube_name.split("_", 3)
    if len(parts) == 4 and parts[0] == "gke" and all(parts[1:]):
        return parts[3]
    return kube_name


def _container_env(deployment: dict[str, Any] | None) -> dict[str, str]:
    spec = ((deployment or {}).get("spec") or {}).get("template", {}).get("spec", {})
    for container in spec.get("containers") or []:
        if container.get("name") in ("agent", None) or len(spec.get("containers") or []) == 1:
            return {e["name"]: str(e["value"]) for e in container.get("env") or [] if isinstance(e, dict) and "value" in e and "name" in e}
    return {}


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def _dump_all(models: list[Any]) -> list[Any]:
    return [_dump(m) for m in models]


def _castai_models() -> Any:
    from castui.clients import castai_models

    return castai_models


def _models(model: Any) -> Callable[[Any], list[Any]]:
    """A recorded list of CAST AI objects, as the client built them."""
    return lambda raw: [model.model_validate(item) for item in raw or []]


def _without_data(secret: dict[str, Any] | None) -> dict[str, Any] | None:
    """The agent's Secret as `raw` may keep it: every data value replaced by base64 of the marker."""
    if not secret:
        return secret
    from castui.redacted import LAST_APPLIED, REDACTED, REDACTED_B64

    meta = dict(secret.get("metadata") or {})
    if LAST_APPLIED in (meta.get("annotations") or {}):
        meta["annotations"] = {**meta["annotations"], LAST_APPLIED: REDACTED}
    return {**secret, "metadata": meta, "data": {k: REDACTED_B64 for k in (secret.get("data") or {})},
            **({"stringData": {k: REDACTED for k in secret["stringData"]}} if secret.get("stringData") else {})}
