"""1. `agent-crashloop`: the castai-agent pod restarts over and over (guide v2 §1).

Observed: an agent pod's `agent` container waits in CrashLoopBackOff or terminated within
the past hour; the lifetime restartCount is history, not a symptom.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from castui.tree.agent_checks import (
    AGENT_DEPLOYMENT,
    AGENT_KEY,
    AGENT_LOGS,
    AGENT_PODS,
    AGENT_RELEASE,
    NETWORK_POLICIES,
    first_hit,
    invalid_api_key,
    log_findings_evidence,
    network_blocked,
    release_fix_args,
    replica_findings,
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
    latent,
    ruled_out,
    unknown,
)
from castui.tree.reader import AGENT, Reader
from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    container_statuses,
    json_evidence,
    name_of,
    parse_time,
    pod_line,
    pods_table,
)
from castui.tree.releases import helm_commands, helm_guidance

# --- checks -------------------------------------------------------------------------------------

PROVIDER_BY_PREFIX = {"aws://": "aws", "gce://": "gcp", "azure://": "azure"}
#: providers tied to one cloud; kops, openshift and anywhere run on any (k8s-agent pkg/services/providers/providers.go)
PROVIDER_CLOUD = {"eks": "aws", "selfhostedec2": "aws", "gke": "gcp", "aks": "azure"}
CLOUD_PROVIDER = {"aws": "eks", "gcp": "gke", "azure": "aks"}


async def gather_node_clouds(facts: Reader) -> dict[str, int]:
    """The clouds the nodes run on, from `spec.providerID` prefixes."""
    clouds: dict[str, int] = {}
    for node in await facts.nodes():
        provider_id = as_str(as_dict(node.get("spec")).get("providerID"))
        cloud = next((c for prefix, c in PROVIDER_BY_PREFIX.items() if provider_id.startswith(prefix)), "other")
        clouds[cloud] = clouds.get(cloud, 0) + 1
    return clouds


#: the kinds the agent must sync: `getDefaultInformers` (k8s-agent internal/services/controller/controller.go)
REQUIRED_KINDS = (
    ("", "nodes"), ("", "pods"), ("", "persistentvolumes"), ("", "persistentvolumeclaims"), ("", "replicationcontrollers"),
    ("", "namespaces"), ("", "services"), ("", "events"), ("apps", "deployments"), ("apps", "replicasets"),
    ("apps", "daemonsets"), ("apps", "statefulsets"), ("storage.k8s.io", "storageclasses"), ("batch", "jobs"),
)


async def gather_agent_rbac(facts: Reader) -> dict[str, Any]:
    """What the agent's ServiceAccount may list and watch, from the ClusterRoleBindings and ClusterRoles
    that name it (the question a SubjectAccessReview answers, read from the objects themselves)."""
    bindings, roles = await facts.kube_list("clusterrolebindings"), await facts.kube_list("clusterroles")
    by_name = {name_of(r): r for r in roles}
    rules: list[dict[str, Any]] = []
    bound: list[str] = []
    for binding in bindings:
        subjects = as_dicts(binding.get("subjects"))
        if any(s.get("kind") == "ServiceAccount" and s.get("name") == AGENT and s.get("namespace") == facts.ns for s in subjects):
            role_name = as_str(as_dict(binding.get("roleRef")).get("name"))
            bound.append(role_name)
            rules += as_dicts(as_dict(by_name.get(role_name)).get("rules"))
    denied = [f"{group + '/' if group else ''}{resource}" for group, resource in REQUIRED_KINDS
              if not all(_allows(rules, group, resource, verb) for verb in ("list", "watch"))]
    return {"bound_roles": bound, "denied": denied}


def _allows(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    return any(
        (group in (rule.get("apiGroups") or []) or "*" in (rule.get("apiGroups") or []))
        and (resource in (rule.get("resources") or []) or "*" in (rule.get("resources") or []))
        and (verb in (rule.get("verbs") or []) or "*" in (rule.get("verbs") or []))
        for rule in rules
    )


CHECKS = (
    AGENT_PODS,
    AGENT_LOGS,
    AGENT_DEPLOYMENT,
    AGENT_RELEASE,
    Check("node-clouds", "The cloud the nodes run on (spec.providerID)", gather_node_clouds,
          lambda c: ", ".join(f"{n} {cloud}" for cloud, n in c.items()) or "no nodes"),
    Check("agent-rbac", "What the agent's ServiceAccount may list and watch (ClusterRoleBindings, ClusterRoles)",
          gather_agent_rbac, lambda r: "every required kind allowed" if not r["denied"] else f"denied: {', '.join(r['denied'])}"),
    NETWORK_POLICIES,
    AGENT_KEY,
)

# --- the symptom --------------------------------------------------------------------------------


def looping_pods(obs: Observations) -> list[dict[str, Any]]:
    """Agent containers in CrashLoopBackOff, or terminated within the past hour."""
    hour_ago = obs.now - timedelta(hours=1)
    looping = []
    for pod in obs["agent-pods"]:
        for status in container_statuses(pod):
            if status.get("name") not in ("agent", None) and len(container_statuses(pod)) > 1:
                continue
            waiting = as_dict(as_dict(status.get("state")).get("waiting"))
            ended = parse_time(as_dict(as_dict(status.get("lastState")).get("terminated")).get("finishedAt"))
            if waiting.get("reason") == "CrashLoopBackOff" or (ended is not None and ended >= hour_ago):
                looping.append(pod)
                break
    return looping


def observe(obs: Observations) -> Observation:
    pods = obs["agent-pods"]
    looping = looping_pods(obs)
    if looping:
        return Observation(True, "; ".join(pod_line(p) for p in looping))
    return Observation(False, f"{len(pods)} agent pods, none crash-looping" if pods else "no agent pods at all")


# --- causes -------------------------------------------------------------------------------------

#: k8s-agent pkg/services/providers/providers.go
UNKNOWN_PROVIDER = re.compile(r'getting provider: unknown provider \\?"')
#: IMDS blocked (castai/helm-charts#231; k8s-agent pkg/services/providers/eks/aws/aws.go), GKE/AKS autodiscovery
#: (…/providers/gke/gke.go, …/aks/aks.go), EKS register request (…/eks/aws/aws.go)
CLOUD_METADATA = re.compile(
    r"getting provider: configuring aws client: getting instance region: "
    r"|registering cluster: .*autodiscovering cluster metadata: "
    r"|registering cluster: building register cluster request: "
    r"|[Pp]rovide required \w+ environment variable"
)
ANY_STARTUP_EXIT = re.compile(r"getting provider: ")


def _provider(obs: Observations) -> str | None:
    deployment = obs.get("agent-deployment") or {}
    env_provider = (deployment.get("env") or {}).get("PROVIDER")
    release = obs.get("agent-release") or {}
    value = env_provider or (release.get("values") or {}).get("provider")
    return as_str(value).lower() or None


def _nodes_cloud(obs: Observations) -> str | None:
    clouds = {c for c in obs.get("node-clouds", {}) if c != "other"}
    return clouds.pop() if len(clouds) == 1 and "other" not in obs.get("node-clouds", {}) else None


def judge_wrong_provider(obs: Observations) -> Judgement:
    """Exit line `getting provider: unknown provider` (k8s-agent pkg/services/providers/providers.go), or a
    cloud-bound PROVIDER on another cloud's nodes with a setup exit; kops/openshift/anywhere are never compared."""
    logs = obs["agent-logs"]
    fix_args = release_fix_args(obs)
    unknown_provider = replica_findings(logs, UNKNOWN_PROVIDER)
    cloud = _nodes_cloud(obs)
    if unknown_provider:
        return confirmed(f"the agent does not know its provider: {first_hit(unknown_provider)}",
                         *log_findings_evidence(unknown_provider), provider=CLOUD_PROVIDER.get(cloud or "", "<eks|gke|aks>"),
                         **fix_args)
    provider = _provider(obs)
    if provider is None:
        return unknown("the agent's PROVIDER is not set in its Deployment env nor readable from its Helm release")
    if provider not in PROVIDER_CLOUD:
        return ruled_out(f"provider {provider!r} runs on any cloud, so the nodes' cloud says nothing about it")
    if cloud is None:
        return unknown(f"provider {provider!r}, but the nodes' providerID does not name one known cloud")
    if PROVIDER_CLOUD[provider] == cloud:
        return ruled_out(f"provider {provider!r} matches the nodes' cloud ({cloud})")
    exits = replica_findings(logs, ANY_STARTUP_EXIT)
    if exits:
        return confirmed(f"the agent runs with provider {provider!r} on {cloud} nodes and exits during setup: {first_hit(exits)}",
                         *log_findings_evidence(exits), json_evidence("node clouds", obs["node-clouds"], cloud),
                         provider=CLOUD_PROVIDER[cloud], **fix_args)
    return latent(f"the agent runs with provider {provider!r} while the nodes are on {cloud}, but it does not exit on it",
                  provider=CLOUD_PROVIDER[cloud], **fix_args)


def judge_cloud_metadata(obs: Observations) -> Judgement:
    """Discovery failures (castai-facts-corrections §3.3 item 2; helm-charts#231): the provider is right but
    the cloud's metadata cannot be read."""
    logs = obs["agent-logs"]
    found = replica_findings(logs, CLOUD_METADATA)
    if not found:
        return ruled_out("no replica exits on cloud metadata discovery")
    provider = _provider(obs) or "eks"
    overrides = {
        "gke": "GKE_PROJECT_ID, GKE_CLUSTER_NAME, GKE_REGION, GKE_LOCATION",
        "aks": "AKS_SUBSCRIPTION_ID, AKS_LOCATION, AKS_NODE_RESOURCE_GROUP",
    }.get(provider, "EKS_ACCOUNT_ID, EKS_REGION and EKS_CLUSTER_NAME (all three, or the agent panics)")
    return confirmed(f"the agent cannot discover the cluster from the cloud's metadata: {first_hit(found)}",
                     *log_findings_evidence(found), overrides=overrides, **release_fix_args(obs))


def judge_oomkilled(obs: Observations) -> Judgement:
    """Self-evident: last termination OOMKilled; castai-agent-cpvpa sizes memory by node count
    (castai/helm-charts charts/castai-agent templates/clustervpa-configmap.yaml)."""
    killed = [p for p in obs["agent-pods"] for s in container_statuses(p)
              if as_dict(as_dict(s.get("lastState")).get("terminated")).get("reason") == "OOMKilled"]
    if not killed:
        return ruled_out("no agent container was OOMKilled")
    return confirmed(f"the agent was killed for memory: {', '.join(name_of(p) for p in killed)}",
                     pods_table("OOMKilled agent pods", killed), **release_fix_args(obs))


#: k8s-agent internal/services/controller/controller.go: repeated while a required informer cannot sync
INFORMER_NOT_SYNCED = re.compile(r"Informer cache for .* has not been synced after")


def judge_rbac_missing(obs: Observations) -> Judgement:
    """The agent must list/watch its default informers' kinds (k8s-agent controller.go `getDefaultInformers`);
    `Skipping conditional informer …` concerns optional ones and is never evidence."""
    rbac = obs["agent-rbac"]
    denied = rbac["denied"]
    if not denied:
        return ruled_out("the agent's ServiceAccount may list and watch every kind it must sync")
    evidence = json_evidence("the agent's effective RBAC", rbac, "denied")
    found = replica_findings(obs["agent-logs"], INFORMER_NOT_SYNCED)
    if found:
        return confirmed(f"the agent may not list/watch {', '.join(denied)} and its informers do not sync: {first_hit(found)}",
                         evidence, *log_findings_evidence(found), **release_fix_args(obs))
    return latent(f"the agent's ServiceAccount may not list/watch {', '.join(denied)}: it would not sync them",
                  evidence, **release_fix_args(obs))


SYMPTOM = Symptom(
    id="agent-crashloop",
    title="Agent pod in CrashLoopBackOff",
    label="agent crash",
    abbrev="crash",
    recognise="castai-agent pods keep restarting; `kubectl get pods -n castai-agent` shows CrashLoopBackOff",
    checks=CHECKS,
    observe=observe,
    causes=(
        invalid_api_key("agent-crashloop", "agent-disconnected"),
        Cause(
            id="wrong-provider",
            title="The agent's provider does not match the cloud",
            judge=judge_wrong_provider,
            fix=FixTemplate(
                title="Set the provider that matches the nodes",
                explanation="The agent discovers the cluster through its cloud's API; a provider of another cloud makes it exit.",
                commands=helm_commands(AGENT, provider="{provider}"),
                guidance=helm_guidance(AGENT, provider="{provider}"),
                recheck=("agent-crashloop",),
            ),
        ),
        Cause(
            id="cloud-metadata-unreachable",
            title="The agent cannot read the cloud's metadata",
            judge=judge_cloud_metadata,
            fix=FixTemplate(
                title="Give the agent the cluster's identity through additionalEnv",
                explanation=(
                    "When the instance metadata service is blocked, the agent needs the cluster's identity as "
                    "environment variables: {overrides}. Set them through the release's `additionalEnv` "
                    "(charts/castai-agent templates/deployment.yaml) with the values of the cluster in the console."
                ),
                mutates=True,
                recheck=("agent-crashloop",),
                note="castui shows no command: the values come from your cloud account; set them in the release's additionalEnv.",
            ),
        ),
        Cause(
            id="agent-oomkilled",
            title="The agent is killed for memory (OOMKilled)",
            judge=judge_oomkilled,
            fix=FixTemplate(
                title="Let cpvpa size the agent, or raise its memory",
                explanation=(
                    "castai-agent-cpvpa sizes the agent's memory by node count; make sure it runs, or raise "
                    "clusterVPA.configOverride (or `resources` without clusterVPA) in the agent's release."
                ),
                commands=(("kubectl", "get", "deployment", "castai-agent-cpvpa", "-n", "{ns}"),),
                mutates=False,
                recheck=("agent-crashloop",),
            ),
        ),
        Cause(
            id="rbac-missing",
            title="The agent may not read what it must sync",
            judge=judge_rbac_missing,
            fix=FixTemplate(
                title="Re-render the chart's RBAC with a pinned upgrade",
                explanation=(
                    "A pinned upgrade of the agent's release re-creates the chart's ClusterRole and binding "
                    "(charts/castai-agent templates/rbac.yaml). castui never applies a ClusterRole of its own."
                ),
                commands=helm_commands(AGENT),
                guidance=helm_guidance(AGENT),
                recheck=("agent-crashloop",),
            ),
        ),
        network_blocked("agent-crashloop", "agent-disconnected"),
    ),
)
