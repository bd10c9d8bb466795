"""What a check may read, as the tree sees it: the one door to the outside world.

The tree owns this protocol and `castui.engine.facts.Facts` implements it (live clients or a
bundle's recorded answers), so the tree never imports the engine: a gather composes reads and
shapes them, a judge is a pure function of what the gathers returned. Every read here is
memoised per run by the engine, so two checks asking for the same list cost one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from castui.clients.castai_models import AuthToken, Cluster, NodeTemplate, Policies, Workload
    from castui.clients.helm import HelmRelease
    from castui.config import Settings

T = TypeVar("T")

#: the agent's Deployment, container Secret and app label (castai/helm-charts charts/castai-agent)
AGENT = "castai-agent"


class Reader(Protocol):
    """The reads a gather may make; each raises a `castui.clients.errors.CastuiError` it could not do."""

    settings: "Settings"
    now: datetime

    @property
    def ns(self) -> str:
        """The CAST AI namespace (`castai-agent` unless configured)."""
        ...

    # --- Kubernetes ---------------------------------------------------------------------------

    async def kube_list(self, resource: str, namespace: str | None = None, *, label_selector: str | None = None,
                        field_selector: str | None = None) -> list[dict[str, Any]]: ...

    async def kube_get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    async def kube_fold(self, name: str, resource: str, fold: Callable[[Iterable[list[dict[str, Any]]]], T], *,
                        namespace: str | None = None, field_selector: str | None = None, page_size: int = ...,
                        projection: type | None = None) -> T:
        """A big list folded page by page into what a check needs (never all in memory)."""
        ...

    async def pods_of(self, app_name: str) -> list[dict[str, Any]]:
        """Pods in the CAST AI namespace with `app.kubernetes.io/name=app_name`."""
        ...

    async def deployment(self, name: str) -> dict[str, Any] | None: ...

    async def logs(self, pod: str, container: str | None = None, *, previous: bool = False,
                   tail: int | None = 50) -> str: ...

    async def lease(self, name: str) -> dict[str, Any] | None: ...

    async def nodes(self) -> list[dict[str, Any]]: ...

    async def pending_pods(self) -> list[dict[str, Any]]:
        """Pending pods not yet bound to a node, in every namespace."""
        ...

    async def events(self, *, namespace: str | None = None, reason: str | None = None) -> list[dict[str, Any]]: ...

    async def pdbs(self) -> list[dict[str, Any]]: ...

    async def network_policies(self) -> list[dict[str, Any]]: ...

    async def workload_controllers(self) -> list[dict[str, Any]]: ...

    async def evictor_configs(self) -> list[dict[str, Any]]: ...

    async def api_service(self, name: str) -> dict[str, Any] | None: ...

    async def helm_releases(self) -> list["HelmRelease"]: ...

    async def in_cluster_api_status(self) -> str:
        """Active (consent, never in read-only mode): the HTTP status a throwaway pod gets from the API."""
        ...

    # --- CAST AI ------------------------------------------------------------------------------

    async def cluster(self) -> "Cluster": ...

    async def clusters(self) -> list["Cluster"]: ...

    async def policies_with_raw(self) -> tuple["Policies", dict[str, Any]]: ...

    async def node_templates(self) -> list["NodeTemplate"]: ...

    async def workloads(self) -> list["Workload"]: ...

    async def workload_scaling_policies(self) -> list[dict[str, Any]]: ...

    async def evictor_ownership(self) -> str | None: ...

    async def evictor_advanced_config(self) -> list[dict[str, Any]]: ...

    async def auth_tokens(self) -> list["AuthToken"]: ...

    async def agent_key_status(self, secret_name: str = AGENT, field: str = "API_KEY") -> int | None:
        """The HTTP status the API gives the agent's own key (the key is never shown); None: no key."""
        ...

    async def has_api_key(self) -> bool: ...

    # --- outside the cluster ------------------------------------------------------------------

    async def chart_index(self) -> dict[str, str]: ...

    async def terraform_state(self) -> dict[str, Any] | None: ...
