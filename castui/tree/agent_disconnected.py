"""2. `agent-disconnected`: the console shows the agent as disconnected or not responding (guide v2 §2).

Observed: `agentStatus` `non-responding` or `disconnected`, or `waiting-connection` 12 minutes
after `createdAt` (terraform-provider-castai@58fea27 castai/sdk/api.gen.go `ExternalclusterV1Cluster`);
`disconnecting` (being deleted) is reported, not a problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from castui.tree.agent_checks import (
    AGENT_DEPLOYMENT,
    AGENT_KEY,
    AGENT_LOGS,
    AGENT_PODS,
    AGENT_RELEASE,
    DELTA_SENT,
    NETWORK_POLICIES,
    first_hit,
    invalid_api_key,
    log_findings_evidence,
    network_blocked,
    replica_findings,
)
from castui.tree.cluster_checks import CLUSTER_STATUS, HIBERNATED, cluster_hibernated
from castui.tree.model import (
    Cause,
    Check,
    FixTemplate,
    Judgement,
    Observation,
    Observations,
    Symptom,
    confirmed,
    ruled_out,
    unknown,
)
from castui.tree.reader import Reader
from castui.tree.reading import (
    has_running_container,
    is_ready,
    json_evidence,
    name_of,
    parse_time,
    pods_table,
)

#: the console waits this long for a first connection (guide v2 §2)
FIRST_CONNECTION = timedelta(minutes=12)


async def gather_in_cluster_curl(facts: Reader) -> dict[str, Any]:
    """Active: a throwaway curl pod calls the API from inside the cluster; removed afterwards."""
    return {"status": await facts.in_cluster_api_status()}


CHECKS = (
    CLUSTER_STATUS,
    AGENT_PODS,
    AGENT_LOGS,
    AGENT_DEPLOYMENT,
    AGENT_RELEASE,
    AGENT_KEY,
    NETWORK_POLICIES,
    Check("in-cluster-curl", "Call the API from a temporary pod in the cluster (creates a pod)", gather_in_cluster_curl,
          lambda r: f"HTTP {r['status']}" if r else "skipped", active=True),
)


def observe(obs: Observations) -> Observation:
    status = obs["cluster-status"]
    agent_status = status.get("agentStatus")
    if agent_status in ("non-responding", "disconnected"):
        return Observation(True, f"the API reports agentStatus {agent_status!r} "
                                 f"(last snapshot {status.get('agentSnapshotReceivedAt') or 'never'})")
    if agent_status == "waiting-connection":
        created = parse_time(status.get("createdAt"))
        if created is not None and obs.now - created >= FIRST_CONNECTION:
            return Observation(True, f"the agent never connected: waiting-connection since {created:%Y-%m-%d %H:%M} UTC")
        return Observation(False, "waiting for the agent's first connection (less than 12 minutes)")
    if agent_status == "disconnecting":
        return Observation(False, "the cluster is being disconnected (deleted) in CAST AI")
    if agent_status is None:
        return Observation(None, "the API does not report an agentStatus")
    return Observation(False, f"the API reports the agent {agent_status}")


def judge_agent_not_running(obs: Observations) -> Judgement:
    """No replica with a running, ready `agent` container, or the Deployment missing or at 0 replicas;
    expected while the cluster is hibernated (guide v2 §2)."""
    status = obs.get("cluster-status") or {}
    if status.get("status") in HIBERNATED:
        return ruled_out(f"the cluster is {status['status']}: no agent is expected to run (see cluster-hibernated)")
    deployment = obs["agent-deployment"]
    if not deployment.get("exists"):
        return confirmed("there is no Deployment castai-agent in the namespace",
                         json_evidence("agent Deployment", deployment, "exists"), action="reinstall")
    if deployment.get("replicas") == 0:
        replicas = ((obs.get("agent-release") or {}).get("values") or {}).get("replicaCount") or 2
        return confirmed("the castai-agent Deployment is scaled to 0 replicas", json_evidence("agent Deployment", deployment, "replicas"),
                         action="scale", replicas=str(replicas))
    pods = obs["agent-pods"]
    if not pods:
        return confirmed("there is no castai-agent pod in the namespace", json_evidence("agent Deployment", deployment, "replicas"),
                         action="restart")
    if not any(is_ready(p) and has_running_container(p, "agent") for p in pods):
        return confirmed(f"none of the {len(pods)} agent pods has a running, ready agent container: "
                         + ", ".join(name_of(p) for p in pods), pods_table("agent pods", pods), action="restart")
    return ruled_out(f"{sum(is_ready(p) for p in pods)} of {len(pods)} agent pods are ready")


#: the leader's failed deltas other than 401/403, and the continuity-token restart
#: (k8s-agent internal/services/controller/controller.go, pkg/castai/castai.go)
HEARTBEAT_FAILURE = re.compile(
    r"failed sending delta: delta request error: .*status_code=(?!401\b|403\b)\d{3}"
    r"|restarting controller due to continuity token mismatch"
)


def judge_heartbeat_failing(obs: Observations) -> Judgement:
    """The leader persistently fails its deltas with no later `delta upload finished` (guide v2 §2)."""
    logs = obs["agent-logs"]
    if not any(has_running_container(p, "agent") for p in obs["agent-pods"]):
        return ruled_out("no agent container is running, so there is no heartbeat to fail (see agent-not-running)")
    found = replica_findings(logs, HEARTBEAT_FAILURE, DELTA_SENT, leader_only=True)
    if found:
        request_ids = sorted({m.group(1) for _, lines, hits, _ in found for i in hits
                              if (m := re.search(r'request_id="?([\w-]+)', lines[i]))})
        ids = f" (request ids for support: {', '.join(request_ids)})" if request_ids else ""
        return confirmed(f"the leader's deltas fail: {first_hit(found)}{ids}", *log_findings_evidence(found))
    if logs.get("leader") is None and len(logs["replicas"]) > 1:
        note = logs.get("lease_note") or "no replica holds the Lease in its logs"
        return unknown(f"the leader replica could not be told ({note}) and no replica persistently fails its deltas")
    return ruled_out("the leader's deltas are not failing persistently")


RESTART = (("kubectl", "rollout", "restart", "deployment/castai-agent", "-n", "{ns}"),)


def bring_back(values: Mapping[str, Any]) -> list[list[str]]:
    """Scale a Deployment at 0 back to its release's replicaCount, or restart pods that do not run;
    a missing Deployment is reinstalled from the console (guidance, no command)."""
    ns = str(values["ns"])
    if values.get("action") == "scale":
        return [["kubectl", "scale", "deployment/castai-agent", "-n", ns, f"--replicas={values.get('replicas', 2)}"]]
    if values.get("action") == "restart":
        return [["kubectl", "rollout", "restart", "deployment/castai-agent", "-n", ns]]
    return []

SYMPTOM = Symptom(
    id="agent-disconnected",
    title='Agent shows "Disconnected" in the console',
    label="disconnected",
    abbrev="disc",
    recognise="the console marks the cluster disconnected or not responding; autoscaling stops",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause(
            id="agent-not-running",
            title="No agent pod is running",
            judge=judge_agent_not_running,
            explained_by=("invalid-api-key", "network-blocked", "cluster-hibernated"),
            fix=FixTemplate(
                title="Bring the agent back (see agent-crashloop if it keeps failing)",
                explanation=(
                    "Scale the Deployment to its release's replicaCount, restart pods that do not run, or reinstall the "
                    "agent with the console's script if it is gone (docs.cast.ai component-troubleshooting). If it "
                    "crash-loops, the causes of agent-crashloop decide: fix those first."
                ),
                commands=bring_back,
                recheck=("agent-disconnected", "agent-crashloop"),
            ),
        ),
        Cause(
            id="heartbeat-failing",
            title="The agent runs but its deltas are refused",
            judge=judge_heartbeat_failing,
            explained_by=("invalid-api-key", "network-blocked"),
            fix=FixTemplate(
                title="Restart the agent",
                explanation="A fresh agent re-registers and sends a full snapshot; keep the request ids for CAST AI support.",
                commands=RESTART,
                recheck=("agent-disconnected",),
            ),
        ),
        invalid_api_key("agent-disconnected", "agent-crashloop"),
        network_blocked("agent-disconnected"),
        cluster_hibernated("agent-disconnected"),
    ),
)
