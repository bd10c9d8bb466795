"""2. `agent-disconnected`: the console shows the agent as disconnected or not responding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.engine.facts import Facts
from castui.tree.agent_checks import (
    AGENT_LOGS,
    AGENT_PODS,
    NETWORK_POLICIES,
    all_log_lines,
    network_blocked,
)
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
from castui.tree.reading import (
    HEARTBEAT_ERROR,
    has_running_container,
    is_ready,
    json_evidence,
    log_evidence,
    matching,
    parse_time,
    pods_table,
)


async def gather_cluster_status(facts: Facts) -> dict[str, Any]:
    cluster = await facts.cluster()
    return {
        "agentStatus": cluster.agent_status,
        "status": cluster.status,
        "agentSnapshotReceivedAt": cluster.agent_snapshot_received_at.isoformat() if cluster.agent_snapshot_received_at else None,
        "name": cluster.name,
        "id": cluster.id,
    }


async def gather_in_cluster_curl(facts: Facts) -> dict[str, Any]:
    """Active: a throwaway curl pod calls the API from inside the cluster; removed afterwards."""
    from castui.engine.active import in_cluster_api_status

    return {"status": await in_cluster_api_status(facts)}


CHECKS = (
    Check("cluster-status", "Cluster status in the CAST AI API (agentStatus, last snapshot)", gather_cluster_status,
          lambda s: f"agentStatus {s['agentStatus']}, last snapshot {s['agentSnapshotReceivedAt'] or 'never'}"),
    AGENT_PODS,
    AGENT_LOGS,
    NETWORK_POLICIES,
    Check("in-cluster-curl", "Call the API from a temporary pod in the cluster (creates a pod)", gather_in_cluster_curl,
          lambda r: f"HTTP {r['status']}" if r else "skipped", active=True),
)


def observe(obs: Observations) -> Observation:
    status = obs["cluster-status"]
    if status["agentStatus"] == "online":
        return Observation(False, "the API reports the agent online")
    return Observation(True, f"the API reports agentStatus {status['agentStatus']!r} (last snapshot {status['agentSnapshotReceivedAt'] or 'never'})")


def judge_agent_not_running(obs: Observations) -> Judgement:
    pods = obs["agent-pods"]
    if not pods:
        return confirmed("there is no castai-agent pod in the namespace")
    if not any(is_ready(p) for p in pods):
        return confirmed(f"none of the {len(pods)} agent pods is ready", pods_table("agent pods", pods))
    return ruled_out(f"{sum(is_ready(p) for p in pods)} of {len(pods)} agent pods are ready")


def judge_heartbeat_failing(obs: Observations) -> Judgement:
    logs = obs.get("agent-logs")
    if logs:
        lines = all_log_lines(logs)
        hits = matching(lines, HEARTBEAT_ERROR)
        if hits:
            return confirmed(
                f"the agent's heartbeats fail: {lines[hits[-1]].strip()[:160]}",
                log_evidence(f"agent logs ({logs['pod']})", lines, hits),
            )
    pods = obs.get("agent-pods") or []
    running = any(has_running_container(p, "agent") or has_running_container(p) for p in pods)
    status = obs.get("cluster-status")
    if status is None:
        if logs is None:
            return unknown(f"could not read the agent logs nor the cluster status: {obs.failed('cluster-status')}")
        return unknown(f"no heartbeat errors in the logs, but the last snapshot time is unknown: {obs.failed('cluster-status')}")
    received = parse_time(status["agentSnapshotReceivedAt"])
    limit = timedelta(minutes=obs.thresholds.snapshot_age_minutes)
    if running and (received is None or obs.now - received > limit):
        age = "never" if received is None else f"{int((obs.now - received).total_seconds() // 60)} min ago"
        return confirmed(
            f"an agent container is running but the API's last snapshot was {age} (limit {limit.seconds // 60} min)",
            json_evidence("cluster status", status, "agentSnapshotReceivedAt"),
        )
    if not running:
        return ruled_out("no agent container is running, so there is no heartbeat to fail (see agent-not-running)")
    return ruled_out("the last snapshot is recent and the logs show no heartbeat errors")


RESTART = (("kubectl", "rollout", "restart", "deployment/castai-agent", "-n", "{ns}"),)

SYMPTOM = Symptom(
    id="agent-disconnected",
    title='Agent shows "Disconnected" in the console',
    recognise="the console marks the cluster disconnected or not responding; autoscaling stops",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause(
            id="agent-not-running",
            title="No agent pod is running",
            judge=judge_agent_not_running,
            fix=FixTemplate(
                title="Restart the agent (and see agent-crashloop if it keeps failing)",
                explanation="A restart brings the agent back when it was stuck; if it crash-loops, its own causes decide.",
                commands=RESTART,
                recheck=("agent-disconnected", "agent-crashloop"),
            ),
        ),
        Cause(
            id="heartbeat-failing",
            title="The agent runs but its heartbeats do not arrive",
            judge=judge_heartbeat_failing,
            fix=FixTemplate(
                title="Restart the agent",
                explanation="A fresh agent re-registers and sends a full snapshot.",
                commands=RESTART,
                recheck=("agent-disconnected",),
            ),
        ),
        network_blocked("agent-disconnected"),
    ),
)
