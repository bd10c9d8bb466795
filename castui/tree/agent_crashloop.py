"""1. `agent-crashloop`: the castai-agent pod restarts over and over."""

from __future__ import annotations

from typing import Any

from castui.engine.facts import AGENT, Facts
from castui.tree.agent_checks import (
    AGENT_KEY,
    AGENT_LOGS,
    AGENT_PODS,
    NETWORK_POLICIES,
    all_log_lines,
    judge_invalid_api_key,
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
    FORBIDDEN,
    PROVIDER_ERROR,
    container_env,
    is_crashlooping,
    log_evidence,
    matching,
    pod_line,
    restarts,
)

# --- checks -------------------------------------------------------------------------------------

PROVIDER_BY_PREFIX = {"aws://": "eks", "gce://": "gke", "azure://": "aks"}


async def gather_agent_provider(facts: Facts) -> dict[str, Any]:
    """PROVIDER from the Deployment's env, else the Helm release's `provider` value."""
    deployment = await facts.deployment(AGENT)
    env = container_env(deployment, "agent") if deployment else {}
    if env.get("PROVIDER"):
        return {"provider": env["PROVIDER"].lower(), "source": "Deployment env PROVIDER", "release": await _agent_release(facts)}
    release = await _agent_release(facts)
    return {"provider": None, "source": None, "release": release}


async def _agent_release(facts: Facts) -> dict[str, Any] | None:
    try:
        releases = await facts.helm_releases()
    except Exception:  # noqa: BLE001 - the release only names the fix; the env var decides
        return None
    for release in releases:
        if release.chart == AGENT:
            return {"name": release.name, "provider": (release.values or {}).get("provider")}
    return None


async def gather_node_clouds(facts: Facts) -> dict[str, int]:
    """The clouds the nodes run on, from `spec.providerID` prefixes."""
    clouds: dict[str, int] = {}
    for node in await facts.nodes():
        provider_id = node.get("spec", {}).get("providerID") or ""
        cloud = next((c for prefix, c in PROVIDER_BY_PREFIX.items() if provider_id.startswith(prefix)), "other")
        clouds[cloud] = clouds.get(cloud, 0) + 1
    return clouds


async def gather_agent_rbac(facts: Facts) -> dict[str, bool]:
    role = await facts.kube_get("clusterroles", None, AGENT)
    binding = await facts.kube_get("clusterrolebindings", None, AGENT)
    return {"clusterrole": role is not None, "clusterrolebinding": binding is not None}


CHECKS = (
    AGENT_PODS,
    AGENT_LOGS,
    Check("agent-provider", "The agent's PROVIDER (Deployment env, Helm value)", gather_agent_provider,
          lambda p: f"provider {p['provider'] or (p['release'] or {}).get('provider') or 'unset'}"),
    Check("node-clouds", "The cloud the nodes run on (spec.providerID)", gather_node_clouds,
          lambda c: ", ".join(f"{n} {cloud}" for cloud, n in c.items()) or "no nodes"),
    Check("agent-rbac", "The agent's ClusterRole and ClusterRoleBinding", gather_agent_rbac,
          lambda r: "both present" if all(r.values()) else "missing: " + ", ".join(k for k, v in r.items() if not v)),
    NETWORK_POLICIES,
    AGENT_KEY,
)

# --- the symptom --------------------------------------------------------------------------------


def observe(obs: Observations) -> Observation:
    pods = obs["agent-pods"]
    looping = [p for p in pods if is_crashlooping(p) or restarts(p) >= 3 and not p.get("status", {}).get("phase") == "Succeeded"]
    if looping:
        return Observation(True, "; ".join(pod_line(p) for p in looping))
    return Observation(False, f"{len(pods)} agent pods, none crash-looping" if pods else "no agent pods at all")


# --- causes -------------------------------------------------------------------------------------


def judge_wrong_provider(obs: Observations) -> Judgement:
    logs = obs.get("agent-logs")
    if logs:
        lines = all_log_lines(logs)
        hits = matching(lines, PROVIDER_ERROR)
        if hits:
            return confirmed(
                f"the agent cannot set up its provider: {lines[hits[-1]].strip()[:160]}",
                log_evidence(f"agent logs ({logs['pod']})", lines, hits),
                provider=_expected_provider(obs) or "<eks|gke|aks>",
                release=_release_name(obs),
            )
    info = obs["agent-provider"]
    provider = info["provider"] or (info["release"] or {}).get("provider")
    expected = _expected_provider(obs)
    if provider is None:
        return unknown("the agent's provider is not set in its Deployment env nor readable from its Helm release")
    if expected is None:
        return ruled_out(f"provider {provider!r}; the nodes' cloud cannot be told from their providerID") if provider in ("kops", "anywhere", "openshift") \
            else unknown(f"provider {provider!r}, but the nodes' providerID does not name a known cloud")
    if provider != expected:
        return confirmed(
            f"the agent runs with provider {provider!r} but the nodes are on {expected} (spec.providerID)",
            provider=expected,
            release=_release_name(obs),
        )
    return ruled_out(f"provider {provider!r} matches the nodes' cloud")


def _expected_provider(obs: Observations) -> str | None:
    clouds = {c for c in obs.get("node-clouds", {}) if c != "other"}
    return clouds.pop() if len(clouds) == 1 else None


def _release_name(obs: Observations) -> str:
    release = (obs.get("agent-provider") or {}).get("release") or {}
    return release.get("name") or AGENT


def judge_rbac_missing(obs: Observations) -> Judgement:
    rbac = obs["agent-rbac"]
    missing = [kind for kind, present in rbac.items() if not present]
    if missing:
        return confirmed(f"the agent's {' and '.join(missing)} castai-agent {'is' if len(missing) == 1 else 'are'} absent")
    logs = obs.get("agent-logs")
    if logs:
        lines = all_log_lines(logs)
        hits = matching(lines, FORBIDDEN)
        if hits:
            return confirmed(
                f"the agent is refused by the Kubernetes API: {lines[hits[0]].strip()[:160]}",
                log_evidence(f"agent logs ({logs['pod']})", lines, hits),
            )
    return ruled_out("ClusterRole and ClusterRoleBinding castai-agent exist and the logs show no forbidden calls")


def judge_invalid_key_in_crashloop(obs: Observations) -> Judgement:
    judgement = judge_invalid_api_key(obs)
    return Judgement(judgement.verdict, judgement.reason, judgement.evidence, {"release": _release_name(obs), **judgement.fix_args})


AGENT_RBAC_MANIFEST = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: castai-agent
rules:
  - apiGroups: [""]
    resources: [pods, nodes, replicationcontrollers, persistentvolumeclaims, persistentvolumes, services, namespaces, events, limitranges, resourcequotas]
    verbs: [get, list, watch]
  - apiGroups: [apps]
    resources: [deployments, replicasets, daemonsets, statefulsets]
    verbs: [get, list, watch]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses, csinodes]
    verbs: [get, list, watch]
  - apiGroups: [batch]
    resources: [jobs, cronjobs]
    verbs: [get, list, watch]
  - apiGroups: [autoscaling]
    resources: [horizontalpodautoscalers]
    verbs: [get, list, watch]
  - apiGroups: [policy]
    resources: [poddisruptionbudgets]
    verbs: [get, list, watch]
  - apiGroups: [autoscaling.cast.ai]
    resources: ["*"]
    verbs: [get, list, watch]
  - apiGroups: [metrics.k8s.io]
    resources: [pods]
    verbs: [get, list]
  - nonResourceURLs: [/version]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: castai-agent
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: castai-agent
subjects:
  - kind: ServiceAccount
    name: castai-agent
    namespace: {ns}
"""

SYMPTOM = Symptom(
    id="agent-crashloop",
    title="Agent pod in CrashLoopBackOff",
    recognise="castai-agent pods keep restarting; `kubectl get pods -n castai-agent` shows CrashLoopBackOff",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause(
            id="invalid-api-key",
            title="The agent's API key is rejected",
            judge=judge_invalid_key_in_crashloop,
            fix=FixTemplate(
                title="Regenerate the key and update the agent's release",
                explanation=(
                    "Create a new key in the console (console.cast.ai → API → API Access Keys), export it as "
                    "CASTAI_API_KEY, then update the release with it. The agent exits when registration is "
                    "refused, which is why it crash-loops."
                ),
                commands=(
                    ("helm", "upgrade", "{release}", "castai-helm/castai-agent", "-n", "{ns}", "--reuse-values",
                     "--set", "apiKey=${CASTAI_API_KEY}"),
                ),
                recheck=("agent-crashloop", "agent-disconnected"),
            ),
        ),
        Cause(
            id="wrong-provider",
            title="The agent's provider does not match the cloud",
            judge=judge_wrong_provider,
            fix=FixTemplate(
                title="Set the provider that matches the nodes",
                explanation="The agent discovers the cluster through its cloud's API; the wrong provider makes it exit.",
                commands=(
                    ("helm", "upgrade", "{release}", "castai-helm/castai-agent", "-n", "{ns}", "--reuse-values",
                     "--set", "provider={provider}"),
                ),
                recheck=("agent-crashloop",),
            ),
        ),
        Cause(
            id="rbac-missing",
            title="The agent's RBAC is missing",
            judge=judge_rbac_missing,
            fix=FixTemplate(
                title="Re-apply the agent's ClusterRole and ClusterRoleBinding",
                explanation="The agent lists cluster objects with these permissions; without them it cannot build its snapshot.",
                commands=(("kubectl", "apply", "-f", "-"),),
                stdin=AGENT_RBAC_MANIFEST,
                recheck=("agent-crashloop",),
            ),
        ),
        network_blocked("agent-crashloop", "agent-disconnected"),
    ),
)
