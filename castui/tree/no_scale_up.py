"""4. `no-scale-up`: pods stay Pending and no node is added."""

from __future__ import annotations

from typing import Any

from castui.clients.errors import CastuiError
from castui.engine.facts import Facts
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
)
from castui.tree.reading import (
    Evidence,
    dig,
    event_rows,
    json_evidence,
    namespaced_name,
    pod_cpu_request,
    quantity_cores,
)


async def gather_pending(facts: Facts) -> dict[str, Any]:
    """Pending pods, with their FailedScheduling events when castui may read them (they only add context)."""
    pods = await facts.pending_pods()
    events, events_error = [], None
    if pods:
        try:
            events = await facts.events(reason="FailedScheduling")
        except CastuiError as error:
            events_error = str(error)
    names = {namespaced_name(p) for p in pods}
    related = [e for e in events if f"{e.get('involvedObject', {}).get('namespace')}/{e.get('involvedObject', {}).get('name')}" in names]
    return {"pods": pods, "events": related, "events_error": events_error}


def summarise_pending(result: dict[str, Any]) -> str:
    note = f" (FailedScheduling events could not be read: {result['events_error']})" if result.get("events_error") else ""
    return f"{len(result['pods'])} pending pods{note}"


async def gather_policies(facts: Facts) -> dict[str, Any]:
    return (await facts.policies_with_raw())[1]


async def gather_cluster_cpu(facts: Facts) -> float:
    return sum(quantity_cores((n.get("status") or {}).get("capacity", {}).get("cpu")) for n in await facts.nodes())


async def gather_templates(facts: Facts) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in await facts.node_templates()]


POLICIES = Check("policies", "Autoscaler policies from the API", gather_policies,
                 lambda p: "policies " + ("enabled" if p.get("enabled") else "disabled"))

CHECKS = (
    Check("pending-pods", "Pending pods with no node, and their FailedScheduling events", gather_pending, summarise_pending),
    POLICIES,
    Check("cluster-cpu", "CPU the nodes already have", gather_cluster_cpu, lambda cores: f"{cores:g} cores"),
    Check("node-templates", "Node templates from the API", gather_templates,
          lambda ts: f"{sum(1 for t in ts if t.get('isEnabled', True))} enabled of {len(ts)}"),
)


def observe(obs: Observations) -> Observation:
    pods = obs["pending-pods"]["pods"]
    if pods:
        return Observation(True, f"{len(pods)} {'pod is' if len(pods) == 1 else 'pods are'} Pending with no node: " + ", ".join(namespaced_name(p) for p in pods[:5]))
    return Observation(False, "no pod is Pending")


def pending_evidence(obs: Observations) -> Evidence:
    return Evidence(kind="events", title="FailedScheduling events", data=event_rows(obs["pending-pods"]["events"]))


def judge_unschedulable_disabled(obs: Observations) -> Judgement:
    policies = obs["policies"]
    if dig(policies, "unschedulablePods.enabled") is False:
        return confirmed("the unschedulable pods policy is off: CAST AI adds no node for Pending pods",
                         json_evidence("policies", policies, "unschedulablePods.enabled"))
    return ruled_out("the unschedulable pods policy is on")


def judge_cpu_limit(obs: Observations) -> Judgement:
    pods = obs["pending-pods"]["pods"]
    if not pods:
        return ruled_out("no pod is waiting for capacity")
    policies = obs["policies"]
    if not dig(policies, "clusterLimits.enabled"):
        return ruled_out("cluster limits are not enabled")
    max_cores = dig(policies, "clusterLimits.cpu.maxCores")
    if not max_cores:
        return ruled_out("cluster limits set no maximum CPU")
    current = obs["cluster-cpu"]
    wanted = sum(pod_cpu_request(p) for p in pods)
    if current + wanted > max_cores:
        return confirmed(
            f"the nodes have {current:g} cores and the Pending pods request {wanted:g} more; the limit is {max_cores}",
            json_evidence("policies", policies, "clusterLimits.cpu.maxCores"),
            max_cores=int(current + wanted + 0.999),
        )
    return ruled_out(f"{current:g} + {wanted:g} requested cores stay within the {max_cores}-core limit")


def judge_no_template(obs: Observations) -> Judgement:
    pods = obs["pending-pods"]["pods"]
    if not pods:
        return ruled_out("no pod is waiting for a node")
    templates = [t for t in obs["node-templates"] if t.get("isEnabled", True)]
    for pod in pods:
        reasons = [why for t in templates if (why := template_mismatch(t, pod))]
        if len(reasons) == len(templates):
            detail = "; ".join(reasons) if reasons else "no node template is enabled"
            return confirmed(
                f"no enabled node template fits pod {namespaced_name(pod)}: {detail}",
                json_evidence(f"pod {namespaced_name(pod)} scheduling constraints", _constraints(pod), "nodeSelector"),
                pod_name=pod["metadata"]["name"],
                pod_namespace=pod["metadata"].get("namespace", "default"),
            )
    return ruled_out("every Pending pod fits at least one enabled node template")


def _constraints(pod: dict[str, Any]) -> dict[str, Any]:
    spec = pod.get("spec", {})
    return {k: spec[k] for k in ("nodeSelector", "affinity", "tolerations") if k in spec} | {"cpuRequest": pod_cpu_request(pod)}


def template_mismatch(template: dict[str, Any], pod: dict[str, Any]) -> str | None:
    """Why `template` cannot host `pod`, or None when it can."""
    name = template.get("name", "?")
    constraints = template.get("constraints") or {}
    labels = {**(template.get("customLabels") or {}), "scheduling.cast.ai/node-template": name}
    spec = pod.get("spec", {})
    for key, value in (spec.get("nodeSelector") or {}).items():
        if key == "scheduling.cast.ai/spot":
            if value == "true" and not constraints.get("spot"):
                return f"{name}: the pod wants spot nodes and the template allows none"
        elif key == "kubernetes.io/arch":
            arches = constraints.get("architectures") or ["amd64"]
            if value not in arches:
                return f"{name}: the pod wants {value} and the template offers {', '.join(arches)}"
        elif key.startswith(("kubernetes.io/", "topology.kubernetes.io/", "node.kubernetes.io/")):
            continue  # well-known labels every CAST AI node carries
        elif labels.get(key) != value:
            return f"{name}: the pod selects {key}={value}, which the template's nodes do not carry"
    tolerated = {t.get("key") for t in spec.get("tolerations") or []}
    for taint in template.get("customTaints") or []:
        if taint.get("key") not in tolerated and taint.get("effect", "NoSchedule") != "PreferNoSchedule":
            return f"{name}: the pod does not tolerate the template's taint {taint.get('key')}"
    max_cpu = constraints.get("maxCpu")
    if max_cpu and pod_cpu_request(pod) > max_cpu:
        return f"{name}: the pod requests {pod_cpu_request(pod):g} CPU and the template's nodes have at most {max_cpu}"
    return None


SYMPTOM = Symptom(
    id="no-scale-up",
    title="Nodes not scaling up (pods stay Pending)",
    recognise="pods sit in Pending with FailedScheduling events and no new node appears",
    checks=CHECKS,
    observe=observe,
    observe_needs=("pending-pods",),
    causes=(
        Cause(
            "unschedulable-pods-disabled", "The unschedulable pods policy is off", ("policies",),
            judge_unschedulable_disabled,
            FixTemplate(
                title="Enable the unschedulable pods policy",
                explanation="With this policy on, CAST AI adds nodes for pods that cannot be scheduled.",
                policies_patch={"unschedulablePods": {"enabled": True}},
                recheck=("no-scale-up",),
            ),
        ),
        Cause(
            "cluster-cpu-limit-reached", "The cluster CPU limit is reached", ("pending-pods", "policies", "cluster-cpu"),
            judge_cpu_limit,
            FixTemplate(
                title="Raise the cluster's CPU limit",
                explanation="CAST AI adds no node that would take the cluster past clusterLimits.cpu.maxCores.",
                policies_patch=lambda args: {"clusterLimits": {"cpu": {"maxCores": args["max_cores"]}}},
                recheck=("no-scale-up",),
            ),
        ),
        Cause(
            "no-matching-node-template", "No node template fits the Pending pods", ("pending-pods", "node-templates"),
            judge_no_template,
            FixTemplate(
                title="Adjust the node template or the pod's constraints",
                explanation=(
                    "Either relax the pod's nodeSelector/affinity/tolerations, or give a node template the labels, "
                    "taints, architecture or size the pod asks for (console → Autoscaler → Node templates)."
                ),
                commands=(("kubectl", "get", "pod", "{pod_name}", "-n", "{pod_namespace}", "-o", "jsonpath={.spec.nodeSelector}"),),
                mutates=False,
                recheck=("no-scale-up",),
            ),
        ),
    ),
)
