"""The CAST AI REST API (castai-facts.md §1): read-only calls plus the one write
castui makes (PUT policies, after the person confirmed the diff).

The API key lives in one private attribute and is only ever put in the
`X-API-Key` header of a request being sent: never in a default header, a repr,
a log line or an error message.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from castui.clients import http
from castui.clients.errors import ApiKeyMissing, CastuiError, ConfigurationError, MalformedResponse

if TYPE_CHECKING:  # the models cost ~60 ms of pydantic schema building: imported where an answer is parsed
    from castui.clients.castai_models import (
        AuthToken,
        Cluster,
        EvictorAdvancedConfig,
        EvictorConfigOwnership,
        NodeTemplate,
        Policies,
        Workload,
    )

DEFAULT_API_URL = "https://api.cast.ai"
#: a runaway cursor (a server answering the same page forever) must not loop forever
MAX_PAGES = 200
#: visible ASCII: what a header value may hold (keys are hex or base64-like anyway)
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")

M = TypeVar("M", bound=BaseModel)


class CastaiClient:
    def __init__(self, api_url: str, api_key: str | None, *, timeout: float = 10.0) -> None:
        self.api_url = normalize_api_url(api_url)
        self.__api_key = (api_key or "").strip() or None  # a key pasted or read from a file brings a newline
        self._http = http.create_client(timeout)

    def __repr__(self) -> str:
        return f"CastaiClient(url={self.api_url!r}, key={'set' if self.__api_key else 'missing'})"

    __str__ = __repr__

    @property
    def has_key(self) -> bool:
        return self.__api_key is not None

    async def __aenter__(self) -> CastaiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- clusters --

    async def list_clusters(self) -> list[Cluster]:
        data = await self._get_json("/v1/kubernetes/external-clusters", "list CAST AI clusters")
        from castui.clients.castai_models import ClusterList  # after the answer: the first request need not wait for the models

        return _parse(ClusterList, data, "list CAST AI clusters").items

    async def get_cluster(self, cluster_id: str) -> Cluster:
        what = f"get CAST AI cluster {cluster_id}"
        data = await self._get_json(f"/v1/kubernetes/external-clusters/{_segment(cluster_id)}", what)
        from castui.clients.castai_models import Cluster  # after the answer: the first request need not wait for the models

        return _parse(Cluster, data, what)

    # -- autoscaler --

    async def get_policies(self, cluster_id: str) -> tuple[Policies, dict[str, Any]]:
        """The policies as a model and as the raw dict (drift checks compare raw keys)."""
        what = f"read autoscaler policies of cluster {cluster_id}"
        data = await self._get_json(_policies_path(cluster_id), what)
        if not isinstance(data, dict):
            raise MalformedResponse(f"{what}: expected a JSON object")
        from castui.clients.castai_models import Policies  # after the answer: the first request need not wait for the models

        return _parse(Policies, data, what), data

    async def put_policies(self, cluster_id: str, body: dict[str, Any]) -> dict[str, Any]:
        what = f"update autoscaler policies of cluster {cluster_id}"
        data = await self._call("PUT", _policies_path(cluster_id), what, json=body)
        return data if isinstance(data, dict) else {}

    async def list_node_templates(self, cluster_id: str) -> list[NodeTemplate]:
        what = f"list node templates of cluster {cluster_id}"
        data = await self._get_json(
            f"/v1/kubernetes/clusters/{_segment(cluster_id)}/node-templates", what, params={"includeDefault": "true"}
        )
        from castui.clients.castai_models import NodeTemplateList  # after the answer: the first request need not wait for the models

        items = _parse(NodeTemplateList, data, what).items
        return [item.template.model_copy(update={"stats": item.stats}) for item in items]

    # -- evictor --

    async def get_evictor_ownership(self, cluster_id: str) -> EvictorConfigOwnership:
        """Who owns the Evictor's settings: `castai` or `self-managed` (docs.cast.ai evictor-config-ownership)."""
        what = f"read the Evictor configuration owner of cluster {cluster_id}"
        data = await self._get_json(f"/workload-eviction/v1/clusters/{cluster_id}/config", what)
        from castui.clients.castai_models import EvictorConfigOwnership  # after the answer, as above

        return _parse(EvictorConfigOwnership, data, what)

    async def get_evictor_advanced_config(self, cluster_id: str) -> EvictorAdvancedConfig:
        what = f"read the Evictor advanced configuration of cluster {cluster_id}"
        data = await self._get_json(f"/v1/kubernetes/clusters/{cluster_id}/evictor-advanced-config", what)
        from castui.clients.castai_models import EvictorAdvancedConfig  # after the answer, as above

        return _parse(EvictorAdvancedConfig, data, what)

    # -- workload autoscaler --

    async def list_workloads(self, cluster_id: str) -> list[Workload]:
        what = f"list workload autoscaler workloads of cluster {cluster_id}"
        path = f"/v1/workload-autoscaling/clusters/{_segment(cluster_id)}/workloads"
        workloads: list[Workload] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = {"page.cursor": cursor} if cursor else None
            data = await self._get_json(path, what, params=params)
            from castui.clients.castai_models import WorkloadPage  # after the answer: the first request need not wait for the models

            page = _parse(WorkloadPage, data, what)
            workloads.extend(page.workloads)
            if not page.next_cursor or page.next_cursor == cursor:
                return workloads
            cursor = page.next_cursor
        raise MalformedResponse(f"{what}: still paging after {MAX_PAGES} pages")

    async def list_workload_scaling_policies(self, cluster_id: str) -> list[dict[str, Any]]:
        """The workload autoscaler's scaling policies (`{items: [...]}`), as sent: judges read
        `recommendationPolicies.confidence.threshold` (terraform-provider-castai sdk api.gen.go)."""
        what = f"list workload scaling policies of cluster {cluster_id}"
        data = await self._get_json(f"/v1/workload-autoscaling/clusters/{_segment(cluster_id)}/policies", what)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise MalformedResponse(f"{what}: no `items` list")
        return [item for item in items if isinstance(item, dict)]

    # -- keys --

    async def list_auth_tokens(self) -> list[AuthToken]:
        data = await self._get_json("/v1/auth/tokens", "list CAST AI API keys")
        from castui.clients.castai_models import AuthTokenList  # after the answer: the first request need not wait for the models

        return _parse(AuthTokenList, data, "list CAST AI API keys").items

    async def test_key(self, key: str) -> int:
        """The HTTP status CAST AI gives another key (the agent's), from one cheap read.

        Only the status is used: this never reads data with a key the person did not give castui.
        Raises ConnectionFailed / RequestTimeout when nothing answers.
        """
        key = key.strip()
        if not key:
            raise ApiKeyMissing()
        url = self.api_url + "/v1/kubernetes/external-clusters"
        try:
            response = await http.request(
                self._http, "GET", url, what="test an API key", headers=_key_header(key), retries=0, check=False
            )
        except CastuiError as exc:
            raise _scrubbed(exc, key) from None
        return response.status_code

    # -- plumbing --

    async def _get_json(self, path: str, what: str, *, params: dict[str, str] | None = None) -> Any:
        return await self._call("GET", path, what, params=params)

    async def _call(
        self, method: str, path: str, what: str, *, params: dict[str, str] | None = None, json: Any = None
    ) -> Any:
        key = self.__api_key
        if key is None:
            raise ApiKeyMissing()
        try:
            return await http.request_json(
                self._http, method, self.api_url + path, what=what, headers=_key_header(key), params=params, json=json
            )
        except CastuiError as exc:
            raise _scrubbed(exc, key) from None


def normalize_api_url(api_url: str) -> str:
    """Like the agent: a bare host gets `https://`, a trailing slash goes."""
    url = (api_url or DEFAULT_API_URL).strip().rstrip("/")
    return url if "://" in url else f"https://{url}"


#: what a CAST AI cluster id may hold (they are UUIDs; letters, digits, `-`, `_` and `.` leave room)
CLUSTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def checked_cluster_id(value: str, *, source: str = "the cluster id") -> str:
    """A cluster id trimmed and checked: from the environment or a ConfigMap in the cluster it is
    outside text, and `a/../../auth/tokens` must not become another endpoint."""
    trimmed = value.strip()
    if not CLUSTER_ID.match(trimmed) or ".." in trimmed:
        raise ConfigurationError(f"{source} {trimmed[:80]!r} is not a CAST AI cluster id (letters, digits, '-', '_', '.')",
                                 hint="set CASTAI_CLUSTER_ID or --cluster-id to the id the console shows")
    return trimmed


def _segment(cluster_id: str) -> str:
    """The id as one path segment, escaped whatever it holds."""
    return quote(cluster_id.strip(), safe="")


def _policies_path(cluster_id: str) -> str:
    return f"/v1/kubernetes/clusters/{_segment(cluster_id)}/policies"


def _key_header(key: str) -> dict[str, str]:
    # checked before sending: the HTTP stack's own complaint (and its debug log) would quote the key
    if not _KEY_CHARS.fullmatch(key):
        raise ConfigurationError(
            "the CAST AI API key contains characters an HTTP header cannot carry",
            hint="check for a stray newline, space or quote where the key was pasted",
        )
    return {"X-API-Key": key}


def _parse(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # locations and messages only: pydantic's text would quote the offending values
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise MalformedResponse(f"{what}: unexpected response shape at {where}: {first['msg']}{more}") from None


def _scrubbed(error: CastuiError, key: str) -> CastuiError:
    """Defence in depth: a server echoing the key back must not put it in castui's words."""
    if key in error.message:
        error.message = error.message.replace(key, "<api key>")
        error.args = (error.message,)
    return error
