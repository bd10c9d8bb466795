"""5. `no-scale-down`: empty or underused nodes are not removed (guide v2 §5).

Observed: an empty node (only DaemonSet and static pods: "the Autoscaler only removes empty
nodes", docs.cast.ai how-it-works), or a node the user names (`--node`, or picked in the app);
a cordoned node counts as named (someone started a drain). With no named node, the Evictor's
causes can only be latent or ruled out: nothing is being drained.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from castui.clients.errors import CastuiError
from castui.clients.projection import PodForDrain
from castui.diagnosis import Evidence
from castui.tree import cluster_checks, cluster_controller, evictor_checks
from castui.tree.cluster_checks import CLUSTER_STATUS, POLICIES
from castui.tree.evictor_checks import EVICTOR, EVICTOR_CHECK, EVICTOR_OWNERSHIP, Undecided
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
from castui.tree.reader import Reader
from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    dig,
    json_evidence,
    name_of,
    namespaced_name,
    owner_kind,
    parse_time,
)
from castui.tree.releases import helm_commands, helm_guidance

SYMPTOM_ID = "no-scale-down"
#: keeps a node "even when it's empty" (castai/docs@f1bf702 docs/guides/evictor.md); the second is deprecated
REMOVAL_DISABLED = ("autoscaling.cast.ai/removal-disabled", "beta.evictor.cast.ai/eviction-disabled")
DISPOSABLE = "autoscaling.cast.ai/disposable"
#: scoped mode removes only nodes with this label (docs.cast.ai autoscaler-settings)
MANAGED_BY = ("provisioner.cast.ai/managed-by", "cast.ai")
MIRROR = "kubernetes.io/config.mirror"
#: events live one hour by default (kube-apiserver --event-ttl): older pod stops are out of sight
EVENT_TTL = timedelta(hours=1)
#: pods that have finished hold no node; the server leaves them out of the answer
RUNNING_OR_PENDING = "status.phase!=Succeeded,status.phase!=Failed"


# --- reads --------------------------------------------------------------------------------------


def is_static_or_daemon(pod: dict[str, Any]) -> bool:
    """DaemonSet pods and static (mirror) pods: they do not keep a node from being empty."""
    kind = owner_kind(pod)
    return kind in ("DaemonSet", "Node") or MIRROR in as_dict(as_dict(pod.get("metadata")).get("annotations"))


def workload_by_node(pages: Iterable[list[dict[str, Any]]]) -> dict[str, int]:
    """Per node, how many pods other than DaemonSet and static pods run there; folded page by page."""
    counts: dict[str, int] = {}
    for page in pages:
        for pod in page:
            node = as_dict(pod.get("spec")).get("nodeName")
            if not node or as_dict(pod.get("status")).get("phase") in ("Succeeded", "Failed") or is_static_or_daemon(pod):
                continue
            counts[node] = counts.get(node, 0) + 1
    return counts


def _marks(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(`label`|`annotation`, key) of every removal-disabled mark set to "true"."""
    found = []
    for where, values in (("label", as_dict(meta.get("labels"))), ("annotation", as_dict(meta.get("annotations")))):
        found += [(where, key) for key in REMOVAL_DISABLED if as_str(values.get(key)).lower() == "true"]
    return found


def node_since(node: dict[str, Any]) -> str | None:
    """When the node came up: the earlier of its creationTimestamp and its Ready condition's
    lastTransitionTime (a restored object's creationTimestamp is the restore's)."""
    times = [parse_time(as_dict(node.get("metadata")).get("creationTimestamp"))]
    times += [parse_time(c.get("lastTransitionTime")) for c in as_dicts(as_dict(node.get("status")).get("conditions"))
              if c.get("type") == "Ready"]
    known = [t for t in times if t is not None]
    return min(known).isoformat() if known else None


async def gather_nodes(facts: Reader) -> list[dict[str, Any]]:
    """Every node: whether it is empty, cordoned, CAST AI's, marked removal-disabled, and since when it runs."""
    pods = asyncio.ensure_future(
        facts.kube_fold("workload-by-node", "pods", workload_by_node, field_selector=RUNNING_OR_PENDING,
                        projection=PodForDrain))
    try:
        nodes = await facts.nodes()
    except BaseException:
        pods.cancel()  # only this wait: the fetch itself is memoised and shielded
        raise
    counts = await pods
    found = []
    for node in nodes:
        meta = as_dict(node.get("metadata"))
        labels = as_dict(meta.get("labels"))
        found.append({
            "node": name_of(node), "workload_pods": counts.get(name_of(node), 0),
            "cordoned": as_dict(node.get("spec")).get("unschedulable") is True,
            "cast_ai": labels.get(MANAGED_BY[0]) == MANAGED_BY[1],
            "marks": [list(m) for m in _marks(meta)], "since": node_since(node),
        })
    return found


def _pod_entry(pod: dict[str, Any]) -> dict[str, Any]:
    meta = as_dict(pod.get("metadata"))
    owners = as_dicts(meta.get("ownerReferences"))
    volumes = as_dicts(as_dict(pod.get("spec")).get("volumes"))
    return {
        "pod": as_str(meta.get("name"), "?"), "namespace": as_str(meta.get("namespace")),
        "node": as_str(as_dict(pod.get("spec")).get("nodeName")), "phase": as_str(as_dict(pod.get("status")).get("phase")),
        "labels": as_dict(meta.get("labels")),
        "annotations": {k: v for k, v in as_dict(meta.get("annotations")).items() if k in (*REMOVAL_DISABLED, DISPOSABLE)},
        "labels_disposable": as_dict(meta.get("labels")).get(DISPOSABLE),
        "owner_kind": as_str(owners[0].get("kind")) if owners else None,
        "owner": as_str(owners[0].get("name")) if owners else None,
        "static_or_daemon": is_static_or_daemon(pod),
        "pvc": any("persistentVolumeClaim" in v for v in volumes),
    }


def _field_value(value: str) -> str:
    """A field selector value, escaped as Kubernetes' fields.EscapeValue does (`\\`, `,`, `=`)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


async def pods_on(facts: Reader, node: str) -> list[dict[str, Any]]:
    """The pods on one node: by field selector, or, when the server refuses the selector (a name no
    selector can carry), from every pod, page by page, keeping only that node's."""
    try:
        return await facts.kube_list("pods", None, field_selector=f"spec.nodeName={_field_value(node)}")
    except CastuiError:
        def on_node(pages: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
            return [p for page in pages for p in page if as_dict(p.get("spec")).get("nodeName") == node]

        return await facts.kube_fold(f"pods-on-node/{node}", "pods", on_node)


async def gather_named_nodes(facts: Reader) -> list[dict[str, Any]]:
    """The named and cordoned nodes, with their pods and each pod owner's replica count."""
    nodes = {name_of(n): n for n in await facts.nodes()}
    wanted = list(dict.fromkeys([*facts.settings.nodes,
                                 *(name for name, n in nodes.items() if as_dict(n.get("spec")).get("unschedulable") is True)]))

    async def one(name: str) -> dict[str, Any]:
        if name not in nodes:
            return {"node": name, "exists": False, "named": name in facts.settings.nodes, "pods": []}
        pods = [_pod_entry(p) for p in await pods_on(facts, name)
                if as_dict(p.get("status")).get("phase") not in ("Succeeded", "Failed")]
        owners = list(dict.fromkeys((p["namespace"], p["owner"]) for p in pods if p["owner_kind"] == "ReplicaSet" and p["owner"]))
        found = await asyncio.gather(*(facts.kube_get("replicasets", ns, owner) for ns, owner in owners))
        replicas = {key: as_dict(as_dict(rs).get("spec")).get("replicas") if rs else None for key, rs in zip(owners, found)}
        for pod in pods:
            if pod["owner_kind"] == "ReplicaSet":
                pod["replicas"] = replicas.get((pod["namespace"], pod["owner"]))
        return {"node": name, "exists": True, "named": name in facts.settings.nodes,
                "cordoned": as_dict(nodes[name].get("spec")).get("unschedulable") is True, "pods": pods}

    return list(await asyncio.gather(*(one(n) for n in wanted)))


def selector_matches(selector: dict[str, Any], labels: Mapping[str, Any]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions) against labels; an empty selector matches all (policy/v1)."""
    if any(labels.get(k) != v for k, v in as_dict(selector.get("matchLabels")).items()):
        return False
    for expression in as_dicts(selector.get("matchExpressions")):
        key, op, values = as_str(expression.get("key")), expression.get("operator"), expression.get("values") or []
        if op == "In" and labels.get(key) not in values or op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels or op == "DoesNotExist" and key in labels:
            return False
    return True


async def gather_zero_pdbs(facts: Reader) -> list[dict[str, Any]]:
    """PDBs that allow no disruption (or do not say), with the Running pods they hold and where."""
    chosen = [p for p in await facts.pdbs() if not isinstance(as_dict(p.get("status")).get("disruptionsAllowed"), int)
              or as_dict(p.get("status")).get("disruptionsAllowed") == 0]
    namespaces = list(dict.fromkeys(as_str(as_dict(p.get("metadata")).get("namespace")) for p in chosen))
    listed = dict(zip(namespaces, await asyncio.gather(*(facts.kube_list("pods", ns) for ns in namespaces))))
    found = []
    for pdb in chosen:
        namespace = as_str(as_dict(pdb.get("metadata")).get("namespace"))
        selector = as_dict(as_dict(pdb.get("spec")).get("selector"))
        pods = listed[namespace]
        held = [{"pod": name_of(p), "node": as_str(as_dict(p.get("spec")).get("nodeName"))}
                for p in pods if as_dict(p.get("status")).get("phase") == "Running"
                and selector_matches(selector, as_dict(as_dict(p.get("metadata")).get("labels")))]
        status = as_dict(pdb.get("status"))
        found.append({"pdb": namespaced_name(pdb), "name": name_of(pdb), "namespace": namespace,
                      "disruptionsAllowed": status.get("disruptionsAllowed"), "currentHealthy": status.get("currentHealthy"),
                      "desiredHealthy": status.get("desiredHealthy"), "pods": held})
    return found


def _daemon_pod_name(namespace: str, name: str, daemonsets: set[tuple[str, str]]) -> bool:
    """`<daemonset>-<5 characters>`: the pod names a DaemonSet gives (its pods do not make a node busy)."""
    owner, _, suffix = name.rpartition("-")
    return len(suffix) == 5 and (namespace, owner) in daemonsets


async def gather_pod_stops(facts: Reader) -> list[dict[str, Any]]:
    """Kubelet `Killing` events (a container stopped) of pods other than DaemonSet pods, by node (`source.host`)."""
    events, daemonsets = await asyncio.gather(facts.events(reason="Killing"), facts.kube_list("daemonsets", None))
    known = {(as_str(as_dict(d.get("metadata")).get("namespace")), name_of(d)) for d in daemonsets}
    stops = []
    for event in events:
        involved = as_dict(event.get("involvedObject"))
        namespace, name = as_str(involved.get("namespace")), as_str(involved.get("name"))
        if _daemon_pod_name(namespace, name, known):
            continue
        stops.append({"node": as_str(as_dict(event.get("source")).get("host")), "pod": f"{namespace}/{name}",
                      "time": as_str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp"))})
    return stops


NODES = Check("nodes", "Nodes: empty (only DaemonSet and static pods), cordoned, CAST AI's, removal-disabled", gather_nodes,
              lambda nodes: f"{sum(1 for n in nodes if not n['workload_pods'])} empty of {len(nodes)} nodes")
NAMED_NODES = Check("named-nodes", "Named and cordoned nodes and their pods", gather_named_nodes,
                    lambda nodes: ", ".join(n["node"] for n in nodes) or "no node named or cordoned")
ZERO_PDBS = Check("zero-pdbs", "PodDisruptionBudgets that allow no disruption, and the pods they hold", gather_zero_pdbs,
                  lambda pdbs: f"{len(pdbs)} allow no disruption")
POD_STOPS = Check("pod-stops", "Kubelet Killing events (pods stopped, by node)", gather_pod_stops,
                  lambda stops: f"{len(stops)} pod stops in the event history")

CHECKS = (
    POLICIES, CLUSTER_STATUS, NODES, NAMED_NODES, ZERO_PDBS, POD_STOPS,
    cluster_controller.CLUSTER_CONTROLLER, EVICTOR_CHECK, EVICTOR_OWNERSHIP,
)


# --- observation ----------------------------------------------------------------------------------


def empty_nodes(obs: Observations) -> list[dict[str, Any]]:
    return [n for n in as_dicts(obs["nodes"]) if not n.get("workload_pods")]


def named_nodes(obs: Observations) -> list[dict[str, Any]]:
    """Named or cordoned nodes that exist."""
    return [n for n in as_dicts(obs["named-nodes"]) if n.get("exists")]


def observed_nodes(obs: Observations) -> list[str]:
    return list(dict.fromkeys([*(n["node"] for n in empty_nodes(obs)), *(n["node"] for n in named_nodes(obs))]))


def observe(obs: Observations) -> Observation:
    # guide v2 §5 Observed; docs.cast.ai how-it-works ("the Autoscaler only removes empty nodes")
    empty = [n["node"] for n in empty_nodes(obs)]
    if empty and obs.failed("named-nodes"):  # an empty node is enough to observe it
        return Observation(True, f"{len(empty)} empty node(s): " + ", ".join(empty[:5]))
    named = as_dicts(obs["named-nodes"])
    parts = []
    if empty:
        parts.append(f"{len(empty)} empty node(s): " + ", ".join(empty[:5]))
    if present := [n for n in named if n.get("exists")]:
        parts.append("named or cordoned: " + ", ".join(f"{n['node']}" + (" (cordoned)" if n.get("cordoned") else "")
                                                        for n in present[:5]))
    missing = [n["node"] for n in named if not n.get("exists")]
    if parts:
        return Observation(True, "; ".join(parts) + (f"; not found: {', '.join(missing)}" if missing else ""))
    if missing:
        return Observation(False, f"node(s) {', '.join(missing)} not found (already removed?); every other node runs workload pods")
    return Observation(False, "every node runs workload pods, and no node is named or cordoned")


def _nodes_table(title: str, rows: list[list[str]]) -> Evidence:
    return Evidence(kind="table", title=title, data=rows)


# --- judges ---------------------------------------------------------------------------------------


def judge_downscaler_disabled(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 docs/resources/autoscaler.md (node_downscaler, empty_nodes)
    policies = as_dict(obs["policies"])
    empty = [n["node"] for n in empty_nodes(obs)]
    unset = []
    for path in ("nodeDownscaler.enabled", "nodeDownscaler.emptyNodes.enabled"):
        value = dig(policies, path)
        if value is False:
            why = f"`{path}` is false: CAST AI removes no empty node"
            evidence = json_evidence("policies", policies, path)
            if empty:
                return confirmed(f"{why}, and {', '.join(empty[:5])} is empty", evidence, field=path)
            return latent(f"{why} (no node is empty now)", evidence, field=path)
        if value is None:
            unset.append(path)
    if unset:
        return unknown("the policies have no " + " and no ".join(f"`{p}`" for p in unset))
    return ruled_out("the node downscaler and its empty-node policy are on")


def judge_delay_high(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 docs/resources/autoscaler.md: delay_seconds is the
    # "period to wait before removing the node"; no source gives a default or a "too high" value
    empty = empty_nodes(obs)
    if not empty:
        return ruled_out("no node is empty")
    policies = as_dict(obs["policies"])
    delay = dig(policies, "nodeDownscaler.emptyNodes.delaySeconds")
    if not isinstance(delay, int) or isinstance(delay, bool):
        return unknown("the policies have no `nodeDownscaler.emptyNodes.delaySeconds` (its default is not documented)")
    now = obs.now
    stops = as_dicts(obs["pod-stops"])
    rows = [["NODE", "EMPTY AT MOST SINCE", "WHY", "REMOVABLE FROM"]]
    waiting: list[str] = []
    unclear: list[str] = []
    for node in empty:
        since, why = parse_time(node.get("since")), "the node came up"
        last_stop = max((t for s in stops if s.get("node") == node["node"] and (t := parse_time(s.get("time")))), default=None)
        if last_stop is not None and (since is None or last_stop > since):
            since, why = last_stop, "a pod on it stopped"
        if since is None:
            unclear.append(node["node"])
        elif now - since < timedelta(seconds=delay):
            waiting.append(node["node"])
            rows.append([node["node"], since.isoformat(), why, (since + timedelta(seconds=delay)).isoformat()])
    if waiting:
        until = rows[1][3]
        return confirmed(f"{', '.join(waiting[:5])} may have been empty for less than `emptyNodes.delaySeconds` = {delay}s: "
                         f"CAST AI removes it from {until} at the earliest",
                         _nodes_table("empty nodes within the delay", rows),
                         json_evidence("policies", policies, "nodeDownscaler.emptyNodes.delaySeconds"),
                         until=until, delay=str(delay))
    if unclear:
        return unknown(f"castui cannot tell since when {unclear[0]} runs (no creation or Ready time)")
    if timedelta(seconds=delay) <= EVENT_TTL:
        return ruled_out(f"every empty node has been up and without a stopped pod for longer than the {delay}s delay")
    return unknown(f"the delay ({delay}s) is longer than events live (1 h): castui cannot see when the node became empty")


def _observed_node_entries(obs: Observations) -> list[dict[str, Any]]:
    wanted = set(observed_nodes(obs))
    return [n for n in as_dicts(obs["nodes"]) if n.get("node") in wanted]


def judge_removal_disabled(obs: Observations) -> Judgement:
    # castai/docs@f1bf702 docs/guides/evictor.md: removal-disabled keeps a node "even when it's empty"
    marked = [n for n in _observed_node_entries(obs) if n.get("marks")]
    if not marked:
        return ruled_out("no empty, named or cordoned node is marked removal-disabled")
    rows = [["NODE", "ON", "KEY"]] + [[n["node"], where, key] for n in marked for where, key in n["marks"]]
    return confirmed(f"{marked[0]['node']} is marked {marked[0]['marks'][0][1]}=true: CAST AI keeps it even when it is empty",
                     _nodes_table("nodes marked removal-disabled", rows),
                     marks=[(n["node"], where, key) for n in marked for where, key in n["marks"]],
                     # a string too, so the guard against `${` in names from the cluster (engine/fixes.py) sees each one
                     nodes=" ".join(n["node"] for n in marked))


def judge_scoped_mode(obs: Observations) -> Judgement:
    # docs.cast.ai autoscaler-settings: in scoped mode only nodes labelled provisioner.cast.ai/managed-by=cast.ai are removed
    policies = as_dict(obs["policies"])
    scoped = policies.get("isScopedMode")
    if scoped is False:
        return ruled_out("scoped mode is off")
    outside = [n["node"] for n in _observed_node_entries(obs) if not n.get("cast_ai")]
    if scoped is None:
        return unknown("the policies have no `isScopedMode`") if outside else ruled_out(
            "every empty, named or cordoned node is CAST AI's")
    if not outside:
        return ruled_out("scoped mode is on, and every empty, named or cordoned node is labelled provisioner.cast.ai/managed-by=cast.ai")
    return confirmed(f"scoped mode is on and {', '.join(outside[:5])} lacks provisioner.cast.ai/managed-by=cast.ai: "
                     "CAST AI does not remove it (expected)", json_evidence("policies", policies, "isScopedMode"),
                     node=outside[0])


def _pdbs_ignored(obs: Observations) -> bool:
    """The Evictor's owner set ignorePodDisruptionBudgets (then a PDB does not hold its drain)."""
    try:
        who, _ = evictor_checks.owner(obs)
    except Exception:  # noqa: BLE001 - an unreadable owner is "not known to ignore"
        return False
    if who == "castai":
        return dig(obs.get("policies"), "nodeDownscaler.evictor.ignorePodDisruptionBudgets") is True
    if who == "self-managed":
        return dig(evictor_checks.evictor(obs), "evictorconfig.spec.config.ignorePodDisruptionBudgets") is True
    return False


def judge_pdb_blocking(obs: Observations) -> Judgement:
    # kubernetes@01aa0f3 pkg/registry/core/pod/storage/eviction.go: the eviction of a Running pod is
    # refused while a PDB matching it has disruptionsAllowed == 0
    pdbs = as_dicts(obs["zero-pdbs"])
    if not pdbs:
        return ruled_out("every PodDisruptionBudget allows at least one disruption")
    if _pdbs_ignored(obs):
        return ruled_out("the Evictor is set to ignore PodDisruptionBudgets")
    named = {n["node"] for n in named_nodes(obs)}
    cast_ai = {n["node"] for n in as_dicts(obs["nodes"]) if n.get("cast_ai")}
    rows = [["PDB", "POD", "NODE", "HEALTHY (CURRENT/DESIRED)"]]
    holding: list[tuple[dict[str, Any], list[str]]] = []
    risky: list[tuple[dict[str, Any], list[str]]] = []
    unclear: list[tuple[dict[str, Any], list[str]]] = []
    for pdb in pdbs:
        allowed = pdb.get("disruptionsAllowed")
        for pod in as_dicts(pdb.get("pods")):
            row = [as_str(pdb.get("pdb")), f"{pdb.get('namespace')}/{pod.get('pod')}", as_str(pod.get("node")),
                   f"{as_str(pdb.get('currentHealthy'), '?')}/{as_str(pdb.get('desiredHealthy'), '?')}"]
            if pod.get("node") in named:
                (holding if allowed == 0 else unclear).append((pdb, row))
            elif pod.get("node") in cast_ai and allowed == 0:
                risky.append((pdb, row))
    if holding:
        pdb, row = holding[0]
        table = _nodes_table("PodDisruptionBudgets holding pods on named nodes", rows + [r for _, r in holding])
        return confirmed(f"PodDisruptionBudget {pdb['pdb']} allows 0 disruptions ({row[3]} healthy) and holds pod {row[1]} "
                         f"on node {row[2]}, which stays: the API refuses its eviction", table,
                         pdb=pdb["pdb"], pdb_name=pdb["name"], pdb_namespace=pdb["namespace"], pod=row[1], node=row[2])
    if unclear:
        return unknown(f"PodDisruptionBudget {unclear[0][0]['pdb']} holds pods on {unclear[0][1][2]} and reports no "
                       "disruptionsAllowed")
    if risky:
        pdb, row = risky[0]
        return latent(f"PodDisruptionBudget {pdb['pdb']} allows 0 disruptions and holds {row[1]} on CAST AI node {row[2]}: "
                      "that node could not be drained", _nodes_table("PodDisruptionBudgets at 0 on CAST AI nodes",
                                                                     rows + [r for _, r in risky]),
                      pdb=pdb["pdb"], pdb_name=pdb["name"], pdb_namespace=pdb["namespace"], pod=row[1], node=row[2])
    return ruled_out("no PodDisruptionBudget at 0 allowed disruptions holds a pod on a named, cordoned or CAST AI node")


def drain_blocker(pod: dict[str, Any], aggressive: bool | None) -> tuple[str | None, bool]:
    """(why the Evictor won't move this pod, or None; whether that depends on an unknown aggressive mode)."""
    # castai/docs@f1bf702 docs/guides/evictor.md; docs.cast.ai evictor-advanced-configuration
    if pod.get("static_or_daemon"):
        return None, False  # DaemonSet and static pods are evictable
    disposable = "true" in (as_str(pod.get("annotations", {}).get(DISPOSABLE)).lower(), as_str(pod.get("labels_disposable")).lower())
    if any(as_str(pod.get("annotations", {}).get(k)).lower() == "true" for k in REMOVAL_DISABLED):
        return "annotated autoscaling.cast.ai/removal-disabled", False
    if disposable:
        return None, False
    kind = pod.get("owner_kind")
    if kind == "StatefulSet":
        return "a StatefulSet pod", False
    unreplicated = kind is None or kind == "Job" or (kind == "ReplicaSet" and pod.get("replicas") == 1)
    what = "a bare pod" if kind is None else "a Job's pod" if kind == "Job" else "its owner runs one replica"
    if unreplicated:
        if aggressive is None:
            return f"{what} (moved only in aggressive mode, which castui could not read)", True
        return (None, False) if aggressive else (f"{what}; the Evictor moves it only in aggressive mode", False)
    if pod.get("pvc") and aggressive is not False:
        return ("uses a PersistentVolumeClaim, which aggressive mode does not move", aggressive is None)
    return None, False


def judge_system_pods(obs: Observations) -> Judgement:
    named = named_nodes(obs)
    if not named:
        return ruled_out("no node is named or cordoned: nothing is being drained")
    try:
        aggressive = bool(evictor_checks.setting(obs, "aggressiveMode").value)
    except Undecided:
        aggressive = None
    rows = [["NODE", "POD", "WHY THE EVICTOR WON'T MOVE IT"]]
    definite: list[list[str]] = []
    doubtful: list[list[str]] = []
    for node in named:
        for pod in as_dicts(node.get("pods")):
            why, depends = drain_blocker(pod, aggressive)
            if why:
                row = [node["node"], f"{pod.get('namespace')}/{pod.get('pod')}", why]
                (doubtful if depends else definite).append(row)
    if definite:
        first = definite[0]
        return confirmed(f"pod {first[1]} keeps node {first[0]}: {first[2]}", _nodes_table("pods the Evictor won't move", rows + definite),
                         pod=first[1], pod_namespace=first[1].partition("/")[0], pod_name=first[1].partition("/")[2],
                         node=first[0])
    if doubtful:
        return unknown(f"pod {doubtful[0][1]} on {doubtful[0][0]}: {doubtful[0][2]}")
    return ruled_out("every pod on the named or cordoned nodes can be moved by the Evictor")


def _evictor_named(obs: Observations, condition: str, *evidence: Evidence, **fix_args: Any) -> Judgement:
    """Guide v2 §5: with no named node, the Evictor's causes can only be latent or ruled out."""
    named = [n["node"] for n in named_nodes(obs)]
    if named:
        return confirmed(f"{condition}, so {', '.join(named[:3])} is not drained", *evidence, **fix_args)
    return latent(f"{condition} (no node is named or cordoned: nothing waits for it)", *evidence, **fix_args)


def judge_evictor_disabled(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go PoliciesV1Evictor.Enabled (installs or
    # removes it); castai/terraform-castai-eks-cluster@d2436b0 main.tf installs it at replicaCount 0;
    # EvictorConfig.spec.enabled is "not yet read by evictor" (castai/helm-charts@c2de1e1 values.yaml): not used
    ready = evictor_checks.ready_pods(obs)
    policies = obs.get("policies")
    enabled = dig(policies, "nodeDownscaler.evictor.enabled")
    who, _ = evictor_checks.owner(obs)
    if not ready:
        what = "no evictor pod is running and ready" if evictor_checks.installed(obs) else "the Evictor is not installed"
        extra = " (its policy `nodeDownscaler.evictor.enabled` is false)" if enabled is False else ""
        return _evictor_named(obs, what + extra, Evidence(kind="text", title="Evictor", lines=[what + extra]))
    if enabled is False and who != "self-managed":
        return _evictor_named(obs, "the Evictor policy is off (`nodeDownscaler.evictor.enabled: false`)",
                              json_evidence("policies", policies, "nodeDownscaler.evictor.enabled"))
    return ruled_out(f"{len(ready)} evictor pod(s) running and ready" + ("" if enabled is not False else ", managed by their own installation"))


def _owned_fix_args(obs: Observations) -> dict[str, Any]:
    who, _ = evictor_checks.owner(obs)
    return {"owner": who or "", "release": evictor_checks.release(obs)}


def judge_evictor_dry_run(obs: Observations) -> Judgement:
    # castai/helm-charts@c2de1e1 charts/castai-evictor/values.yaml: dryRun "will just log action(s)"
    if not evictor_checks.installed(obs):
        return ruled_out("the Evictor is not installed")
    try:
        dry = evictor_checks.setting(obs, "dryRun")
    except Undecided as why:
        return unknown(str(why))
    if dry.value is True:
        return _evictor_named(obs, f"the Evictor runs in dry-run mode ({dry.source}): it only logs what it would do",
                              json_evidence(dry.source, dry.document, dry.path), **_owned_fix_args(obs))
    if dry.value is False:
        return ruled_out(f"dry run is off ({dry.source})")
    return unknown(f"{dry.source} is {dry.value!r}, not true or false")


def judge_evictor_self_managed(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go PoliciesV1Evictor (status, allowed:
    # "already existing Evictor installation"); docs.cast.ai evictor-config-ownership (configOwnership)
    policies = obs.get("policies")
    policy = as_dict(dig(policies, "nodeDownscaler.evictor"))
    ownership = obs.get("evictor-ownership")
    if policy.get("enabled") is True and (policy.get("status") == "Incompatible" or policy.get("allowed") is False):
        said = f"status {policy['status']}" if policy.get("status") == "Incompatible" else "allowed: false"
        return _evictor_named(obs, f"the Evictor policy is on but the API reports {said}: an existing Evictor installation "
                              "takes its own settings", json_evidence("policies", policies, "nodeDownscaler.evictor"),
                              **_owned_fix_args(obs))
    if ownership == "self-managed":
        return _evictor_named(obs, "the API's configOwnership is self-managed: the policies' Evictor settings do not apply",
                              Evidence(kind="text", title="GET /workload-eviction/v1/clusters/{id}/config",
                                       lines=['"configOwnership": "self-managed"']), **_owned_fix_args(obs))
    if ownership is None and (failed := obs.failed("evictor-ownership")) and policy.get("status") is None:
        return unknown(f"configOwnership could not be read: {failed}")
    return ruled_out("CAST AI owns the Evictor's settings" if ownership == "castai" else "no sign of a self-managed Evictor")


# --- fixes --------------------------------------------------------------------------------------


def _only_false_fields(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """One field: the switch that is off (`nodeDownscaler.enabled` or `…emptyNodes.enabled`)."""
    if values.get("field") == "nodeDownscaler.emptyNodes.enabled":
        return {"nodeDownscaler": {"emptyNodes": {"enabled": True}}}
    return {"nodeDownscaler": {"enabled": True}}


def _unmark_commands(values: Mapping[str, Any]) -> list[list[str]]:
    return [["kubectl", "label" if where == "label" else "annotate", "node", node, f"{key}-"]
            for node, where, key in values.get("marks") or []]


def owned_fix(patch: Mapping[str, Any], **sets: str) -> dict[str, Any]:
    """A setting of the Evictor changed where its owner keeps it: the policies (CAST AI), or a pinned
    Helm upgrade (self-managed: docs.cast.ai evictor-configuration)."""
    commands, guidance = helm_commands(EVICTOR, **sets), helm_guidance(EVICTOR, **sets)
    return {
        "policies_patch": lambda v: patch if v.get("owner") == "castai" else None,
        "commands": lambda v: commands(v) if v.get("owner") == "self-managed" else [],
        "guidance": lambda v: guidance(v) if v.get("owner") == "self-managed" else None,
    }


def _self_managed_guidance(values: Mapping[str, Any]) -> str:
    release = values.get("release")
    name = getattr(release, "name", EVICTOR)
    return (f"Either configure this Evictor through its Helm values (a pinned `helm upgrade {name} … --reset-then-reuse-values "
            f"--set …`), or hand it to CAST AI: `helm uninstall {name} -n {values.get('ns')}`, then enable the Evictor policy.")


def _cluster_controller_guidance(values: Mapping[str, Any]) -> str:
    return ("Read the log lines above: a 401/403 means the key in the Secret its Deployment references is wrong "
            "(a new key, then `kubectl rollout restart deployment/castai-cluster-controller -n NS`), a transport error "
            "means egress to the CAST AI API is blocked, as for the agent (symptom 1).").replace("NS", str(values.get("ns")))


SYMPTOM = Symptom(
    id=SYMPTOM_ID,
    title="Empty or underused nodes are not removed",
    recognise="nodes with nothing but DaemonSets stay for hours; a drained node stays; the bill does not go down",
    label="no scale-down",
    abbrev="down",
    checks=CHECKS,
    observe=observe,
    causes=(
        cluster_checks.autoscaler_disabled(SYMPTOM_ID),
        cluster_checks.cluster_status_warning(SYMPTOM_ID),
        Cause(
            "node-downscaler-disabled", "The node downscaler is off", judge_downscaler_disabled,
            FixTemplate(
                title="Turn the node downscaler back on",
                explanation="CAST AI removes empty nodes only while nodeDownscaler and its emptyNodes policy are enabled; "
                "castui sets only the switch that is off.",
                policies_patch=_only_false_fields,
                recheck=(SYMPTOM_ID,),
            ),
        ),
        Cause(
            "empty-nodes-delay-high", "The node has been empty for less than the empty-node delay", judge_delay_high,
            FixTemplate(
                title="Wait for the empty-node delay, or lower it",
                explanation="CAST AI waits emptyNodes.delaySeconds ({delay}s) after a node empties before removing it.",
                mutates=False,
                recheck=(SYMPTOM_ID,),
                guidance=lambda v: (f"Wait until {v.get('until')}; to remove empty nodes sooner, lower "
                                    "nodeDownscaler.emptyNodes.delaySeconds (console: Autoscaler → Node deletion; "
                                    "Terraform: castai_autoscaler node_downscaler.empty_nodes.delay_seconds)."),
            ),
        ),
        Cause(
            "node-removal-disabled", "The node is marked removal-disabled", judge_removal_disabled,
            FixTemplate(
                title="Remove the removal-disabled mark, if it was not set on purpose",
                explanation="CAST AI keeps a node marked autoscaling.cast.ai/removal-disabled=true even when it is empty; "
                "someone may have set it on purpose: ask before removing it.",
                commands=_unmark_commands,
                recheck=(SYMPTOM_ID,),
            ),
        ),
        Cause(
            "scoped-mode-excludes", "Scoped mode leaves this node alone", judge_scoped_mode,
            FixTemplate(
                title="Expected in scoped mode",
                explanation="In scoped mode CAST AI removes only nodes labelled provisioner.cast.ai/managed-by=cast.ai.",
                commands=(("kubectl", "get", "node", "{node}", "--show-labels"),),
                mutates=False,
                recheck=(SYMPTOM_ID,),
                guidance=lambda v: ("Nothing is wrong: remove nodes CAST AI did not create yourself, or turn scoped mode "
                                    "off in the autoscaler settings if CAST AI should manage every node."),
            ),
        ),
        Cause(
            "cluster-controller-not-running", "cluster-controller is not running or cannot reach CAST AI",
            cluster_controller.judge_not_running,
            FixTemplate(
                title="Get cluster-controller running and talking to CAST AI",
                explanation="CAST AI drains and deletes nodes through cluster-controller.",
                commands=(("kubectl", "get", "pods", "-n", "{ns}", "-l", "app.kubernetes.io/name=castai-cluster-controller"),),
                mutates=False,
                recheck=(SYMPTOM_ID,),
                guidance=_cluster_controller_guidance,
            ),
        ),
        Cause(
            "pdb-blocking-eviction", "A PodDisruptionBudget holds a pod on the node", judge_pdb_blocking,
            FixTemplate(
                title="Let the PodDisruptionBudget allow a disruption",
                explanation="With 0 disruptions allowed the API refuses to evict {pod}, so {node} cannot drain.",
                commands=(("kubectl", "get", "pdb", "{pdb_name}", "-n", "{pdb_namespace}"),),
                mutates=False,
                recheck=(SYMPTOM_ID,),
                guidance=lambda v: (f"Scale the workload above what PodDisruptionBudget {v.get('pdb')} requires available "
                                    "(minAvailable), or have its owner relax the PDB where it is defined (Helm chart, GitOps). "
                                    "castui does not patch it: the next deploy would put it back."),
            ),
        ),
        Cause(
            "system-pods-blocking-drain", "Pods on the node that the Evictor won't move", judge_system_pods,
            FixTemplate(
                title="Make the pods movable",
                explanation="The Evictor leaves single-replica and bare pods (unless aggressive), StatefulSet pods and pods "
                "marked removal-disabled where they are.",
                commands=(("kubectl", "get", "pod", "{pod_name}", "-n", "{pod_namespace}", "-o", "wide"),),
                mutates=False,
                recheck=(SYMPTOM_ID,),
                guidance=lambda v: (f"Give {v.get('pod')}'s workload more replicas, or have its owner mark its pods "
                                    "disposable (autoscaling.cast.ai/disposable=\"true\" in the pod template): docs.cast.ai evictor."),
            ),
        ),
        Cause(
            "evictor-disabled", "The Evictor is off or not running", judge_evictor_disabled,
            FixTemplate(
                title="Enable the Evictor policy",
                explanation="CAST AI installs the Evictor when its policy is on; underused nodes are drained only by it.",
                policies_patch={"nodeDownscaler": {"evictor": {"enabled": True}}},
                recheck=(SYMPTOM_ID,),
                note="Installed by Terraform? The EKS module sets replicaCount 0: enable the Evictor there (castai_autoscaler).",
            ),
        ),
        Cause(
            "evictor-dry-run", "The Evictor runs in dry-run mode", judge_evictor_dry_run,
            FixTemplate(
                title="Turn the Evictor's dry run off",
                explanation="In dry run the Evictor only logs what it would do. castui changes it where its owner keeps it.",
                recheck=(SYMPTOM_ID,),
                **owned_fix({"nodeDownscaler": {"evictor": {"dryRun": False}}}, dryRun="false"),
            ),
        ),
        Cause(
            "evictor-self-managed", "The Evictor is self-managed: the policies' settings do not apply", judge_evictor_self_managed,
            FixTemplate(
                title="Configure the self-managed Evictor, or hand it to CAST AI",
                explanation="A self-managed Evictor takes its Helm values, not the console's settings.",
                mutates=False,
                recheck=(SYMPTOM_ID,),
                guidance=_self_managed_guidance,
            ),
        ),
    ),
)
