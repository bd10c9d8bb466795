"""Checks and judges about the castai-agent that more than one symptom uses."""

from __future__ import annotations

from typing import Any

from castui.engine.facts import AGENT, Facts
from castui.tree.model import Cause, Check, FixTemplate, Judgement, Observations, confirmed, ruled_out, unknown
from castui.tree.reading import (
    AUTH_REJECTED,
    HEALTHY_ACTIVITY,
    NETWORK_ERROR,
    PROVIDER_ERROR,
    as_dict,
    as_dicts,
    container_statuses,
    is_crashlooping,
    is_ready,
    log_evidence,
    log_lines,
    matching,
    name_of,
    restarts,
)


async def gather_agent_pods(facts: Facts) -> list[dict[str, Any]]:
    return await facts.pods_of(AGENT)


async def gather_agent_logs(facts: Facts) -> dict[str, Any]:
    """The last 50 lines of the agent container of the most troubled agent pod, and its previous run."""
    pods = await facts.pods_of(AGENT)
    if not pods:
        return {"pod": None, "current": [], "previous": []}
    pod = max(pods, key=lambda p: (is_crashlooping(p), restarts(p)))
    # a real apiserver refuses a log request without a container on a multi-container pod, and an
    # evicted pod has no container statuses: name the container from the spec as well
    spec_containers = as_dicts(as_dict(pod.get("spec")).get("containers"))
    named_agent = any(s.get("name") == "agent" for s in [*container_statuses(pod), *spec_containers])
    container = "agent" if named_agent else None
    current = log_lines(await facts.logs(name_of(pod), container))
    previous: list[str] = []
    if restarts(pod):
        try:
            previous = log_lines(await facts.logs(name_of(pod), container, previous=True))
        except Exception:  # noqa: BLE001 - previous logs are a bonus; current ones decide
            previous = []
    return {"pod": name_of(pod), "current": current, "previous": previous}


def summarise_pods(pods: list[dict[str, Any]]) -> str:
    if not pods:
        return "no agent pods"
    ready = sum(1 for p in pods if is_ready(p))
    looping = sum(1 for p in pods if is_crashlooping(p))
    return f"{len(pods)} pods, {ready} ready" + (f", {looping} in CrashLoopBackOff" if looping else "")


def summarise_logs(logs: dict[str, Any]) -> str:
    if not logs["pod"]:
        return "no agent pod to read"
    return f"{logs['pod']}: {len(logs['current'])} lines" + (
        f", previous run {len(logs['previous'])} lines" if logs["previous"] else ""
    )


AGENT_PODS = Check("agent-pods", "Agent pods in the namespace", gather_agent_pods, summarise_pods)
AGENT_LOGS = Check("agent-logs", "Agent logs (last 50 lines, previous container too)", gather_agent_logs, summarise_logs)


def all_log_lines(logs: dict[str, Any]) -> list[str]:
    """Previous run first: a crash's reason is usually there."""
    return [*logs["previous"], *logs["current"]]


def network_lines(logs: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Network errors toward the API; those inside `getting provider:` are cloud metadata, not the API."""
    lines = all_log_lines(logs)
    return lines, matching(lines, NETWORK_ERROR, exclude=PROVIDER_ERROR)


def judge_network_blocked(obs: Observations) -> Judgement:
    """Logs show the API unreachable, or a NetworkPolicy denies the agent's egress."""
    logs = obs["agent-logs"]
    lines, hits = network_lines(logs)
    if hits:
        return confirmed(
            f"the agent cannot reach the API: {lines[hits[0]].strip()[:160]}",
            log_evidence(f"agent logs ({logs['pod']})", lines, hits),
        )
    curl = obs.get("in-cluster-curl")
    if curl and curl.get("status") == "000":
        return confirmed("a pod in the cluster got no answer from the API (curl status 000)")
    blocking = obs.get("network-policies")
    if blocking:
        names = ", ".join(p["name"] for p in blocking)
        return confirmed(
            f"NetworkPolicy {names} denies the agent's egress and none allows TCP 443 out of the cluster",
            *(p["evidence"] for p in blocking),
            policy=blocking[0]["name"],
        )
    if obs.failed("network-policies") and not logs["pod"]:
        return unknown(f"no agent logs and could not read NetworkPolicies: {obs.failed('network-policies')}")
    return ruled_out("no network errors in the agent logs and no NetworkPolicy blocks its egress")


def judge_invalid_api_key(obs: Observations) -> Judgement:
    logs = obs["agent-logs"]
    lines = all_log_lines(logs)
    rejected = matching(lines, AUTH_REJECTED)
    if rejected:
        return confirmed(
            f"the API rejects the agent's key: {lines[rejected[-1]].strip()[:160]}",
            log_evidence(f"agent logs ({logs['pod']})", lines, rejected),
        )
    status = obs.get("agent-key")
    if status in (401, 403):
        return confirmed(f"the key in the agent's Secret is rejected by the API ({status})")
    if status == 200:
        return ruled_out("the API accepts the key in the agent's Secret")
    if matching(logs["current"], HEALTHY_ACTIVITY):
        return ruled_out("the agent's recent calls succeed (deltas uploaded)")
    reason = obs.failed("agent-key") or "no key found in the agent's Secret"
    return unknown(f"no rejected calls in the logs, and the agent's key could not be tested: {reason}")


async def gather_agent_key(facts: Facts) -> int | None:
    return await facts.agent_key_status()


AGENT_KEY = Check(
    "agent-key",
    "Test the agent's own API key (one call; the key is never shown)",
    gather_agent_key,
    lambda status: "no key in the agent's Secret" if status is None else f"API answers {status}",
)


async def gather_blocking_network_policies(facts: Facts) -> list[dict[str, Any]]:
    """NetworkPolicies that select the agent pods for Egress when none of them lets TCP 443 out."""
    from castui.tree.reading import json_evidence

    policies, pods = await facts.network_policies(), await facts.pods_of(AGENT)
    labels = (pods[0]["metadata"].get("labels") or {}) if pods else {"app.kubernetes.io/name": AGENT}
    selecting = [p for p in policies if _selects(p, labels) and "Egress" in (p.get("spec", {}).get("policyTypes") or [])]
    if not selecting or any(_allows_https_out(p) for p in selecting):
        return []
    return [
        {"name": name_of(p), "evidence": json_evidence(f"NetworkPolicy {name_of(p)}", p, "spec.egress")}
        for p in selecting
    ]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy.get("spec", {}).get("podSelector") or {}
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items()) and not selector.get("matchExpressions")


def _allows_https_out(policy: dict[str, Any]) -> bool:
    for rule in policy.get("spec", {}).get("egress") or []:
        ports = rule.get("ports") or []
        port_ok = not ports or any(p.get("port") in (443, "443", "https") and p.get("protocol", "TCP") == "TCP" for p in ports)
        peers = rule.get("to") or []
        outside = not peers or any("ipBlock" in peer for peer in peers)
        if port_ok and outside:
            return True
    return False


NETWORK_POLICIES = Check(
    "network-policies",
    "NetworkPolicies that limit the agent's egress",
    gather_blocking_network_policies,
    lambda blocking: f"{len(blocking)} block egress" if blocking else "none block HTTPS egress",
)


def network_blocked(*recheck: str) -> Cause:
    """`network-blocked` belongs to both agent symptoms; one definition, re-checking the symptom it came from."""
    return Cause(
        id="network-blocked",
        title="The agent cannot reach the CAST AI API",
        judge=judge_network_blocked,
        fix=FixTemplate(
            title="Allow outbound HTTPS (443) to the API host",
            explanation=(
                "The agent must reach {api_host} on TCP 443 (and grpc.cast.ai:443). Allow it in the "
                "NetworkPolicy, firewall or proxy that blocks it; castui shows the blocking policy."
            ),
            commands=(("kubectl", "get", "networkpolicy", "-n", "{ns}", "-o", "yaml"),),
            mutates=False,
            recheck=recheck,
        ),
    )
