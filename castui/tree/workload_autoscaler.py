"""10. `workload-autoscaler`: the workload autoscaler gives no recommendations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
    unknown,
)
from castui.tree.reading import Evidence, is_ready, name_of, namespaced_name, pods_table, started_at

AUTOSCALER = "castai-workload-autoscaler"
REAL_ANNOTATION = "workloads.cast.ai/configuration"
#: keys CAST AI's evictor really reads; other autoscaling.cast.ai/* keys are look-alikes
EVICTOR_KEYS = {"autoscaling.cast.ai/removal-disabled", "autoscaling.cast.ai/disposable"}
V1_PREFIXES = ("workloads.cast.ai/vertical-autoscaling", "workloads.cast.ai/scaling-policy", "workloads.cast.ai/apply-type",
               "workloads.cast.ai/cpu-", "workloads.cast.ai/memory-")


async def gather_autoscaler_pods(facts: Facts) -> list[dict[str, Any]]:
    return await facts.pods_of(AUTOSCALER)


async def gather_metrics_server(facts: Facts) -> bool:
    return any("metrics-server" in name_of(w) for w in await facts.workload_controllers())


async def gather_recommendations(facts: Facts) -> list[dict[str, Any]]:
    return [w.model_dump(mode="json", by_alias=True) for w in await facts.workloads()]


async def gather_annotations(facts: Facts) -> list[dict[str, Any]]:
    """Workloads that were meant to be autoscaled but carry no configuration CAST AI reads, plus the named ones."""
    named = set(facts.settings.workloads)
    found = []
    for workload in await facts.workload_controllers():
        annotations = workload.get("metadata", {}).get("annotations") or {}
        if REAL_ANNOTATION in annotations:
            continue
        lookalikes = [k for k in annotations if k.startswith("autoscaling.cast.ai/") and k not in EVICTOR_KEYS]
        deprecated = [k for k in annotations if k.startswith(V1_PREFIXES)]
        if lookalikes or deprecated or namespaced_name(workload) in named:
            found.append({"workload": namespaced_name(workload), "kind": workload.get("kind", "Deployment"),
                          "lookalikes": lookalikes, "deprecated": deprecated})
    return found


CHECKS = (
    Check("autoscaler-pods", "castai-workload-autoscaler pods", gather_autoscaler_pods,
          lambda ps: f"{sum(is_ready(p) for p in ps)} of {len(ps)} ready" if ps else "no pods"),
    Check("metrics-server", "metrics-server installed", gather_metrics_server, lambda ok: "present" if ok else "absent"),
    Check("recommendations", "Workload recommendations from the API", gather_recommendations,
          lambda ws: f"{len(ws)} workloads"),
    Check("workload-annotations", "Workloads meant to be autoscaled without a CAST AI configuration", gather_annotations,
          lambda ws: f"{len(ws)} without configuration"),
)


def low_confidence(obs: Observations) -> list[dict[str, Any]]:
    threshold = obs.thresholds.confidence
    low = []
    for w in obs["recommendations"]:
        status = w.get("recommendationStatus") or {}
        confidence = (w.get("recommendation") or {}).get("confidence")
        if status.get("lowConfidence") or (confidence is not None and confidence < threshold):
            low.append(w)
    return low


def observe(obs: Observations) -> Observation:
    pods = obs["autoscaler-pods"]
    if not any(is_ready(p) for p in pods):
        return Observation(True, "the workload autoscaler is not running")
    low = low_confidence(obs) if obs.get("recommendations") is not None else []
    if low:
        return Observation(True, f"{len(low)} workloads have low-confidence recommendations")
    return Observation(False, "the autoscaler runs and its recommendations are confident")


def judge_not_running(obs: Observations) -> Judgement:
    pods = obs["autoscaler-pods"]
    if not pods:
        return confirmed("no castai-workload-autoscaler pod exists in the namespace")
    if not any(is_ready(p) for p in pods):
        return confirmed(f"none of the {len(pods)} workload-autoscaler pods has a running, ready container",
                         pods_table("workload-autoscaler pods", pods))
    return ruled_out("the workload autoscaler runs")


def judge_insufficient_metrics(obs: Observations) -> Judgement:
    pods = [p for p in obs["autoscaler-pods"] if is_ready(p)]
    low = low_confidence(obs)
    if low:
        eta = next(((w.get("recommendation") or {}).get("estimatedThresholdReachedAt") for w in low
                    if (w.get("recommendation") or {}).get("estimatedThresholdReachedAt")), None)
        rows = [["WORKLOAD", "CONFIDENCE", "LOW CONFIDENCE", "READY AT"]] + [
            [f"{w.get('namespace')}/{w.get('name')}", str((w.get("recommendation") or {}).get("confidence")),
             str((w.get("recommendationStatus") or {}).get("lowConfidence")),
             str((w.get("recommendation") or {}).get("estimatedThresholdReachedAt") or "")] for w in low]
        return confirmed(f"{len(low)} workloads lack metrics for a confident recommendation" + (f"; expected ready at {eta}" if eta else ""),
                         Evidence(kind="table", title="low-confidence workloads", data=rows), until=eta or "24 hours of metrics")
    starts = [t for p in pods if (t := started_at(p))]
    if starts:
        running_for = obs.now - min(starts)
        needed = timedelta(hours=obs.thresholds.metrics_hours)
        if running_for < needed:
            until = (min(starts) + needed).isoformat(timespec="minutes")
            return confirmed(f"the autoscaler has run for {running_for.total_seconds() / 3600:.1f} h of the {obs.thresholds.metrics_hours} h it needs; wait until {until}",
                             until=until)
    if not pods:
        return unknown("the autoscaler is not running, so its metrics cannot be judged")
    return ruled_out("recommendations are confident and the autoscaler has run long enough")


def judge_missing_annotation(obs: Observations) -> Judgement:
    missing = obs["workload-annotations"]
    if not missing:
        return ruled_out("every workload meant to be autoscaled carries workloads.cast.ai/configuration")
    first = missing[0]
    why = []
    if first["lookalikes"]:
        why.append(f"it has {', '.join(first['lookalikes'])}, which CAST AI does not read")
    if first["deprecated"]:
        why.append(f"it has deprecated v1 keys {', '.join(first['deprecated'])}")
    rows = [["WORKLOAD", "LOOK-ALIKE KEYS", "DEPRECATED KEYS"]] + [
        [m["workload"], ", ".join(m["lookalikes"]), ", ".join(m["deprecated"])] for m in missing]
    namespace, _, name = first["workload"].partition("/")
    return confirmed(
        f"{first['workload']} has no workloads.cast.ai/configuration" + (f": {'; '.join(why)}" if why else ""),
        Evidence(kind="table", title="workloads without a CAST AI configuration", data=rows),
        workload=name, workload_namespace=namespace, workload_kind=first["kind"].lower(),
    )


SYMPTOM = Symptom(
    id="workload-autoscaler",
    title="The workload autoscaler gives no recommendations",
    recognise="the console shows no or low-confidence recommendations; requests never change",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("workload-autoscaler-not-running", "The workload autoscaler is not running", judge_not_running,
              FixTemplate(title="Restart the workload autoscaler",
                          explanation="Restart it; if it does not come back, reinstall the castai-workload-autoscaler chart.",
                          commands=(("kubectl", "rollout", "restart", "deployment/castai-workload-autoscaler", "-n", "{ns}"),),
                          recheck=("workload-autoscaler",))),
        Cause("insufficient-metrics", "Not enough metrics yet", judge_insufficient_metrics,
              FixTemplate(title="Wait for metrics",
                          explanation="Recommendations need metrics over the look-back window; wait until {until}.",
                          mutates=False, recheck=("workload-autoscaler",))),
        Cause("missing-annotation", "Workloads lack the CAST AI configuration annotation", judge_missing_annotation,
              FixTemplate(title="Annotate the workload with workloads.cast.ai/configuration",
                          explanation="CAST AI reads workloads.cast.ai/configuration (a YAML string) on the Deployment or "
                          "StatefulSet, not on the pod. `autoscaling.cast.ai/enabled: \"true\"` from the field guide is not "
                          "an annotation CAST AI reads.",
                          commands=(("kubectl", "annotate", "{workload_kind}/{workload}", "-n", "{workload_namespace}",
                                     "workloads.cast.ai/configuration=vertical: {{optimization: on}}", "--overwrite"),),
                          recheck=("workload-autoscaler",))),
    ),
)
