"""Checks and causes about the cluster as the CAST AI API sees it (its `status`, its policies)
that several symptoms share: `cluster-hibernated` (2, 4), `cluster-status-warning` and
`autoscaler-disabled` (4, 5). One definition each; a symptom passes the ids it re-checks,
as `agent_checks.network_blocked(*recheck)` does.

Guide v2 §2, §4, §5; the values come from castai/terraform-provider-castai@58fea27
`castai/sdk/api.gen.go` (`ExternalclusterV1Cluster.Status`, `PoliciesV1Policies.Enabled`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from castui.tree.model import (
    Cause,
    Check,
    FixTemplate,
    Judgement,
    Observations,
    confirmed,
    ruled_out,
    unknown,
)
from castui.tree.reader import Reader
from castui.tree.reading import as_dict, as_str, json_evidence

#: "not expected to run any nodes" (SDK `ExternalclusterV1Cluster.Status`)
HIBERNATED = frozenset({"hibernating", "hibernated", "resuming"})
#: `warning`: "Autoscaling does NOT work in this state"; `failed` likewise, until reconciled (SDK)
NOT_AUTOSCALING = frozenset({"warning", "failed"})


async def gather_cluster_status(facts: Reader) -> dict[str, Any]:
    """The API's cluster document as it answered (status, agentStatus, createdAt, reconcileInfo, …)."""
    cluster = await facts.cluster()
    return cluster.model_dump(mode="json", by_alias=True, exclude_none=True)


def summarise_cluster_status(cluster: dict[str, Any]) -> str:
    return f"status {cluster.get('status') or 'unset'}, agentStatus {cluster.get('agentStatus') or 'unset'}"


async def gather_policies(facts: Reader) -> dict[str, Any]:
    """The policies document exactly as the API answered: absent keys stay absent (never `false`)."""
    return (await facts.policies_with_raw())[1]


def summarise_policies(policies: dict[str, Any]) -> str:
    enabled = policies.get("enabled")
    return "policies " + ("enabled" if enabled is True else "disabled" if enabled is False else "without `enabled`")


#: same id as agent-disconnected's own check: this one is a superset of what it reads
CLUSTER_STATUS = Check("cluster-status", "Cluster status in the CAST AI API (status, agentStatus, reconcileInfo)",
                       gather_cluster_status, summarise_cluster_status)
POLICIES = Check("policies", "Autoscaler policies from the API", gather_policies, summarise_policies)


def cluster_status(obs: Observations) -> str | None:
    status = as_dict(obs["cluster-status"]).get("status")
    return status if isinstance(status, str) and status else None


# --- judges ---------------------------------------------------------------------------------------


def judge_cluster_hibernated(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go ExternalclusterV1Cluster.Status
    cluster = as_dict(obs["cluster-status"])
    status = cluster_status(obs)
    if status is None:
        return unknown("the API's cluster document has no `status`")
    if status in HIBERNATED:
        return confirmed(f"the cluster is {status}: CAST AI runs no nodes while it is hibernated (expected)",
                         json_evidence("cluster (CAST AI API)", cluster, "status"))
    return ruled_out(f"the cluster's status is {status}, not hibernated")


def judge_cluster_status_warning(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go ExternalclusterV1Cluster.Status
    # ("warning: Autoscaling does NOT work in this state"), reconcileInfo.error
    cluster = as_dict(obs["cluster-status"])
    status = cluster_status(obs)
    if status is None:
        return unknown("the API's cluster document has no `status`")
    if status not in NOT_AUTOSCALING:
        return ruled_out(f"the cluster's status is {status}")
    error = as_str(as_dict(cluster.get("reconcileInfo")).get("error") or cluster.get("reconcileError"))
    evidence = [json_evidence("cluster (CAST AI API)", cluster, "status")]
    if "reconcileInfo" in cluster:
        evidence.append(json_evidence("cluster reconcile info (CAST AI API)", cluster, "reconcileInfo"))
    said = f": {error[:200]}" if error else " (the API gives no reconcile error)"
    return confirmed(f"the API reports the cluster {status}; autoscaling does not work in this state{said}", *evidence,
                     status=status, error=error or "see the cluster in the console",
                     cluster_id=as_str(cluster.get("id"), "${CASTAI_CLUSTER_ID}"),
                     api_url=obs.settings.api_url)


def judge_autoscaler_disabled(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go PoliciesV1Policies.Enabled
    # ("Enable/disable all policies"); deleting castai_autoscaler sets it: castai/resource_autoscaler.go
    policies = as_dict(obs["policies"])
    enabled = policies.get("enabled")
    if enabled is False:
        return confirmed("the autoscaler policies are off (`enabled: false`): CAST AI adds and removes no nodes",
                         json_evidence("policies", policies, "enabled"))
    if enabled is True:
        return ruled_out("the autoscaler policies are on")
    return unknown("the policies document has no `enabled` field" if enabled is None
                   else f"the policies' `enabled` is {enabled!r}, not true or false")


# --- fixes --------------------------------------------------------------------------------------


def _status_commands(values: Mapping[str, Any]) -> list[list[str]]:
    """`failed` is retried with a reconcile (asks first; the key stays a reference, so castui
    offers it for copying); `warning` has nothing to run: its error decides."""
    if values.get("status") != "failed":
        return []
    return [["curl", "-sS", "-X", "POST", "-H", "X-API-Key: ${CASTAI_API_KEY}",
             f"{values.get('api_url', 'https://api.cast.ai')}/v1/kubernetes/external-clusters/{values['cluster_id']}/reconcile"]]


def _status_guidance(values: Mapping[str, Any]) -> str:
    text = f"Fix what the API reports: {values.get('error', 'see the cluster in the console')} (often the cloud credentials)."
    if values.get("status") == "failed":
        text += " Then ask CAST AI to reconcile the cluster with the reconcile call shown (it carries your key: copy it)."
    return text


def cluster_hibernated(*recheck: str) -> Cause:
    """The cluster is hibernated: expected, and explains stopped agents and missing nodes."""
    return Cause(
        id="cluster-hibernated",
        title="The cluster is hibernated",
        judge=judge_cluster_hibernated,
        fix=FixTemplate(
            title="Resume the cluster if it should run",
            explanation=("A hibernated cluster runs no nodes by design. Resume it from the console or its hibernation "
                         "schedule; the /resume API needs a node configuration, so castui does not call it."),
            recheck=recheck,
            guidance=lambda _values: "Console → the cluster → Resume (or change its hibernation schedule).",
        ),
    )


def cluster_status_warning(*recheck: str) -> Cause:
    """The API reports the cluster `warning` or `failed`: autoscaling does not work until its error is fixed."""
    return Cause(
        id="cluster-status-warning",
        title="The API reports the cluster in warning or failed state",
        judge=judge_cluster_status_warning,
        fix=FixTemplate(
            title="Fix the cluster's reconcile error",
            explanation="CAST AI stops autoscaling while the cluster is {status}; its reconcile error says why.",
            commands=_status_commands,
            recheck=recheck,
            guidance=_status_guidance,
        ),
    )


def autoscaler_disabled(*recheck: str) -> Cause:
    """All autoscaler policies are off (`enabled: false`)."""
    return Cause(
        id="autoscaler-disabled",
        title="The autoscaler policies are disabled",
        judge=judge_autoscaler_disabled,
        fix=FixTemplate(
            title="Enable the autoscaler policies",
            explanation="`enabled: false` switches every autoscaler policy off; castui sets only that field.",
            policies_patch={"enabled": True},
            recheck=recheck,
            note=("If Terraform manages the policies (castai_autoscaler), set it there and apply: "
                  "deleting castai_autoscaler is what turns the policies off."),
        ),
    )
