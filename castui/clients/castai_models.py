"""The CAST AI API objects castui reads, as pydantic models (castai-facts.md §1.4–1.7).

Attributes are snake_case; the API's camelCase names are the aliases, so
`Cluster.model_validate(api_json)` works and `model_dump(by_alias=True)` gives the
API's shape back. Every model keeps unknown fields (`extra="allow"`): the API grows,
and a new field must never turn a diagnosis into a validation error. Every field the
API may omit defaults to None, so "absent" stays distinguishable from `false`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


# -- clusters --


class Region(ApiModel):
    name: str | None = None
    display_name: str | None = None


class ReconcileInfo(ApiModel):
    error: str | None = None
    error_count: int | None = None
    mode: str | None = None  # enabled|disabled|paused|unspecified
    status: str | None = None  # ok|warning|failed|unknown
    reconciled_at: datetime | None = None
    retry_at: datetime | None = None
    started_at: datetime | None = None


class Cluster(ApiModel):
    id: str
    name: str | None = None
    organization_id: str | None = None
    provider_type: str | None = None
    region: Region | None = None
    status: str | None = None  # connecting|ready|warning|failed|deleting|…
    agent_status: str | None = None  # waiting-connection|online|non-responding|disconnected|disconnecting
    agent_snapshot_received_at: datetime | None = None
    created_at: datetime | None = None
    kubernetes_version: str | None = None
    managed_by: str | None = None
    reconcile_error: str | None = None
    reconcile_info: ReconcileInfo | None = None
    #: the per-provider blocks, kept as the API's dicts (`clusterName`, `accountId`, `projectId`, …)
    eks: dict[str, Any] | None = None
    gke: dict[str, Any] | None = None
    aks: dict[str, Any] | None = None

    @property
    def provider_cluster_name(self) -> str | None:
        """The cloud's name for the cluster (`<provider>.clusterName`), to match against the kubeconfig."""
        for block in (self.eks, self.gke, self.aks):
            name = (block or {}).get("clusterName")
            if isinstance(name, str) and name:
                return name
        return None


# -- autoscaler policies --


class Headroom(ApiModel):
    enabled: bool | None = None
    cpu_percentage: int | None = None
    memory_percentage: int | None = None


class NodeConstraints(ApiModel):
    enabled: bool | None = None
    min_cpu_cores: int | None = None
    max_cpu_cores: int | None = None
    min_ram_mib: int | None = None
    max_ram_mib: int | None = None


class PodPinner(ApiModel):
    enabled: bool | None = None
    status: str | None = None


class UnschedulablePods(ApiModel):
    enabled: bool | None = None
    headroom: Headroom | None = None
    headroom_spot: Headroom | None = None
    node_constraints: NodeConstraints | None = None
    custom_instances_enabled: bool | None = None
    pod_pinner: PodPinner | None = None


class CpuLimits(ApiModel):
    min_cores: int | None = None
    max_cores: int | None = None


class ClusterLimits(ApiModel):
    enabled: bool | None = None
    cpu: CpuLimits | None = None


class EmptyNodes(ApiModel):
    enabled: bool | None = None
    delay_seconds: int | None = None


class EvictorPolicy(ApiModel):
    enabled: bool | None = None
    dry_run: bool | None = None
    aggressive_mode: bool | None = None
    scoped_mode: bool | None = None
    cycle_interval: str | None = None  # a Go duration, "60s" / "1m"
    node_grace_period_minutes: int | None = None
    ignore_pod_disruption_budgets: bool | None = None
    soft_tainting: bool | None = None
    status: str | None = None  # Compatible|Incompatible|InvalidConfig|Missing|Unknown


class NodeDownscaler(ApiModel):
    enabled: bool | None = None
    empty_nodes: EmptyNodes | None = None
    evictor: EvictorPolicy | None = None


class SpotBackups(ApiModel):
    enabled: bool | None = None
    spot_backup_restore_rate_seconds: int | None = None


class SpotInstances(ApiModel):
    enabled: bool | None = None
    max_reclaim_rate: int | None = None
    spot_backups: SpotBackups | None = None
    spot_diversity_enabled: bool | None = None
    spot_diversity_price_increase_limit_percent: int | None = None


class Policies(ApiModel):
    enabled: bool | None = None
    is_scoped_mode: bool | None = None
    default_node_template_version: str | None = None
    unschedulable_pods: UnschedulablePods | None = None
    cluster_limits: ClusterLimits | None = None
    node_downscaler: NodeDownscaler | None = None
    spot_instances: SpotInstances | None = None


# -- node templates --


class Taint(ApiModel):
    key: str | None = None
    value: str | None = None
    effect: str | None = None


class NodeTemplateConstraints(ApiModel):
    spot: bool | None = None
    on_demand: bool | None = None
    use_spot_fallbacks: bool | None = None
    fallback_restore_rate_seconds: int | None = None
    enable_spot_diversity: bool | None = None
    spot_diversity_price_increase_limit_percent: int | None = None
    architectures: list[str] | None = None
    min_cpu: int | None = None
    max_cpu: int | None = None
    min_memory: int | None = None
    max_memory: int | None = None


class NodeTemplateStats(ApiModel):
    count_on_demand: int | None = None
    count_spot: int | None = None
    count_fallback: int | None = None


class NodeTemplate(ApiModel):
    name: str
    is_default: bool | None = None
    is_enabled: bool | None = None
    version: str | None = None
    configuration_name: str | None = None
    should_taint: bool | None = None
    constraints: NodeTemplateConstraints | None = None
    custom_labels: dict[str, str] | None = None
    custom_taints: list[Taint] | None = None
    #: not part of the template: the list endpoint sends it beside each template
    stats: NodeTemplateStats | None = None


# -- API keys --


class AuthToken(ApiModel):
    """An API access key's metadata. The key value itself is dropped on the way in."""

    id: str
    name: str | None = None
    active: bool | None = None
    readonly: bool | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    token_prefix: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_token_value(cls, data: Any) -> Any:
        # the list answer may carry `token`; with extra="allow" it would land in repr and dumps
        if isinstance(data, dict) and "token" in data:
            data = {k: v for k, v in data.items() if k != "token"}
        return data


# -- workload autoscaler --


class Recommendation(ApiModel):
    confidence: float | None = None  # 0..1, metrics collected versus expected
    deployed: bool | None = None
    estimated_threshold_reached_at: datetime | None = None


class RecommendationError(ApiModel):
    type: str | None = None
    message: str | None = None


class RecommendationStatus(ApiModel):
    type: str | None = None  # STATUS_APPLIED|STATUS_STOPPED|STATUS_WAITING|STATUS_UNKNOWN
    low_confidence: bool | None = None
    applied_pods: int | None = None
    total_pods: int | None = None
    error: RecommendationError | None = None


class Workload(ApiModel):
    id: str
    name: str
    namespace: str | None = None
    kind: str | None = None
    cluster_id: str | None = None
    managed_by: str | None = None  # ANNOTATIONS|API
    scaling_policy_name: str | None = None
    recommendation: Recommendation | None = None
    recommendation_status: RecommendationStatus | None = None
    error: str | None = None
    error_title: str | None = None
    #: shape not pinned down by the SDK read (a list of entries); kept as sent
    annotations: Any = None


# -- evictor --


class EvictorConfigOwnership(ApiModel):
    """`GET /workload-eviction/v1/clusters/{id}/config`: who owns the Evictor's settings
    (`castai` | `self-managed`: docs.cast.ai evictor-config-ownership)."""

    config_ownership: str | None = None


class EvictorRuleSetting(ApiModel):
    enabled: bool | None = None


class EvictorRuleSettings(ApiModel):
    aggressive: EvictorRuleSetting | None = None
    disposable: EvictorRuleSetting | None = None
    removal_disabled: EvictorRuleSetting | None = None


class EvictorRule(ApiModel):
    #: selectors kept as sent (label selectors, namespaces, kinds: their shape varies by rule)
    pod_selector: dict[str, Any] | None = None
    node_selector: dict[str, Any] | None = None
    settings: EvictorRuleSettings | None = None


class EvictorAdvancedConfig(ApiModel):
    """`GET /v1/kubernetes/clusters/{id}/evictor-advanced-config` (docs.cast.ai evictor-advanced-configuration;
    terraform-provider-castai `castai_evictor_advanced_config`)."""

    eviction_config: list[EvictorRule] = Field(default_factory=list)


# -- list envelopes --


class ClusterList(ApiModel):
    items: list[Cluster] = Field(default_factory=list)


class NodeTemplateItem(ApiModel):
    template: NodeTemplate
    stats: NodeTemplateStats | None = None


class NodeTemplateList(ApiModel):
    items: list[NodeTemplateItem] = Field(default_factory=list)


class WorkloadPage(ApiModel):
    workloads: list[Workload] = Field(default_factory=list)
    next_cursor: str | None = None


class AuthTokenList(ApiModel):
    items: list[AuthToken] = Field(default_factory=list)
