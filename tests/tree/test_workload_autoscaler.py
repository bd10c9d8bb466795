"""workload-autoscaler (guide v2 §10) on recorded observations."""

from __future__ import annotations

from typing import Any

from castui.config import load_settings
from castui.diagnosis import CauseVerdict
from castui.tree import workload_autoscaler as wa
from castui.tree.model import CouldNotCheck, Observations
from tests.tree.judges import NOW, RecordedRun

READY_POD = {"metadata": {"name": "castai-workload-autoscaler-1", "namespace": "castai-agent"},
             "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [{"name": "app", "ready": True, "state": {"running": {}}}]}}
LOOPING_POD = {"metadata": {"name": "castai-workload-autoscaler-1", "namespace": "castai-agent"},
               "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                          "containerStatuses": [{"name": "app", "ready": False, "restartCount": 9,
                                                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
DEPLOYMENT = {"name": "castai-workload-autoscaler", "replicas": 2, "readyReplicas": 2}
METRICS_OK = {"name": "v1beta1.metrics.k8s.io", "available": True, "reason": "Passed", "message": ""}


def annotated(name: str = "shop/web", **fields: Any) -> dict[str, Any]:
    return {"workload": name, "kind": "Deployment", "configuration": "vertical:\n  optimization: on\n", "lookalikes": [],
            "on_pod_template": False, "deprecated": [], "named": False, **fields}


def api(name: str = "web", **fields: Any) -> dict[str, Any]:
    return {"id": name, "name": name, "namespace": "shop", "kind": "Deployment", "managedBy": "ANNOTATIONS",
            "recommendation": {"confidence": 0.97, "deployed": True},
            "recommendationStatus": {"type": "STATUS_APPLIED", "lowConfidence": False}, **fields}


def recorded(**overrides: Any) -> dict[str, Any]:
    values = {"autoscaler-deployment": DEPLOYMENT, "autoscaler-pods": [READY_POD], "helm-releases": [],
              "recommendations": [api()], "scaling-policies": [], "workload-annotations": [annotated()],
              "metrics-api": METRICS_OK, "agent-logs": {"replicas": []}}
    return {**values, **{k.replace("_", "-"): v for k, v in overrides.items()}}


def obs(values: dict[str, Any], *, failures: dict[str, str] | None = None, workloads: list[str] | None = None) -> Observations:
    settings = load_settings({"workloads": workloads or []}, env={})
    return Observations(values, failures or {}, settings, RecordedRun(settings=settings).now, named=False)


def verdict(judge: Any, values: dict[str, Any], **kwargs: Any) -> CauseVerdict:
    try:
        return judge(obs(values, **kwargs)).verdict
    except CouldNotCheck:
        return CauseVerdict.UNKNOWN


def observed(values: dict[str, Any], **kwargs: Any) -> bool | None:
    try:
        return wa.observe(obs(values, **kwargs)).observed
    except CouldNotCheck:
        return None


# --- observed ---


def test_healthy_recommendations_are_not_observed() -> None:
    assert observed(recorded()) is False


def test_only_workloads_in_question_are_observed() -> None:
    low = api(recommendationStatus={"type": "STATUS_WAITING", "lowConfidence": True})
    # read-only onboarding lists every workload with low confidence: nothing is configured, nothing observed
    assert observed(recorded(workload_annotations=[], recommendations=[{**low, "managedBy": "API"}])) is False
    assert observed(recorded(recommendations=[low])) is True
    assert observed(recorded(workload_annotations=[], recommendations=[low]), workloads=["shop/web"]) is True


def test_a_500_from_the_workloads_api_is_unknown_never_confident() -> None:
    # issue 15 item 8: v1 showed "workload-autoscaler ✓ HEALTHY … recommendations are confident"
    failed = {"recommendations": "HTTP 500 from the workloads API"}
    assert observed(recorded(), failures=failed) is None
    assert verdict(wa.judge_insufficient_metrics, recorded(), failures=failed) is CauseVerdict.UNKNOWN
    assert verdict(wa.judge_workload_error, recorded(), failures=failed) is CauseVerdict.UNKNOWN


def test_a_named_workload_that_exists_nowhere_says_so() -> None:
    summary = wa.observe(obs(recorded(), workloads=["shop/wbe"])).summary
    assert "shop/wbe" in summary and "check the name" in summary


# --- workload-autoscaler-not-running ---


def test_installed_without_a_ready_pod_is_confirmed() -> None:
    assert verdict(wa.judge_not_running, recorded(autoscaler_pods=[LOOPING_POD])) is CauseVerdict.CONFIRMED
    assert verdict(wa.judge_not_running, recorded()) is CauseVerdict.RULED_OUT


def test_not_installed_and_unused_is_ruled_out() -> None:
    # v1 confirmed it on read-only onboarding, and its fix restarted a Deployment that does not exist
    values = recorded(autoscaler_deployment=None, autoscaler_pods=[], workload_annotations=[],
                      recommendations=[api(managedBy="API", workloadConfigV2={"vpaConfig": {"managementOption": "READ_ONLY"}})])
    assert verdict(wa.judge_not_running, values) is CauseVerdict.RULED_OUT


def test_not_installed_while_configured_asks_to_install_never_to_restart() -> None:
    values = recorded(autoscaler_deployment=None, autoscaler_pods=[])
    judgement = wa.judge_not_running(obs(values))
    assert judgement.verdict is CauseVerdict.CONFIRMED
    fix_values = {**judgement.fix_args, "ns": "castai-agent"}
    assert wa.not_running_commands(fix_values) == []
    assert "castai-workload-autoscaler-exporter" in (wa.not_running_guidance(fix_values) or "")


def test_terraform_and_umbrella_installs_get_their_own_install_guidance() -> None:
    terraform = recorded(autoscaler_deployment=None, autoscaler_pods=[],
                         helm_releases=[{"name": "castai-agent", "chart": "castai-agent", "terraform": True}])
    args = {**wa.judge_not_running(obs(terraform)).fix_args, "ns": "castai-agent"}
    assert "install_workload_autoscaler" in (wa.not_running_guidance(args) or "")
    umbrella = recorded(autoscaler_deployment=None, autoscaler_pods=[],
                        helm_releases=[{"name": "castai", "chart": "castai", "terraform": False}])
    args = {**wa.judge_not_running(obs(umbrella)).fix_args, "ns": "castai-agent"}
    assert "tags.workload-autoscaler=true" in (wa.not_running_guidance(args) or "")


# --- insufficient-metrics ---


def test_low_confidence_is_confirmed() -> None:
    low = api(recommendation={"confidence": 0.4, "estimatedThresholdReachedAt": "2026-12-03T09:00:00Z"},
              recommendationStatus={"type": "STATUS_WAITING", "lowConfidence": True})
    judgement = wa.judge_insufficient_metrics(obs(recorded(recommendations=[low])))
    assert judgement.verdict is CauseVerdict.CONFIRMED and judgement.fix_args["until"] == "2026-12-03T09:00:00Z"


def test_confidence_is_compared_with_the_workloads_policy_threshold() -> None:
    entry = api(scalingPolicyName="strict", recommendation={"confidence": 0.93},
                recommendationStatus={"type": "STATUS_APPLIED", "lowConfidence": False})
    strict = [{"id": "p1", "name": "strict", "recommendationPolicies": {"confidence": {"threshold": 0.95}}}]
    assert verdict(wa.judge_insufficient_metrics, recorded(recommendations=[entry], scaling_policies=strict)) is CauseVerdict.CONFIRMED
    assert verdict(wa.judge_insufficient_metrics, recorded(recommendations=[entry])) is CauseVerdict.RULED_OUT  # default 0.9


def test_a_young_autoscaler_is_no_evidence() -> None:
    # v1 confirmed insufficient-metrics when the autoscaler pod was younger than 24 h, whatever the API said
    young = {**READY_POD, "status": {**READY_POD["status"], "startTime": (NOW.replace(hour=9)).isoformat()}}
    assert verdict(wa.judge_insufficient_metrics, recorded(autoscaler_pods=[young])) is CauseVerdict.RULED_OUT


def test_a_recommendation_without_confidence_is_unknown() -> None:
    assert verdict(wa.judge_insufficient_metrics, recorded(recommendations=[api(recommendation=None)])) is CauseVerdict.UNKNOWN


# --- metrics-server-missing ---


def starving(**overrides: Any) -> dict[str, Any]:
    low = api(recommendation={"confidence": 0.1}, recommendationStatus={"type": "STATUS_WAITING", "lowConfidence": True})
    return recorded(recommendations=[low], **overrides)


def test_no_metrics_api_with_a_starving_workload_is_confirmed() -> None:
    assert verdict(wa.judge_metrics_server, starving(metrics_api=None)) is CauseVerdict.CONFIRMED
    unavailable = {**METRICS_OK, "available": False, "reason": "FailedDiscoveryCheck"}
    assert verdict(wa.judge_metrics_server, starving(metrics_api=unavailable)) is CauseVerdict.CONFIRMED
    assert verdict(wa.judge_metrics_server, starving()) is CauseVerdict.RULED_OUT


def test_the_agents_persistent_pod_metrics_failure_counts() -> None:
    line = ('time="2026-12-02T11:{m:02d}:00Z" level=info msg="Failed getting pod metrics, check metrics server health: '
            'the server is currently unable to handle the request (get pods.metrics.k8s.io)"')
    persistent = {"replicas": [{"pod": "castai-agent-1", "current": [line.format(m=m) for m in (50, 51, 53)], "previous": []}]}
    once = {"replicas": [{"pod": "castai-agent-1", "current": [line.format(m=50)], "previous": []}]}
    assert verdict(wa.judge_metrics_server, starving(agent_logs=persistent)) is CauseVerdict.CONFIRMED
    assert verdict(wa.judge_metrics_server, starving(agent_logs=once)) is CauseVerdict.RULED_OUT


def test_no_metrics_api_without_a_starving_workload_is_latent_and_unused_is_ruled_out() -> None:
    assert verdict(wa.judge_metrics_server, recorded(metrics_api=None)) is CauseVerdict.LATENT
    unused = recorded(metrics_api=None, autoscaler_deployment=None, autoscaler_pods=[], workload_annotations=[])
    assert verdict(wa.judge_metrics_server, unused) is CauseVerdict.RULED_OUT


def test_an_unreadable_apiservice_is_unknown() -> None:
    assert verdict(wa.judge_metrics_server, starving(), failures={"metrics-api": "forbidden"}) is CauseVerdict.UNKNOWN


# --- workload-error ---


def test_errors_the_api_reports_are_self_evident() -> None:
    for fields in ({"error": "containers mismatch", "errorTitle": "Invalid workload"},
                   {"recommendationStatus": {"type": "STATUS_STOPPED", "error": {"type": "ERROR_DEPLOY_FAILED", "message": "denied"}}},
                   {"recommendationStatus": {"type": "STATUS_STOPPED", "stopReason": {"type": "STOP_REASON_OOMKILL"}}}):
        assert verdict(wa.judge_workload_error, recorded(recommendations=[api(**fields)])) is CauseVerdict.CONFIRMED
    assert verdict(wa.judge_workload_error, recorded()) is CauseVerdict.RULED_OUT


# --- missing-annotation ---


def test_look_alike_keys_are_confirmed_and_evictor_keys_are_not_look_alikes() -> None:
    lookalike = annotated("shop/api", configuration=None, lookalikes=["autoscaling.cast.ai/enabled"])
    assert verdict(wa.judge_missing_annotation, recorded(workload_annotations=[lookalike])) is CauseVerdict.CONFIRMED
    assert verdict(wa.judge_missing_annotation, recorded()) is CauseVerdict.RULED_OUT


def test_configuration_on_the_pod_template_is_confirmed() -> None:
    template = annotated("shop/api", configuration=None, on_pod_template=True)
    assert verdict(wa.judge_missing_annotation, recorded(workload_annotations=[template])) is CauseVerdict.CONFIRMED


def test_invalid_yaml_is_confirmed_and_not_overwritten() -> None:
    broken = annotated(configuration="vertical: {optimization: on")
    judgement = wa.judge_missing_annotation(obs(recorded(workload_annotations=[broken])))
    assert judgement.verdict is CauseVerdict.CONFIRMED
    values = {**judgement.fix_args, "ns": "castai-agent"}
    assert wa.annotate_commands(values) == [] and "Fix the YAML" in (wa.annotate_guidance(values) or "")


def test_deprecated_v1_keys_are_a_note_not_a_cause() -> None:
    legacy = annotated(configuration=None, deprecated=["workloads.cast.ai/vertical-autoscaling"])
    judgement = wa.judge_missing_annotation(obs(recorded(workload_annotations=[legacy])))
    assert judgement.verdict is CauseVerdict.RULED_OUT and "deprecated" in judgement.reason


def test_the_annotate_fix_targets_the_workload_and_never_overwrites() -> None:
    lookalike = annotated("shop/api", configuration=None, lookalikes=["autoscaling.cast.ai/enabled"])
    args = {**wa.judge_missing_annotation(obs(recorded(workload_annotations=[lookalike]))).fix_args, "ns": "castai-agent"}
    assert wa.annotate_commands(args) == [["kubectl", "annotate", "deployment/api", "-n", "shop",
                                           "workloads.cast.ai/configuration=vertical: {optimization: on}"]]
