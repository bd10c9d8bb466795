"""10. `workload-autoscaler`: the workload autoscaler gives no recommendations.

Guide v2 §10. Only workloads *in question* count: named with `--workload NS/NAME`, configured for
the autoscaler (the `workloads.cast.ai/configuration` annotation, or optimization turned on through
the API), or carrying a look-alike key. Everything else in `GET …/workloads` is just watched
(read-only onboarding lists every workload), so it proves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import yaml

from castui.diagnosis import Evidence, LogSource
from castui.tree.agent_checks import AGENT_LOGS
from castui.tree.helm_mismatch import gather_releases
from castui.tree.logs import parse_lines, persistent
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
    is_ready,
    json_evidence,
    log_evidence,
    name_of,
    namespaced_name,
    pods_table,
)
from castui.tree.releases import UMBRELLA_CHARTS

AUTOSCALER = "castai-workload-autoscaler"
REAL_ANNOTATION = "workloads.cast.ai/configuration"
METRICS_API = "v1beta1.metrics.k8s.io"
#: autoscaling.cast.ai/* keys CAST AI really reads (the Evictor's); other ones are look-alikes, e.g. the
#: field guide's `autoscaling.cast.ai/enabled` (castai-facts.md §5: in no CAST AI chart, doc or provider)
EVICTOR_KEYS = frozenset({"autoscaling.cast.ai/removal-disabled", "autoscaling.cast.ai/disposable"})
#: deprecated v1 keys still work (docs.cast.ai workload-autoscaler-legacy-annotations-reference): a note
V1_PREFIXES = ("workloads.cast.ai/vertical-autoscaling", "workloads.cast.ai/scaling-policy", "workloads.cast.ai/apply-type",
               "workloads.cast.ai/cpu-", "workloads.cast.ai/memory-")
#: the agent's line when the metrics API fails, every 30 s or less often (castai/k8s-agent@27ed376
#: internal/services/controller/informers/podmetrics.go)
POD_METRICS_FAILED = re.compile(r"Failed getting pod metrics, check metrics server health:")
POD_METRICS_CYCLE = timedelta(seconds=30)
APPLIED = "STATUS_APPLIED"


# --- checks -------------------------------------------------------------------------------------


async def gather_deployment(facts: Reader) -> dict[str, Any] | None:
    deployment = await facts.deployment(AUTOSCALER)
    if deployment is None:
        return None
    spec, status = as_dict(deployment.get("spec")), as_dict(deployment.get("status"))
    return {"name": name_of(deployment), "replicas": spec.get("replicas"), "readyReplicas": status.get("readyReplicas")}


async def gather_autoscaler_pods(facts: Reader) -> list[dict[str, Any]]:
    return await facts.pods_of(AUTOSCALER)


async def gather_recommendations(facts: Reader) -> list[dict[str, Any]]:
    return [w.model_dump(mode="json", by_alias=True, exclude_none=True) for w in await facts.workloads()]


async def gather_scaling_policies(facts: Reader) -> list[dict[str, Any]]:
    return await facts.workload_scaling_policies()


async def gather_annotations(facts: Reader) -> list[dict[str, Any]]:
    """Workload controllers with a CAST AI configuration, a look-alike key, or a name the user gave."""
    named = set(facts.settings.workloads)
    found = []
    for workload in await facts.workload_controllers():
        meta = as_dict(workload.get("metadata"))
        annotations = {str(k): as_str(v) for k, v in as_dict(meta.get("annotations")).items()}
        template_meta = as_dict(as_dict(as_dict(workload.get("spec")).get("template")).get("metadata"))
        on_template = REAL_ANNOTATION in as_dict(template_meta.get("annotations"))
        lookalikes = sorted(k for k in annotations if k.startswith("autoscaling.cast.ai/") and k not in EVICTOR_KEYS)
        deprecated = sorted(k for k in annotations if k.startswith(V1_PREFIXES))
        configuration = annotations.get(REAL_ANNOTATION)
        if configuration is not None or lookalikes or on_template or deprecated or namespaced_name(workload) in named:
            found.append({"workload": namespaced_name(workload), "kind": as_str(workload.get("kind"), "Deployment"),
                          "configuration": configuration, "lookalikes": lookalikes, "on_pod_template": on_template,
                          "deprecated": deprecated, "named": namespaced_name(workload) in named})
    return found


async def gather_metrics_api(facts: Reader) -> dict[str, Any] | None:
    """metrics-server's APIService and its `Available` condition (None: not registered)."""
    service = await facts.api_service(METRICS_API)
    if service is None:
        return None
    conditions = as_dicts(as_dict(service.get("status")).get("conditions"))
    available = next((c for c in conditions if c.get("type") == "Available"), None)
    return {"name": METRICS_API, "available": None if available is None else available.get("status") == "True",
            "reason": as_str((available or {}).get("reason")), "message": as_str((available or {}).get("message"))}


CHECKS = (
    Check("autoscaler-deployment", "Deployment castai-workload-autoscaler", gather_deployment,
          lambda d: "not installed" if d is None else f"{d.get('readyReplicas') or 0} of {d.get('replicas')} ready"),
    Check("autoscaler-pods", "castai-workload-autoscaler pods", gather_autoscaler_pods,
          lambda ps: f"{sum(is_ready(p) for p in ps)} of {len(ps)} ready" if ps else "no pods"),
    Check("helm-releases", "Helm releases in the namespace (from their Secrets)", gather_releases,
          lambda rs: ", ".join(f"{r['name']} {r['version']}" for r in rs) or "no releases"),
    Check("recommendations", "Workload recommendations from the API", gather_recommendations,
          lambda ws: f"{len(ws)} workloads"),
    Check("scaling-policies", "Workload scaling policies from the API", gather_scaling_policies,
          lambda ps: f"{len(ps)} policies"),
    Check("workload-annotations", "Workloads configured for the autoscaler, or with look-alike keys", gather_annotations,
          lambda ws: f"{len(ws)} workloads"),
    Check("metrics-api", "APIService v1beta1.metrics.k8s.io (metrics-server)", gather_metrics_api,
          lambda s: "not registered" if s is None else "available" if s["available"] else "not available"),
    AGENT_LOGS,  # every replica polls pod metrics (shared with symptoms 1 and 2: one read per replica)
)


# --- what is in question --------------------------------------------------------------------------


def api_configured(workload: Mapping[str, Any]) -> bool:
    """Optimization turned on through the API/console: the vertical config is MANAGED (SDK
    `WorkloadoptimizationV1VPAConfig.managementOption`; READ_ONLY only collects metrics)."""
    vpa = as_dict(as_dict(workload.get("workloadConfigV2")).get("vpaConfig"))
    return vpa.get("managementOption") == "MANAGED"


def in_question(obs: Observations) -> list[dict[str, Any]]:
    """The workloads in question, each with its API entry (None when the API does not list it)."""
    api = {f"{w.get('namespace')}/{w.get('name')}": w for w in as_dicts(obs["recommendations"])}
    found: dict[str, dict[str, Any]] = {}
    for workload in as_dicts(obs["workload-annotations"]):
        found[workload["workload"]] = {**workload, "api": api.get(workload["workload"])}
    for key, entry in api.items():
        if key not in found and (api_configured(entry) or key in obs.settings.workloads):
            found[key] = {"workload": key, "kind": as_str(entry.get("kind"), "Deployment"), "configuration": None,
                          "lookalikes": [], "on_pod_template": False, "deprecated": [], "named": True, "api": entry}
    for key in obs.settings.workloads:  # named, yet neither in the cluster nor in the API: a typo?
        found.setdefault(key, {"workload": key, "kind": "Deployment", "configuration": None, "lookalikes": [],
                               "on_pod_template": False, "deprecated": [], "named": True, "api": None, "unknown": True})
    return list(found.values())


def configured(workload: Mapping[str, Any]) -> bool:
    return workload.get("configuration") is not None or (workload.get("api") is not None and api_configured(workload["api"]))


def problem(workload: Mapping[str, Any], threshold: float) -> str | None:
    """Why the workload is observed: no recommendation, not applied, low confidence, an error."""
    entry = workload.get("api")
    if workload.get("unknown"):
        return "no such Deployment or StatefulSet in the cluster, and not listed by the workloads API (check the name)"
    if entry is None:
        return "not listed by the workloads API"
    status = as_dict(entry.get("recommendationStatus"))
    if error := workload_error(entry):
        return error
    if not entry.get("recommendation"):
        return "no recommendation"
    if low := low_confidence(entry, threshold):
        return low
    if status.get("type") != APPLIED:
        return f"status {status.get('type') or 'missing'}"
    return None


def workload_error(entry: Mapping[str, Any]) -> str | None:
    """SDK: `error`/`errorTitle`, `recommendationStatus.error{type,message}`, `stopReason{type,message}`."""
    status = as_dict(entry.get("recommendationStatus"))
    parts = []
    if entry.get("error") or entry.get("errorTitle"):
        parts.append(": ".join(as_str(v) for v in (entry.get("errorTitle"), entry.get("error")) if v))
    for field in ("error", "stopReason"):
        detail = as_dict(status.get(field))
        if detail:
            parts.append(": ".join(as_str(v) for v in (detail.get("type"), detail.get("message")) if v))
    return "; ".join(p for p in parts if p) or None


def low_confidence(entry: Mapping[str, Any], threshold: float) -> str | None:
    status = as_dict(entry.get("recommendationStatus"))
    confidence = as_dict(entry.get("recommendation")).get("confidence")
    if status.get("lowConfidence") is True:
        return "low confidence" + (f" ({confidence:.2f})" if isinstance(confidence, (int, float)) else "")
    if isinstance(confidence, (int, float)) and confidence < threshold:
        return f"confidence {confidence:.2f} below the threshold {threshold:g}"
    return None


def threshold_of(obs: Observations, entry: Mapping[str, Any] | None) -> float:
    """The workload's scaling policy's `recommendationPolicies.confidence.threshold`, else 0.9
    ("When not defined on scaling policy level or workload level, defaults to 0.9": SDK
    `WorkloadoptimizationV1ConfidenceSettings`); castui's `confidence` threshold is that default."""
    default = obs.thresholds.confidence
    if entry is None:
        return default
    for policy in as_dicts(obs.get("scaling-policies", [])):
        if policy.get("id") == entry.get("scalingPolicyId") or policy.get("name") == entry.get("scalingPolicyName"):
            value = as_dict(as_dict(policy.get("recommendationPolicies")).get("confidence")).get("threshold")
            return float(value) if isinstance(value, (int, float)) else default
    return default


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def observed_workloads(obs: Observations) -> list[tuple[dict[str, Any], str]]:
    return [(w, why) for w in in_question(obs) if (why := problem(w, threshold_of(obs, w.get("api"))))]


def workloads_table(title: str, rows: list[tuple[dict[str, Any], str]]) -> Evidence:
    data = [["WORKLOAD", "STATUS", "CONFIDENCE", "WHY"]]
    for workload, why in rows:
        entry = as_dict(workload.get("api"))
        data.append([workload["workload"], as_str(as_dict(entry.get("recommendationStatus")).get("type")),
                     as_str(as_dict(entry.get("recommendation")).get("confidence")), why])
    return Evidence(kind="table", title=title, data=data)


def observe(obs: Observations) -> Observation:
    found = observed_workloads(obs)
    if found:
        return Observation(True, "; ".join(f"{w['workload']}: {why}" for w, why in found[:3])
                           + (f" (and {len(found) - 3} more)" if len(found) > 3 else ""))
    asked = in_question(obs)
    if not asked:
        return Observation(False, "no workload is configured for the workload autoscaler")
    return Observation(False, f"{plural(len(asked), 'workload')} in question: applied, confident recommendations")


# --- causes --------------------------------------------------------------------------------------


def installed(obs: Observations) -> bool:
    return obs["autoscaler-deployment"] is not None or bool(obs["autoscaler-pods"])


def judge_not_running(obs: Observations) -> Judgement:
    pods = obs["autoscaler-pods"]
    if installed(obs):
        if any(is_ready(p) for p in pods):
            return ruled_out(f"{sum(is_ready(p) for p in pods)} of {len(pods)} workload-autoscaler pods are running and ready")
        deployment = as_dict(obs["autoscaler-deployment"])
        # guide v2 §10: installed with no running, ready pod
        return confirmed(
            f"the workload autoscaler is installed but none of its {len(pods)} pods is running and ready"
            + (" (its Deployment is scaled to 0)" if deployment.get("replicas") == 0 else ""),
            pods_table("workload-autoscaler pods", pods) if pods
            else json_evidence("Deployment castai-workload-autoscaler", deployment, "replicas"),
            installed="yes", scaled_to_zero="yes" if deployment.get("replicas") == 0 else "")
    users = [w for w in in_question(obs) if configured(w)]
    if not users:
        # read-only and node-autoscaler installs omit it (castai/helm-charts@daa4628 charts/castai-umbrella/README.md)
        return ruled_out("the workload autoscaler is not installed, and no workload is configured for it "
                         "(read-only and node-autoscaler installs omit it)")
    releases = as_dicts(obs.get("helm-releases", []))
    umbrella = next((r for r in releases if r.get("chart") in UMBRELLA_CHARTS), None)
    terraform = any(r.get("terraform") for r in releases)
    return confirmed(
        f"the workload autoscaler is not installed, yet {plural(len(users), 'workload')} "
        f"{'is' if len(users) == 1 else 'are'} configured for it: "
        + ", ".join(w["workload"] for w in users[:5]),
        Evidence(kind="table", title="workloads configured for the workload autoscaler",
                 data=[["WORKLOAD", "CONFIGURED BY"], *([w["workload"], "annotation" if w.get("configuration") is not None
                                                         else "API"] for w in users)]),
        installed="", umbrella=as_str((umbrella or {}).get("name")), terraform="yes" if terraform else "")


def not_running_commands(values: Mapping[str, Any]) -> list[list[str]]:
    """A restart only of a Deployment that exists and has replicas; never of one that doesn't."""
    if not values.get("installed") or values.get("scaled_to_zero"):
        return []
    return [["kubectl", "rollout", "restart", "deployment/castai-workload-autoscaler", "-n", str(values["ns"])]]


def not_running_guidance(values: Mapping[str, Any]) -> str | None:
    if values.get("installed"):
        if values.get("scaled_to_zero"):
            return "Its Deployment is scaled to 0: scale it back through the release that installed it (Helm or Terraform)."
        return None
    if values.get("umbrella"):
        # castai/helm-charts@daa4628 charts/castai-umbrella: the modes are mutually exclusive tags
        return (f"Install it through the umbrella release {values['umbrella']}: switch its mode to `workload-autoscaler` "
                "or `full` (e.g. `--set tags.readonly=false --set tags.workload-autoscaler=true` in a pinned upgrade "
                "with --reset-then-reuse-values).")
    if values.get("terraform"):
        return "Terraform installed CAST AI here: set `install_workload_autoscaler = true` in the module and run `terraform apply`."
    # docs.cast.ai workload-autoscaling-configuration; the EKS module passes castai.apiKeySecretRef and configMapRef
    return ("Install castai-workload-autoscaler and castai-workload-autoscaler-exporter from castai-helm "
            "(docs.cast.ai workload-autoscaling-configuration), with `castai.apiKeySecretRef` and `castai.configMapRef` "
            "= castai-cluster-controller, as the Terraform module does.")


def judge_insufficient_metrics(obs: Observations) -> Judgement:
    asked = in_question(obs)
    if not asked:
        return ruled_out("no workload is configured for the workload autoscaler")
    low = []
    missing = []
    for workload in asked:
        entry = workload.get("api")
        if entry is None:
            continue  # not listed: the API has no metrics to judge (see missing-annotation, not-running)
        if not entry.get("recommendation"):
            missing.append(workload["workload"])
        elif why := low_confidence(entry, threshold_of(obs, entry)):
            low.append((workload, why))
    if low:
        # guide v2 §10: recommendationStatus.lowConfidence, or confidence below the policy's threshold (SDK)
        eta = next((as_str(as_dict(w["api"].get("recommendation")).get("estimatedThresholdReachedAt")) for w, _ in low
                    if as_dict(w["api"].get("recommendation")).get("estimatedThresholdReachedAt")), "")
        return confirmed(", ".join(f"{w['workload']}: {why}" for w, why in low) + (f"; confident by {eta}" if eta else ""),
                         workloads_table("low-confidence recommendations", low), until=eta or "the confidence threshold is reached")
    if missing:
        return unknown("no recommendation yet, so no confidence to judge, for " + ", ".join(missing[:5]))
    # pod age is no evidence (guide v2 §10): only the API's confidence counts
    return ruled_out("every workload in question has a confident recommendation")


def metrics_trouble(obs: Observations) -> tuple[str, Evidence] | None:
    """metrics-server's APIService absent or not Available, or the agent persistently failing to read pod metrics."""
    for replica in as_dicts(as_dict(obs.get("agent-logs", {})).get("replicas")):
        lines = [as_str(line) for line in replica.get("current") or []]
        hits = persistent(parse_lines(lines), POD_METRICS_FAILED, cycle=POD_METRICS_CYCLE)
        if hits:
            pod = as_str(replica.get("pod"))
            source = LogSource(namespace=obs.namespace, pod=pod, container=replica.get("container"))
            return f"agent {pod} keeps failing to read pod metrics", log_evidence(f"{pod} (agent)", lines, hits, source)
    service = obs["metrics-api"]
    if service is None:
        return (f"APIService {METRICS_API} is not registered: metrics-server is not installed",
                Evidence(kind="text", title=f"APIService {METRICS_API}", lines=["not found"]))
    if service.get("available") is not True:
        return (f"APIService {METRICS_API} is not Available ({service.get('reason') or 'no Available condition'})",
                json_evidence(f"APIService {METRICS_API}", service, "available"))
    return None


def judge_metrics_server(obs: Observations) -> Judgement:
    trouble = metrics_trouble(obs)
    if trouble is None:
        return ruled_out(f"APIService {METRICS_API} is Available and the agent reads pod metrics")
    reason, evidence = trouble
    if not installed(obs) and not any(configured(w) for w in in_question(obs)):
        return ruled_out(f"{reason}, but the workload autoscaler is neither installed nor used")
    starving = []
    for workload in in_question(obs):
        entry = workload.get("api")
        if entry is None or not entry.get("recommendation"):
            starving.append((workload, "no recommendation"))
        elif why := low_confidence(entry, threshold_of(obs, entry)):
            starving.append((workload, why))
    if starving:
        # guide v2 §10: a prerequisite (docs.cast.ai workload-autoscaling-overview), tied to starving workloads
        return confirmed(f"{reason}; " + ", ".join(f"{w['workload']}: {why}" for w, why in starving[:5]),
                         evidence, workloads_table("workloads without confident recommendations", starving))
    return latent(f"{reason}: recommendations would lack metrics", evidence)


def judge_workload_error(obs: Observations) -> Judgement:
    errors = [(w, why) for w in in_question(obs) if w.get("api") is not None and (why := workload_error(w["api"]))]
    if errors:
        # self-evident (SDK): error/errorTitle, recommendationStatus.error, stopReason
        return confirmed("; ".join(f"{w['workload']}: {why}" for w, why in errors[:5]),
                         workloads_table("workload autoscaler errors", errors))
    return ruled_out("no workload in question reports an error")


def invalid_yaml(configuration: str) -> str | None:
    try:
        value = yaml.safe_load(configuration)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return f"invalid YAML{f' at line {mark.line + 1}' if mark is not None else ''}"
    return None if isinstance(value, dict) else "not a YAML mapping"


def judge_missing_annotation(obs: Observations) -> Judgement:
    found = []
    notes = []
    for workload in as_dicts(obs["workload-annotations"]):
        configuration = workload.get("configuration")
        if configuration is not None:
            if why := invalid_yaml(configuration):
                found.append((workload, f"workloads.cast.ai/configuration is {why}, so the entire configuration is ignored"))
        elif workload.get("on_pod_template"):
            found.append((workload, f"workloads.cast.ai/configuration sits on the pod template; a {workload['kind']} "
                                    "is configured on its own metadata"))
        elif workload.get("lookalikes"):
            found.append((workload, f"{', '.join(workload['lookalikes'])} is not a key CAST AI reads"))
        if workload.get("deprecated"):
            notes.append(f"{workload['workload']} uses deprecated v1 keys {', '.join(workload['deprecated'])} (they still work)")
    if not found:
        return ruled_out("every configured workload carries a valid workloads.cast.ai/configuration"
                         + (f"; note: {'; '.join(notes)}" if notes else ""))
    first, _ = found[0]
    namespace, _, name = first["workload"].partition("/")
    rows = [["WORKLOAD", "KIND", "PROBLEM"], *([w["workload"], w["kind"], why] for w, why in found)]
    # docs.cast.ai workload-autoscaler-annotations-reference
    return confirmed(
        "; ".join(f"{w['workload']}: {why}" for w, why in found[:3]) + (f". Note: {'; '.join(notes)}" if notes else ""),
        Evidence(kind="table", title="workloads without a configuration CAST AI reads", data=rows),
        workload=name, workload_namespace=namespace, workload_kind=first["kind"].lower(),
        invalid="yes" if first.get("configuration") is not None else "")


def annotate_commands(values: Mapping[str, Any]) -> list[list[str]]:
    if values.get("invalid"):
        return []  # overwriting would drop the user's settings: they fix the YAML
    return [["kubectl", "annotate", f"{values['workload_kind']}/{values['workload']}", "-n", str(values["workload_namespace"]),
             "workloads.cast.ai/configuration=vertical: {optimization: on}"]]


def annotate_guidance(values: Mapping[str, Any]) -> str | None:
    if values.get("invalid"):
        return (f"Fix the YAML of workloads.cast.ai/configuration on {values['workload_kind']}/{values['workload']} "
                f"in {values['workload_namespace']} (e.g. `vertical: {{optimization: on}}`) where the manifest lives.")
    return None


SYMPTOM = Symptom(
    id="workload-autoscaler",
    title="The workload autoscaler gives no recommendations",
    recognise="the console shows no or low-confidence recommendations for a workload; requests never change",
    label="Workload autoscaler",
    abbrev="wa",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("workload-autoscaler-not-running", "The workload autoscaler is not running", judge_not_running,
              FixTemplate(title="Get the workload autoscaler running",
                          explanation="If its pods crash, their logs say why (`kubectl logs -n {ns} "
                          "deployment/castai-workload-autoscaler`); a restart helps only once that is fixed.",
                          commands=not_running_commands, guidance=not_running_guidance, recheck=("workload-autoscaler",))),
        Cause("metrics-server-missing", "metrics-server is missing or unhealthy", judge_metrics_server,
              FixTemplate(title="Install metrics-server",
                          explanation="CAST AI needs the metrics API to build recommendations (docs.cast.ai "
                          "workload-autoscaling-overview): install metrics-server, or repair its APIService "
                          "(`kubectl get apiservice v1beta1.metrics.k8s.io`).",
                          commands=(("kubectl", "get", "apiservice", "v1beta1.metrics.k8s.io"),),
                          mutates=False, recheck=("workload-autoscaler",))),
        Cause("workload-error", "The workload autoscaler reports an error for the workload", judge_workload_error,
              FixTemplate(title="Act on the reported error",
                          explanation="The error comes from CAST AI's workload autoscaler; its type says what failed "
                          "(e.g. ERROR_DEPLOY_FAILED, STOP_REASON_OOMKILL).",
                          mutates=False, recheck=("workload-autoscaler",))),
        Cause("insufficient-metrics", "Not enough metrics yet", judge_insufficient_metrics,
              FixTemplate(title="Wait for metrics",
                          explanation="Confidence grows as metrics are collected; wait until {until}.",
                          mutates=False, recheck=("workload-autoscaler",)),
              explained_by=("metrics-server-missing", "workload-autoscaler-not-running")),
        Cause("missing-annotation", "Workloads lack a configuration CAST AI reads", judge_missing_annotation,
              FixTemplate(title="Annotate the workload with workloads.cast.ai/configuration",
                          explanation="CAST AI reads workloads.cast.ai/configuration (a YAML string) on the Deployment or "
                          "StatefulSet itself, not on its pod template. `autoscaling.cast.ai/enabled` is not "
                          "a key CAST AI reads.",
                          commands=annotate_commands, guidance=annotate_guidance, recheck=("workload-autoscaler",))),
    ),
)
