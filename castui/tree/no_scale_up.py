"""4. `no-scale-up`: pods stay Pending and no node is added (guide v2 §4).

Observed: pods Pending with no node and `PodScheduled=False` reason `Unschedulable` for
≥ 15 min (CAST AI's alert threshold: docs.cast.ai `risks-detection`); younger ones are
shown as in progress. The pod-level causes judge those pods, and name them.
"""

from __future__ import annotations

import math
from typing import Any

from castui.clients.errors import CastuiError
from castui.diagnosis import Evidence
from castui.tree.cluster_checks import (
    CLUSTER_STATUS,
    POLICIES,
    autoscaler_disabled,
    cluster_hibernated,
    cluster_status_warning,
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
from castui.tree.reader import Reader
from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    event_rows,
    json_evidence,
    name_of,
    namespaced_name,
    quantity_cores,
)
from castui.tree.scheduling import (
    SCOPED_TAINT,
    SPOT_LABEL,
    TEMPLATE_LABEL,
    count,
    cpu_request,
    is_unschedulable,
    memory_request_mib,
    other_requirements,
    pod_names,
    requirement_text,
    selected_values,
    selects_spot,
    split_by_age,
    tolerates,
    waited,
)

# --- checks -------------------------------------------------------------------------------------


async def gather_pending(facts: Reader) -> dict[str, Any]:
    """Unschedulable pods, with their FailedScheduling events when castui may read them (context only)."""
    pods = [p for p in await facts.pending_pods() if is_unschedulable(p)]
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
    return f"{count(len(result['pods']), 'unschedulable pod')}{note}"


async def gather_node_cpu(facts: Reader) -> list[dict[str, Any]]:
    """Each node's `status.capacity.cpu` as the API gave it (None when absent)."""
    return [{"node": name_of(n), "cpu": as_dict(as_dict(n.get("status")).get("capacity")).get("cpu")} for n in await facts.nodes()]


def summarise_node_cpu(nodes: list[dict[str, Any]]) -> str:
    return f"{len(nodes)} nodes, {sum(quantity_cores(n['cpu']) for n in nodes):g} cores"


async def gather_templates(facts: Reader) -> list[dict[str, Any]]:
    """Node templates, default included (`includeDefault=true`); absent fields stay absent."""
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in await facts.node_templates()]


PENDING_PODS = Check("pending-pods", "Unschedulable Pending pods, and their FailedScheduling events", gather_pending, summarise_pending)
NODE_CPU = Check("cluster-cpu", "CPU capacity of the nodes", gather_node_cpu, summarise_node_cpu)
NODE_TEMPLATES = Check("node-templates", "Node templates from the API (default included)", gather_templates,
                       lambda ts: f"{sum(1 for t in ts if t.get('isEnabled') is True)} enabled of {len(ts)}")

CHECKS = (PENDING_PODS, CLUSTER_STATUS, POLICIES, NODE_CPU, NODE_TEMPLATES)


# --- the observation ------------------------------------------------------------------------------


def stuck_and_young(obs: Observations) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return split_by_age(obs["pending-pods"]["pods"], obs.now)


def observe(obs: Observations) -> Observation:
    stuck, young = stuck_and_young(obs)
    progress = (f"{count(len(young), 'pod')} Pending for less than 15 min, in progress (nodes come in 60–120 s): {pod_names(young)}"
                if young else "")
    if stuck:
        text = f"{count(len(stuck), 'pod')} Pending with no node for 15 min or more: {pod_names(stuck)}"
        return Observation(True, text + (f"; {progress}" if progress else ""))
    return Observation(False, progress or "no pod is Pending unschedulable")


def judged_pods(obs: Observations) -> list[dict[str, Any]]:
    """The observed pods; when none is stuck yet, the young ones (a `confirmed` becomes latent)."""
    stuck, young = stuck_and_young(obs)
    return stuck or young


def table(title: str, header: list[str], rows: list[list[str]]) -> Evidence:
    return Evidence(kind="table", title=title, data=[header, *rows], lines=["  ".join(r) for r in rows])


def pending_evidence(obs: Observations, pods: list[dict[str, Any]]) -> list[Evidence]:
    rows = [[namespaced_name(p), waited(p, obs.now), f"{cpu_request(p):g}"] for p in pods]
    found = [table("Pending pods", ["POD", "PENDING FOR", "CPU REQUEST"], rows)]
    names = {namespaced_name(p) for p in pods}
    events = [e for e in obs["pending-pods"]["events"]
              if f"{as_dict(e.get('involvedObject')).get('namespace')}/{as_dict(e.get('involvedObject')).get('name')}" in names]
    if events:
        found.append(Evidence(kind="events", title="FailedScheduling events", data=event_rows(events)))
    return found


# --- judges ---------------------------------------------------------------------------------------


def judge_unschedulable_disabled(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go PoliciesV1UnschedulablePodsPolicy.Enabled;
    # it gates node additions: docs.cast.ai nodetemplates-nodeconfiguration-and-labels
    policies = as_dict(obs["policies"])
    enabled = as_dict(policies.get("unschedulablePods")).get("enabled")
    if enabled is False:
        return confirmed("the unschedulable pods policy is off: CAST AI adds no node for Pending pods",
                         json_evidence("policies", policies, "unschedulablePods.enabled"))
    if enabled is True:
        return ruled_out("the unschedulable pods policy is on")
    return unknown("the policies have no `unschedulablePods.enabled`")


def judge_cpu_limit(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go PoliciesV1ClusterLimitsPolicy (cpu.maxCores);
    # docs.cast.ai autoscaler-settings: "will not … scale up above the maximum CPU limit, even if there are pending Pods"
    pods = judged_pods(obs)
    if not pods:
        return ruled_out("no pod is waiting for a node")
    policies = as_dict(obs["policies"])
    limits = as_dict(policies.get("clusterLimits"))
    if limits.get("enabled") is False:
        return ruled_out("cluster limits are off")
    if limits.get("enabled") is not True:
        return unknown("the policies have no `clusterLimits.enabled`")
    max_cores = as_dict(limits.get("cpu")).get("maxCores")
    if not isinstance(max_cores, (int, float)) or isinstance(max_cores, bool):
        return unknown("cluster limits are on but the policies have no `clusterLimits.cpu.maxCores`")
    nodes = obs["cluster-cpu"]
    missing = [n["node"] for n in nodes if n.get("cpu") in (None, "")]
    if missing:
        return unknown(f"nodes without status.capacity.cpu: {', '.join(missing[:5])}")
    capacity = sum(quantity_cores(n["cpu"]) for n in nodes)
    wanted = sum(cpu_request(p) for p in pods)
    if capacity + wanted <= max_cores:
        return ruled_out(f"the nodes' {capacity:g} cores + the Pending pods' {wanted:g} stay within the {max_cores:g}-core limit")
    return confirmed(
        f"the nodes have {capacity:g} cores and the Pending pods ({pod_names(pods)}) request {wanted:g} more: "
        f"{capacity + wanted:g} exceeds clusterLimits.cpu.maxCores {max_cores:g}",
        json_evidence("policies", policies, "clusterLimits.cpu.maxCores"),
        table("Node CPU capacity", ["NODE", "CPU"], [[as_str(n["node"]), as_str(n["cpu"])] for n in nodes]),
        *pending_evidence(obs, pods),
        max_cores=math.ceil(capacity + wanted),
    )


def judge_scoped_mode(obs: Observations) -> Judgement:
    # docs.cast.ai autoscaler-settings (Scoped mode): "Only Pods that tolerate the
    # scheduling.cast.ai/scoped-autoscaler taint will cause the autoscaler to add new nodes"
    pods = judged_pods(obs)
    if not pods:
        return ruled_out("no pod is waiting for a node")
    policies = as_dict(obs["policies"])
    scoped = policies.get("isScopedMode")
    if scoped is False:
        return ruled_out("the autoscaler is not in scoped mode")
    if scoped is not True:
        return unknown("the policies have no `isScopedMode`")
    # the docs' own example tolerates it with `value: NoSchedule`: any value of the key counts
    excluded = [p for p in pods if not tolerates(p, SCOPED_TAINT, value=None)]
    if not excluded:
        return ruled_out(f"scoped mode is on and every Pending pod tolerates {SCOPED_TAINT}")
    first = excluded[0]
    return confirmed(
        f"scoped mode is on and {pod_names(excluded)} do not tolerate {SCOPED_TAINT}: the autoscaler adds no node for them",
        json_evidence("policies", policies, "isScopedMode"),
        table("Pending pods without the scoped-autoscaler toleration", ["POD", "PENDING FOR", "TOLERATIONS"],
              [[namespaced_name(p), waited(p, obs.now),
                ", ".join(as_str(t.get("key"), "*") for t in as_dicts(as_dict(p.get("spec")).get("tolerations"))) or "none"]
               for p in excluded]),
        pod_name=name_of(first), pod_namespace=as_str(as_dict(first.get("metadata")).get("namespace"), "default"),
        owner=_owner(first),
    )


def _owner(pod: dict[str, Any]) -> str:
    """Where the pod template lives: a Deployment's ReplicaSet is `<deployment>-<pod-template-hash>`."""
    meta = as_dict(pod.get("metadata"))
    owners = as_dicts(meta.get("ownerReferences"))
    if not owners:
        return f"pod/{name_of(pod)}"
    kind, name = as_str(owners[0].get("kind")), as_str(owners[0].get("name"))
    template_hash = as_str(as_dict(meta.get("labels")).get("pod-template-hash"))
    if kind == "ReplicaSet" and template_hash and name.endswith("-" + template_hash):
        return f"deployment/{name[: -len(template_hash) - 1]}"
    return f"{kind.lower()}/{name}"


# --- node templates (guide v2 §4 no-matching-node-template) ---------------------------------------

#: selector keys the template rules below decide; any other is compared and shown, never judged
TEMPLATE_KEYS = {TEMPLATE_LABEL, SPOT_LABEL}


def template_fit(template: dict[str, Any], pod: dict[str, Any]) -> tuple[str, str]:
    """("fits" | "no" | "unknown", why) for one enabled template and one pod."""
    name = as_str(template.get("name"), "?")
    constraints = as_dict(template.get("constraints"))
    # castai/terraform-provider-castai@58fea27 docs/resources/node_template.md (should_taint, custom_taints);
    # castai/helm-charts@daa4628 charts/castai-hosted-model/templates/placement-job.yaml
    should_taint = template.get("shouldTaint")
    if should_taint is None:
        return "unknown", f"template {name} does not say whether it taints its nodes (shouldTaint)"
    if should_taint:
        taints = [t for t in as_dicts(template.get("customTaints")) if (t.get("effect") or "NoSchedule") != "PreferNoSchedule"]
        if taints:
            untolerated = [t for t in taints if not tolerates(pod, as_str(t.get("key")), as_str(t.get("value")),
                                                               as_str(t.get("effect"), "NoSchedule"))]
            if untolerated:
                t = untolerated[0]
                return "no", (f"template {name} taints its nodes {as_str(t.get('key'))}={as_str(t.get('value'))}:"
                              f"{as_str(t.get('effect'), 'NoSchedule')} and the pod does not tolerate it")
        elif not tolerates(pod, TEMPLATE_LABEL, name):
            return "no", f"template {name} taints its nodes {TEMPLATE_LABEL}={name}:NoSchedule and the pod does not tolerate it"
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go NodetemplatesV1TemplateConstraints.Spot/OnDemand
    if selects_spot(pod):
        spot, on_demand = constraints.get("spot"), constraints.get("onDemand")
        if spot is False:
            return "no", f"the pod selects {SPOT_LABEL}=true and template {name} offers no spot nodes"
        if spot is True and on_demand is True and not tolerates(pod, SPOT_LABEL, value=None):
            return "no", (f"the pod selects {SPOT_LABEL}=true on template {name}, which mixes spot and on-demand, "
                          f"without tolerating {SPOT_LABEL}")
        if spot is None:
            return "unknown", f"template {name} does not say whether it offers spot nodes"
    cpu, memory = cpu_request(pod), memory_request_mib(pod)
    max_cpu, max_memory = constraints.get("maxCpu"), constraints.get("maxMemory")
    if isinstance(max_cpu, (int, float)) and max_cpu and cpu > max_cpu:
        return "no", f"the pod requests {cpu:g} CPU and template {name}'s nodes have at most {max_cpu}"
    if isinstance(max_memory, (int, float)) and max_memory and memory > max_memory:
        return "no", f"the pod requests {memory:g} MiB and template {name}'s nodes have at most {max_memory} MiB"
    offered = _offered(constraints)
    others = [r for r in other_requirements(pod, TEMPLATE_KEYS)
              if not (r[1] == "In" and set(r[2]) & set(offered.get(r[0], ())))]
    if others:
        labels = as_dict(template.get("customLabels"))
        return "unknown", (f"the pod also requires {'; '.join(requirement_text(r) for r in others)}; template {name} has labels "
                           f"{', '.join(f'{k}={v}' for k, v in labels.items()) or 'none'} and constraints castui does not compare")
    return "fits", f"template {name} can host it"


def _offered(constraints: dict[str, Any]) -> dict[str, list[str]]:
    """The node labels a template's constraints guarantee, with the provider's defaults
    (castai/terraform-provider-castai@58fea27 castai/resource_node_template.go: amd64, linux)."""
    architectures = [as_str(a) for a in constraints.get("architectures") or ["amd64"]]
    systems = [as_str(o) for o in constraints.get("os") or ["linux"]]
    return {"kubernetes.io/arch": architectures, "kubernetes.io/os": systems}


def pod_template_fit(pod: dict[str, Any], templates: list[dict[str, Any]]) -> tuple[str, str, str | None]:
    """("fits" | "no" | "unknown", why, the template to name) for one pod against every template."""
    by_name = {as_str(t.get("name")): t for t in templates}
    enabled = [t for t in templates if t.get("isEnabled") is True]
    undecided = [as_str(t.get("name")) for t in templates if not isinstance(t.get("isEnabled"), bool)]
    selected = selected_values(pod, TEMPLATE_LABEL)
    if selected is not None:
        missing = [n for n in sorted(selected) if n not in by_name]
        disabled = [n for n in sorted(selected) if by_name.get(n, {}).get("isEnabled") is False]
        candidates = [by_name[n] for n in sorted(selected) if by_name.get(n, {}).get("isEnabled") is True]
        if not candidates:
            if any(by_name.get(n, {}).get("isEnabled") is None and n in by_name for n in selected):
                return "unknown", f"template {', '.join(sorted(selected))} does not say whether it is enabled", None
            why = (f"it selects {TEMPLATE_LABEL}={missing[0]}, and no such template exists" if missing
                   else f"it selects {TEMPLATE_LABEL}={disabled[0]}, and that template is disabled")
            return "no", why, (missing or disabled)[0]
    else:
        if not enabled:
            if undecided:
                return "unknown", f"templates {', '.join(undecided)} do not say whether they are enabled", None
            return "no", "no node template is enabled (one must be: docs.cast.ai node-templates)", None
        candidates = enabled
    results = [(t, *template_fit(t, pod)) for t in candidates]
    if any(state == "fits" for _, state, _ in results):
        return "fits", "", None
    unsure = [(t, why) for t, state, why in results if state == "unknown"]
    if unsure:
        return "unknown", unsure[0][1], as_str(unsure[0][0].get("name"))
    template, _, why = results[0]
    return "no", "; ".join(why for _, _, why in results), as_str(template.get("name"))


def judge_no_template(obs: Observations) -> Judgement:
    # docs.cast.ai node-templates ("at least one … must be enabled"); rules per pod in template_fit
    pods = judged_pods(obs)
    if not pods:
        return ruled_out("no pod is waiting for a node")
    templates = as_dicts(obs["node-templates"])
    fits = [(p, *pod_template_fit(p, templates)) for p in pods]
    misfits = [(p, why, name) for p, state, why, name in fits if state == "no"]
    if misfits:
        pod, _, template = misfits[0]
        rows = [[namespaced_name(p), waited(p, obs.now), name or "-", why] for p, why, name in misfits]
        return confirmed(
            "; ".join(f"pod {namespaced_name(p)}: {why}" for p, why, _ in misfits[:3]),
            table("Pending pods no node template can host", ["POD", "PENDING FOR", "TEMPLATE", "WHY"], rows),
            *(json_evidence(f"node template {as_str(t.get('name'))}", t, "constraints")
              for t in templates if as_str(t.get("name")) in {n for _, _, n in misfits}),
            pod_name=name_of(pod), pod_namespace=as_str(as_dict(pod.get("metadata")).get("namespace"), "default"),
            template=template or "(create one)",
        )
    unsure = [(p, why) for p, state, why, _ in fits if state == "unknown"]
    if unsure:
        return unknown("; ".join(f"pod {namespaced_name(p)}: {why}" for p, why in unsure[:3]),
                       table("Pending pods and the templates castui could not compare", ["POD", "COMPARISON"],
                             [[namespaced_name(p), why] for p, why in unsure]))
    return ruled_out("an enabled node template can host every Pending pod")


SYMPTOM = Symptom(
    id="no-scale-up",
    title="Nodes not scaling up (pods stay Pending)",
    recognise="pods sit in Pending with FailedScheduling events for 15 min or more and no new node appears",
    label="no scale-up",
    abbrev="up",
    checks=CHECKS,
    observe=observe,
    causes=(
        cluster_hibernated("no-scale-up"),
        cluster_status_warning("no-scale-up"),
        autoscaler_disabled("no-scale-up"),
        Cause(
            "unschedulable-pods-disabled", "The unschedulable pods policy is off",
            judge_unschedulable_disabled,
            FixTemplate(
                title="Enable the unschedulable pods policy",
                explanation="With this policy on, CAST AI adds nodes for pods that cannot be scheduled.",
                policies_patch={"unschedulablePods": {"enabled": True}},
                recheck=("no-scale-up",),
            ),
            explained_by=("autoscaler-disabled",),
        ),
        Cause(
            "cluster-cpu-limit-reached", "The cluster CPU limit leaves no room for the Pending pods",
            judge_cpu_limit,
            FixTemplate(
                title="Raise the cluster's CPU limit to {max_cores} cores",
                explanation="CAST AI adds no node that would take the cluster past clusterLimits.cpu.maxCores.",
                policies_patch=lambda args: {"clusterLimits": {"cpu": {"maxCores": args["max_cores"]}}},
                recheck=("no-scale-up",),
            ),
        ),
        Cause(
            "scoped-mode-excludes", "Scoped mode ignores pods without the scoped-autoscaler toleration",
            judge_scoped_mode,
            FixTemplate(
                title="Let {owner} tolerate the scoped-autoscaler taint",
                explanation=(
                    "In scoped mode only pods that tolerate scheduling.cast.ai/scoped-autoscaler make CAST AI add nodes. "
                    "Add to the pod template of {owner} (namespace {pod_namespace}) the toleration "
                    "`{{key: scheduling.cast.ai/scoped-autoscaler, operator: Exists, effect: NoSchedule}}`, "
                    "at its source (manifest, Helm chart)."
                ),
                commands=(("kubectl", "get", "pod", "{pod_name}", "-n", "{pod_namespace}", "-o", "jsonpath={.spec.tolerations}"),),
                mutates=False,
                recheck=("no-scale-up",),
            ),
        ),
        Cause(
            "no-matching-node-template", "No node template can host the Pending pods",
            judge_no_template,
            FixTemplate(
                title="Fix pod {pod_name}'s selector or tolerations, or node template {template}",
                explanation=(
                    "Either change the pod's nodeSelector/affinity/tolerations at its source, or make node template "
                    "{template} exist, be enabled and offer what the pod asks for (console → Autoscaler → Node templates)."
                ),
                commands=(("kubectl", "get", "pod", "{pod_name}", "-n", "{pod_namespace}", "-o",
                           "jsonpath={.spec.nodeSelector}{.spec.affinity.nodeAffinity}{.spec.tolerations}"),),
                mutates=False,
                recheck=("no-scale-up",),
            ),
        ),
    ),
)
