"""7. `evictor-aggressive`: the Evictor evicts too often (guide v2 §7).

Observed: the user names this complaint (`--symptom evictor-aggressive`, or picks it in the app),
or cluster-controller drained more nodes in the last hour than castui's threshold (default 10).
Kubelet `Evicted` events are node-pressure evictions (kubernetes@008b365
pkg/kubelet/eviction/helpers.go), never the Evictor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from castui.diagnosis import Evidence
from castui.tree import cluster_controller, evictor_checks
from castui.tree.cluster_checks import POLICIES
from castui.tree.evictor_checks import EVICTOR_ADVANCED, EVICTOR_CHECK, EVICTOR_OWNERSHIP, Undecided
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
from castui.tree.no_scale_down import owned_fix
from castui.tree.reader import Reader
from castui.tree.reading import as_dict, as_dicts, as_str, dig, event_rows, json_evidence, parse_time

SYMPTOM_ID = "evictor-aggressive"
WINDOW = timedelta(hours=1)
#: CAST AI's autoscaler events (castai/k8s-agent@27ed376 …/filters/autoscalerevents/filter.go); reasons not public
CASTAI_COMPONENT = "autoscaler.cast.ai"
#: disrupted pods looked up, at most
POD_LOOKUPS = 20


def _when(event: dict[str, Any]) -> datetime | None:
    return parse_time(event.get("lastTimestamp") or event.get("eventTime")) or parse_time(event.get("firstTimestamp"))


def _recent(facts: Reader, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    since = facts.now - WINDOW
    return sorted((e for e in events if (t := _when(e)) and t >= since), key=lambda e: _when(e), reverse=True)  # type: ignore[arg-type,return-value]


async def gather_evictions(facts: Reader) -> dict[str, Any]:
    """Kubelet `Evicted` events of the last hour (newest 50) and how many in all."""
    recent = _recent(facts, await facts.events(reason="Evicted"))
    return {"last_hour": recent[:50], "count": len(recent)}


async def gather_castai_events(facts: Reader) -> dict[str, Any]:
    """Events CAST AI's autoscaler reported in the last hour, and what kind of pod each disrupted pod is."""
    recent = _recent(facts, await facts.kube_list("events", None, field_selector=f"reportingComponent={CASTAI_COMPONENT}"))
    pods = list(dict.fromkeys((as_str(as_dict(e.get("involvedObject")).get("namespace")), as_str(as_dict(e.get("involvedObject")).get("name")))
                              for e in recent if as_dict(e.get("involvedObject")).get("kind") == "Pod"))[:POD_LOOKUPS]

    async def kind_of(namespace: str, name: str) -> dict[str, Any]:
        pod = await facts.kube_get("pods", namespace, name)
        if pod is None:
            return {"pod": f"{namespace}/{name}", "kind": "gone"}
        owners = as_dicts(as_dict(pod.get("metadata")).get("ownerReferences"))
        if not owners:
            return {"pod": f"{namespace}/{name}", "kind": "bare pod"}
        owner_kind, owner = as_str(owners[0].get("kind")), as_str(owners[0].get("name"))
        if owner_kind == "Job":
            return {"pod": f"{namespace}/{name}", "kind": "Job pod", "owner": owner}
        if owner_kind == "ReplicaSet":
            replicaset = await facts.kube_get("replicasets", namespace, owner)
            replicas = as_dict((replicaset or {}).get("spec")).get("replicas")
            return {"pod": f"{namespace}/{name}", "kind": "single replica" if replicas == 1 else "replicated",
                    "owner": owner, "replicas": replicas}
        return {"pod": f"{namespace}/{name}", "kind": owner_kind, "owner": owner}

    return {"last_hour": recent[:50], "pods": list(await asyncio.gather(*(kind_of(ns, n) for ns, n in pods)))}


EVICTIONS = Check("evictions", "Kubelet Evicted events in all namespaces (last hour)", gather_evictions,
                  lambda r: f"{r['count']} kubelet evictions in the last hour")
CASTAI_EVENTS = Check("castai-events", "CAST AI autoscaler events (reportingComponent=autoscaler.cast.ai, last hour)",
                      gather_castai_events, lambda r: f"{len(r['last_hour'])} CAST AI autoscaler events in the last hour")

CHECKS = (cluster_controller.CLUSTER_CONTROLLER, EVICTIONS, CASTAI_EVENTS, POLICIES, EVICTOR_CHECK, EVICTOR_OWNERSHIP,
          EVICTOR_ADVANCED)


def recent_drains(obs: Observations) -> list[dict[str, Any]]:
    return cluster_controller.drains(obs, obs.now - WINDOW)


def observe(obs: Observations) -> Observation:
    # guide v2 §7 Observed: the user's complaint, or more drains in the last hour than castui's threshold
    threshold = obs.thresholds.drained_nodes_per_hour
    try:
        drained = cluster_controller.drained_nodes(recent_drains(obs))
    except Exception:
        if obs.named:
            return Observation(True, "you named this complaint (cluster-controller's drains could not be read)")
        raise
    counted = f"cluster-controller drained {len(drained)} node(s) in the last hour (threshold {threshold})"
    if len(drained) > threshold:
        return Observation(True, counted)
    if obs.named:
        return Observation(True, f"you named this complaint; {counted}")
    return Observation(False, counted)


def _castai_events(obs: Observations) -> list[dict[str, Any]]:
    return as_dicts(as_dict(obs["castai-events"]).get("last_hour"))


def judge_storm(obs: Observations) -> Judgement:
    # guide v2 §7: self-evident, the drains and CAST AI's events as a table by node and time
    drains = recent_drains(obs)
    events = _castai_events(obs)
    threshold = obs.thresholds.drained_nodes_per_hour
    drained = cluster_controller.drained_nodes(drains)
    if len(drained) > threshold or (obs.named and (drains or events)):
        evidence = [cluster_controller.drains_table(drains)] if drains else []
        if events:
            evidence.append(Evidence(kind="events", title="CAST AI autoscaler events (last hour)", data=event_rows(events)))
        return confirmed(f"in the last hour cluster-controller drained {len(drained)} node(s) and CAST AI reported "
                         f"{len(events)} autoscaler event(s)", *evidence)
    if obs.named:
        return ruled_out("no CAST AI drain or autoscaler event in the last hour")
    return ruled_out(f"{len(drained)} node(s) drained in the last hour, within the threshold of {threshold}")


def judge_cluster_controller_drains(obs: Observations) -> Judgement:
    # castai/cluster-controller@5919ac5 internal/actions/drain_node_handler.go: CAST AI's own drains
    # (rebalancing, spot interruptions) log `draining kubernetes node` with `node_name`
    drains = recent_drains(obs)
    named = set(obs.named_nodes)
    matching = [d for d in drains if not named or d["node"] in named]
    if not matching:
        return ruled_out("cluster-controller drained none of " + ", ".join(sorted(named)) if named
                         else "cluster-controller drained no node in the last hour")
    nodes = cluster_controller.drained_nodes(matching) or [d["node"] for d in matching]
    return confirmed(f"cluster-controller drained {', '.join(nodes[:5])}" + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")
                     + " in the last hour: CAST AI's rebalancing or spot handling, not the Evictor",
                     cluster_controller.drains_table(matching))


def judge_node_pressure(obs: Observations) -> Judgement:
    # kubernetes@008b365 pkg/kubelet/eviction/helpers.go (Reason "Evicted": the kubelet's node-pressure evictions)
    evictions = as_dict(obs["evictions"])
    events = as_dicts(evictions.get("last_hour"))
    if not events:
        return ruled_out("no kubelet Evicted event in the last hour")
    return confirmed(f"the kubelet evicted pods {evictions.get('count', len(events))} time(s) in the last hour for node pressure "
                     f"(e.g. {as_str(as_dict(events[0].get('involvedObject')).get('name'))}: {as_str(events[0].get('message'))[:120]})",
                     Evidence(kind="events", title="kubelet Evicted events (last hour)", data=event_rows(events)))


def _aggressive_rules(obs: Observations, owner: str) -> list[dict[str, Any]]:
    """Advanced rules that turn aggressive mode on for some pods or nodes."""
    if owner == "castai":
        rules = as_dicts(obs.get("evictor-advanced-config"))
        return [r for r in rules if dig(r, "settings.aggressive.enabled") is True]
    rules = as_dicts(dig(evictor_checks.evictor(obs), "evictorconfig.spec.evictionRules"))
    return [r for r in rules if dig(r, "settings.aggressive") is True or dig(r, "settings.aggressive.enabled") is True]


def _running_for_real(obs: Observations) -> Judgement | None:
    """ruled_out when no Evictor runs or it only pretends (dry run); unknown when castui cannot tell."""
    if not evictor_checks.installed(obs):
        return ruled_out("the Evictor is not installed")
    if not evictor_checks.ready_pods(obs):
        return ruled_out("no evictor pod is running and ready")
    try:
        dry = evictor_checks.setting(obs, "dryRun")
    except Undecided as why:
        return unknown(str(why))
    if dry.value is True:
        return ruled_out(f"the Evictor runs in dry run ({dry.source}): it evicts nothing")
    return None


def judge_aggressive(obs: Observations) -> Judgement:
    # docs.cast.ai evictor-advanced-configuration: aggressive mode also targets single replicas, bare pods and Jobs
    if (stop := _running_for_real(obs)) is not None:
        return stop
    try:
        mode = evictor_checks.setting(obs, "aggressiveMode")
    except Undecided as why:
        return unknown(str(why))
    rules = _aggressive_rules(obs, mode.owner)
    if mode.value is not True and not rules:
        return ruled_out(f"aggressive mode is off ({mode.source})")
    where = f"{mode.source}" if mode.value is True else f"{len(rules)} advanced rule(s)"
    evidence = [json_evidence(mode.source, mode.document, mode.path)] if mode.value is True else [
        Evidence(kind="json", title="advanced Evictor rules with aggressive mode", data=rules)]
    targets = [p for p in as_dicts(as_dict(obs["castai-events"]).get("pods"))
               if p.get("kind") in ("single replica", "bare pod", "Job pod")]
    if not targets:
        return unknown(f"aggressive mode is on ({where}) but no disrupted pod is one only aggressive mode moves "
                       "(the Evictor's own logs are not public)", *evidence)
    rows = [["POD", "KIND"]] + [[as_str(p.get("pod")), as_str(p.get("kind"))] for p in targets]
    return confirmed(f"aggressive mode is on ({where}) and CAST AI disrupted {targets[0]['pod']} ({targets[0]['kind']}), "
                     "which only aggressive mode moves", *evidence,
                     Evidence(kind="table", title="disrupted pods only aggressive mode moves", data=rows),
                     owner=mode.owner if mode.value is True else "rule", release=evictor_checks.release(obs))


def judge_cycle_short(obs: Observations) -> Judgement:
    # castai/helm-charts@c2de1e1 charts/castai-evictor/values.yaml (cycleInterval default "1m"); docs.cast.ai how-it-works
    if (stop := _running_for_real(obs)) is not None:
        return stop
    try:
        cycle = evictor_checks.setting(obs, "cycleInterval")
    except Undecided as why:
        return unknown(str(why))
    seconds = evictor_checks.go_duration_seconds(cycle.value)
    if seconds is None:
        return unknown(f"{cycle.source} is {cycle.value!r}, not a Go duration")
    if seconds >= 60:
        return ruled_out(f"the Evictor cycles every {cycle.value} ({cycle.source}), not below the 1m default")
    return confirmed(f"the Evictor cycles every {cycle.value} ({cycle.source}), below the chart's 1m default",
                     json_evidence(cycle.source, cycle.document, cycle.path),
                     owner=cycle.owner, release=evictor_checks.release(obs))


def _rule_guidance(values: Mapping[str, Any]) -> str | None:
    if values.get("owner") == "rule":
        return ("Aggressive mode comes from advanced Evictor rules: narrow or remove them (console: Evictor → Advanced "
                "configuration; Terraform: castai_evictor_advanced_config).")
    return None


def _with_rule_guidance(fix: dict[str, Any]) -> dict[str, Any]:
    guidance = fix["guidance"]
    return {**fix, "guidance": lambda v: _rule_guidance(v) or guidance(v)}


SYMPTOM = Symptom(
    id=SYMPTOM_ID,
    title="The evictor evicts too often",
    recognise="pods are moved again and again; nodes are drained one after another",
    label="evicts too often",
    abbrev="evict",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("eviction-storm", "Many drains and CAST AI disruptions in the last hour", judge_storm,
              FixTemplate(title="See what CAST AI disrupted",
                          explanation="The drains and CAST AI's autoscaler events of the last hour, by node and time; the "
                          "causes below say which part of CAST AI did it.",
                          commands=(("kubectl", "get", "events", "-A", "--field-selector",
                                     f"reportingComponent={CASTAI_COMPONENT}", "--sort-by=.lastTimestamp"),),
                          mutates=False, recheck=(SYMPTOM_ID,))),
        Cause("cluster-controller-drains", "CAST AI drained the nodes (rebalancing, spot), not the Evictor",
              judge_cluster_controller_drains,
              FixTemplate(title="Review rebalancing schedules and spot settings",
                          explanation="cluster-controller drains nodes for rebalancing plans and spot interruptions.",
                          mutates=False, recheck=(SYMPTOM_ID,),
                          guidance=lambda v: ("Console: Rebalancer → schedules (how often, which nodes), and the node "
                                              "templates' spot settings (interruptions drain spot nodes)."))),
        Cause("node-pressure-evictions", "The kubelet evicted pods for node pressure (not CAST AI)", judge_node_pressure,
              FixTemplate(title="Give those pods requests and limits that fit",
                          explanation="The kubelet evicts pods when a node runs low on memory, disk or PIDs; the Evictor "
                          "has no part in it.",
                          commands=(("kubectl", "get", "events", "-A", "--field-selector", "reason=Evicted",
                                     "--sort-by=.lastTimestamp"),),
                          mutates=False, recheck=(SYMPTOM_ID,))),
        Cause("evictor-aggressive-mode", "The Evictor runs in aggressive mode", judge_aggressive,
              FixTemplate(title="Turn aggressive mode off",
                          explanation="Aggressive mode also moves single replicas, bare pods and Jobs. castui changes it "
                          "where the Evictor's owner keeps it: the policies (CAST AI), or its Helm values (self-managed).",
                          recheck=(SYMPTOM_ID,),
                          note="The field guide's `evictor.aggressiveMode` is not a chart key.",
                          **_with_rule_guidance(owned_fix({"nodeDownscaler": {"evictor": {"aggressiveMode": False}}},
                                                          aggressiveMode="false")))),
        Cause("evictor-cycle-short", "The Evictor cycles faster than its 1m default", judge_cycle_short,
              FixTemplate(title="Set the Evictor's cycle back to 1m",
                          explanation="A cycle below 1m looks for nodes to drain more often than CAST AI's default.",
                          recheck=(SYMPTOM_ID,),
                          note="The field guide's `cycleInterval=600` is not a Go duration (`10m` is).",
                          **owned_fix({"nodeDownscaler": {"evictor": {"cycleInterval": "1m"}}}, cycleInterval="1m"))),
    ),
)
