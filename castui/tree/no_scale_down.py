"""5. `no-scale-down`: empty or underused nodes are not removed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from castui.clients.projection import PodForDrain
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
from castui.tree.no_scale_up import POLICIES
from castui.tree.reading import Evidence, dig, json_evidence, name_of, namespaced_name, owner_kind

REMOVAL_DISABLED = ("autoscaling.cast.ai/removal-disabled", "beta.evictor.cast.ai/eviction-disabled")


def drain_blocker(pod: dict[str, Any]) -> str | None:
    """Why the evictor cannot move this pod off its node, or None."""
    meta = pod.get("metadata", {})
    annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
    if "true" in (annotations.get("autoscaling.cast.ai/disposable"), labels.get("autoscaling.cast.ai/disposable")):
        return None  # marked evictable whatever else it is
    for key in REMOVAL_DISABLED:
        if annotations.get(key) == "true" or labels.get(key) == "true":
            return f"{key}=true"
    if annotations.get("cluster-autoscaler.kubernetes.io/safe-to-evict") == "false":
        return "safe-to-evict: false"
    if meta.get("namespace") == "kube-system" and not owner_kind(pod):
        return "kube-system pod without a controller"
    if any("emptyDir" in v or "hostPath" in v for v in pod.get("spec", {}).get("volumes") or []):
        return "uses local storage"
    return None


#: pods that have finished hold no node; the server leaves them out of the answer
RUNNING_OR_PENDING = "status.phase!=Succeeded,status.phase!=Failed"


def workload_by_node(pages: Iterable[list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per node: how many workload pods could be moved off it, and the pods that block a drain.

    DaemonSet pods do not count (they run on every node). Folded page by page: only counts
    and blockers stay, never the pods themselves.
    """
    by_node: dict[str, dict[str, Any]] = {}
    for page in pages:
        for pod in page:
            node = pod.get("spec", {}).get("nodeName")
            if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") or owner_kind(pod) == "DaemonSet":
                continue
            entry = by_node.setdefault(node, {"movable": 0, "blockers": []})
            if why := drain_blocker(pod):
                entry["blockers"].append((namespaced_name(pod), why))
            else:
                entry["movable"] += 1
    return by_node


async def gather_node_occupancy(facts: Facts) -> list[dict[str, Any]]:
    """Nodes that hold nothing but DaemonSet pods and pods that block a drain."""
    # both at once; the nodes awaited first, so when both fail the reason is always the nodes'
    pods = asyncio.ensure_future(
        facts.kube_fold("workload-by-node", "pods", workload_by_node, field_selector=RUNNING_OR_PENDING,
                        projection=PodForDrain)
    )
    try:
        nodes = await facts.nodes()
    except BaseException:
        pods.cancel()  # only this wait: the fetch itself is memoised and shielded
        raise
    by_node = await pods
    empty = []
    for node in nodes:
        occupancy = by_node.get(name_of(node)) or {"movable": 0, "blockers": []}
        if not occupancy["movable"]:
            meta = node.get("metadata", {})
            marked = next((k for k in REMOVAL_DISABLED if (meta.get("labels") or {}).get(k) == "true"
                           or (meta.get("annotations") or {}).get(k) == "true"), None)
            empty.append({"node": name_of(node), "blockers": list(occupancy["blockers"]), "node_marked": marked})
    return empty


async def gather_blocking_pdbs(facts: Facts) -> list[dict[str, Any]]:
    """PDBs that allow no disruption while they hold running pods."""
    blocking = []
    for pdb in await facts.pdbs():
        status = pdb.get("status") or {}
        if status.get("disruptionsAllowed", 1) == 0 and (status.get("currentHealthy") or status.get("expectedPods")):
            blocking.append(pdb)
    return blocking


CHECKS = (
    POLICIES,
    Check("blocking-pdbs", "PodDisruptionBudgets that allow no disruption", gather_blocking_pdbs,
          lambda pdbs: f"{len(pdbs)} allow no disruption"),
    Check("empty-nodes", "Nodes with only DaemonSet and system pods", gather_node_occupancy,
          lambda nodes: f"{len(nodes)} empty nodes"),
)


def observe(obs: Observations) -> Observation:
    empty = obs["empty-nodes"]
    if empty:
        return Observation(True, f"{len(empty)} nodes hold no workload: " + ", ".join(n["node"] for n in empty[:5]))
    return Observation(False, "every node runs workload pods")


def judge_downscaler_disabled(obs: Observations) -> Judgement:
    policies = obs["policies"]
    for path in ("nodeDownscaler.enabled", "nodeDownscaler.emptyNodes.enabled"):
        if dig(policies, path) is False:
            return confirmed(f"{path} is false: CAST AI does not remove empty nodes", json_evidence("policies", policies, path))
    return ruled_out("the node downscaler and its empty-node policy are on")


def judge_pdb_blocking(obs: Observations) -> Judgement:
    pdbs = obs["blocking-pdbs"]
    if not pdbs:
        return ruled_out("every PodDisruptionBudget allows at least one disruption")
    pdb = pdbs[0]
    selector = (pdb.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
    status = pdb.get("status") or {}
    return confirmed(
        f"PodDisruptionBudget {namespaced_name(pdb)} (selector {selector}) allows 0 disruptions "
        f"with {status.get('currentHealthy', '?')} healthy of {status.get('expectedPods', '?')} pods",
        *(json_evidence(f"PodDisruptionBudget {namespaced_name(p)}", p, "status.disruptionsAllowed") for p in pdbs),
        pdb_name=name_of(pdb),
        pdb_namespace=pdb["metadata"].get("namespace", "default"),
    )


def judge_system_pods(obs: Observations) -> Judgement:
    blocked = [n for n in obs["empty-nodes"] if n["blockers"] or n["node_marked"]]
    if not blocked:
        return ruled_out("no empty node is held by a pod that cannot be evicted")
    rows = [["NODE", "POD", "WHY IT BLOCKS"]]
    for node in blocked:
        if node["node_marked"]:
            rows.append([node["node"], "(the node itself)", f"{node['node_marked']}=true"])
        rows.extend([node["node"], pod, why] for pod, why in node["blockers"])
    first = blocked[0]
    what = f"{first['blockers'][0][0]} ({first['blockers'][0][1]})" if first["blockers"] else f"the node's {first['node_marked']}"
    pod_ns, _, pod_name = (first["blockers"][0][0] if first["blockers"] else "/").partition("/")
    return confirmed(
        f"node {first['node']} is empty but for {what}",
        Evidence(kind="table", title="pods that block a drain", data=rows),
        pod_name=pod_name or first["node"], pod_namespace=pod_ns or "kube-system",
    )


def judge_delay_high(obs: Observations) -> Judgement:
    policies = obs["policies"]
    delay = dig(policies, "nodeDownscaler.emptyNodes.delaySeconds")
    limit = obs.thresholds.empty_node_delay_seconds
    if delay is not None and delay > limit:
        return confirmed(f"empty nodes wait {delay}s before removal (threshold {limit}s)",
                         json_evidence("policies", policies, "nodeDownscaler.emptyNodes.delaySeconds"))
    return ruled_out(f"empty-node delay {delay if delay is not None else 'default'}s is within {limit}s")


SYMPTOM = Symptom(
    id="no-scale-down",
    title="Empty or underused nodes are not removed",
    recognise="nodes with nothing but DaemonSets stay for hours; the bill does not go down",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause(
            "node-downscaler-disabled", "The node downscaler is off", judge_downscaler_disabled,
            FixTemplate(
                title="Enable the node downscaler and its empty-node policy",
                explanation="CAST AI removes empty nodes only when nodeDownscaler and emptyNodes are enabled.",
                policies_patch={"nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True}}},
                recheck=("no-scale-down",),
            ),
        ),
        Cause(
            "pdb-blocking-eviction", "A PodDisruptionBudget blocks eviction", judge_pdb_blocking,
            FixTemplate(
                title="Relax the PodDisruptionBudget or scale the workload",
                explanation="With 0 disruptions allowed, no pod it covers can be evicted, so its nodes cannot drain.",
                commands=(("kubectl", "patch", "pdb", "{pdb_name}", "-n", "{pdb_namespace}", "--type=merge",
                           "-p", '{{"spec":{{"maxUnavailable":1,"minAvailable":null}}}}'),),
                recheck=("no-scale-down",),
            ),
        ),
        Cause(
            "system-pods-blocking-drain", "System pods block the drain of empty nodes", judge_system_pods,
            FixTemplate(
                title="Make the blocking pods evictable",
                explanation=(
                    "Give kube-system pods a controller, drop local storage or the removal-disabled / safe-to-evict=false "
                    "marks, or mark a pod disposable so the evictor may move it."
                ),
                commands=(("kubectl", "annotate", "pod", "{pod_name}", "-n", "{pod_namespace}",
                           "autoscaling.cast.ai/disposable=true", "--overwrite"),),
                recheck=("no-scale-down",),
            ),
        ),
        Cause(
            "empty-nodes-delay-high", "Empty nodes wait too long before removal", judge_delay_high,
            FixTemplate(
                title="Lower the empty-node delay",
                explanation="Empty nodes are removed only after emptyNodes.delaySeconds.",
                policies_patch={"nodeDownscaler": {"emptyNodes": {"delaySeconds": 300}}},
                recheck=("no-scale-down",),
            ),
        ),
    ),
)
