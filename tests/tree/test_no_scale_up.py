"""no-scale-up (guide v2 §4), judged on recorded observations: one line per rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.diagnosis import CauseVerdict
from castui.tree.no_scale_up import (
    judge_cpu_limit,
    judge_no_template,
    judge_scoped_mode,
    judge_unschedulable_disabled,
    observe,
)
from tests.tree.judges import NOW, observations, verdict

CONFIRMED, RULED_OUT, UNKNOWN = CauseVerdict.CONFIRMED, CauseVerdict.RULED_OUT, CauseVerdict.UNKNOWN
TEMPLATE = "scheduling.cast.ai/node-template"


def pod(name: str = "web-1", *, minutes: int = 40, cpu: str = "500m", memory: str = "128Mi", selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None, affinity: dict[str, Any] | None = None) -> dict[str, Any]:
    since = (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    spec: dict[str, Any] = {"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    for key, value in (("nodeSelector", selector), ("tolerations", tolerations), ("affinity", affinity)):
        if value:
            spec[key] = value
    return {"metadata": {"name": name, "namespace": "shop", "creationTimestamp": since}, "spec": spec,
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                           "lastTransitionTime": since}]}}


def template(name: str = "default-by-castai", *, enabled: Any = True, taint: Any = False, **constraints: Any) -> dict[str, Any]:
    return {"name": name, "isDefault": name == "default-by-castai", "isEnabled": enabled, "shouldTaint": taint,
            "customLabels": {}, "customTaints": [], "constraints": {"spot": True, "onDemand": True, **constraints}}


POLICIES = {"enabled": True, "isScopedMode": False, "unschedulablePods": {"enabled": True},
            "clusterLimits": {"enabled": True, "cpu": {"maxCores": 16}}}


def seen(*pods: dict[str, Any], policies: dict[str, Any] | None = None, templates: list[dict[str, Any]] | None = None,
         cpu: tuple[str | None, ...] = ("4", "4", "4")) -> dict[str, Any]:
    return {"pending-pods": {"pods": list(pods), "events": [], "events_error": None},
            "policies": {**POLICIES, **(policies or {})},
            "node-templates": templates if templates is not None else [template()],
            "cluster-cpu": [{"node": f"n-{i}", "cpu": c} for i, c in enumerate(cpu)]}


# --- observed ---

def test_a_pod_pending_15_min_is_observed() -> None:
    assert observe(observations(seen(pod(minutes=15)))).observed is True


def test_a_pod_pending_3_min_is_in_progress_not_a_problem() -> None:
    observation = observe(observations(seen(pod(minutes=3))))
    assert observation.observed is False and "in progress" in observation.summary


def test_age_comes_from_the_scheduler_condition_when_creation_time_was_rewritten() -> None:
    restored = pod(minutes=30)
    restored["metadata"]["creationTimestamp"] = NOW.isoformat()
    assert observe(observations(seen(restored))).observed is True


# --- unschedulable-pods-disabled ---

def test_unschedulable_pods_policy_off_is_confirmed_on_and_missing_are_not() -> None:
    assert verdict(judge_unschedulable_disabled, seen(pod(), policies={"unschedulablePods": {"enabled": False}})) is CONFIRMED
    assert verdict(judge_unschedulable_disabled, seen(pod())) is RULED_OUT
    assert verdict(judge_unschedulable_disabled, seen(pod(), policies={"unschedulablePods": {}})) is UNKNOWN


# --- cluster-cpu-limit-reached ---

def test_capacity_plus_the_pending_pods_requests_over_max_cores_is_the_limit() -> None:
    judgement = judge_cpu_limit(observations(seen(pod("a", cpu="2"), pod("b", cpu="2"), pod("c", cpu="2"))))
    assert judgement.verdict is CONFIRMED and judgement.fix_args["max_cores"] == 18 and "shop/a" in judgement.reason


def test_within_the_limit_off_or_unset_limits() -> None:
    assert verdict(judge_cpu_limit, seen(pod(cpu="2"))) is RULED_OUT  # 12 + 2 <= 16
    assert verdict(judge_cpu_limit, seen(pod(cpu="8"), policies={"clusterLimits": {"enabled": False}})) is RULED_OUT
    assert verdict(judge_cpu_limit, seen(pod(cpu="8"), policies={"clusterLimits": {"enabled": True}})) is UNKNOWN
    assert verdict(judge_cpu_limit, seen(pod(cpu="8"), policies={"clusterLimits": {}})) is UNKNOWN


def test_a_node_without_cpu_capacity_is_unknown_not_zero() -> None:
    assert verdict(judge_cpu_limit, seen(pod(cpu="8"), cpu=("4", None))) is UNKNOWN


def test_young_pods_only_are_judged_too_and_the_runner_makes_it_latent() -> None:
    # v1 counted them as the problem; v2 keeps the condition as a risk (the runner turns it latent)
    obs = observations(seen(pod(cpu="8", minutes=2)))
    assert observe(obs).observed is False and judge_cpu_limit(obs).verdict is CONFIRMED


# --- scoped-mode-excludes ---

def test_scoped_mode_and_a_pod_without_the_toleration_is_confirmed() -> None:
    assert verdict(judge_scoped_mode, seen(pod(), policies={"isScopedMode": True})) is CONFIRMED


def test_scoped_mode_tolerated_by_key_by_docs_example_or_keyless_exists() -> None:
    for toleration in ({"key": "scheduling.cast.ai/scoped-autoscaler", "operator": "Exists"},
                       {"key": "scheduling.cast.ai/scoped-autoscaler", "operator": "Equal", "value": "NoSchedule", "effect": "NoSchedule"},
                       {"operator": "Exists"}):
        assert verdict(judge_scoped_mode, seen(pod(tolerations=[toleration]), policies={"isScopedMode": True})) is RULED_OUT


def test_scoped_mode_needs_the_field() -> None:
    assert verdict(judge_scoped_mode, seen(pod())) is RULED_OUT
    policies = {k: v for k, v in POLICIES.items() if k != "isScopedMode"}
    assert verdict(judge_scoped_mode, {**seen(pod()), "policies": policies}) is UNKNOWN


def test_a_toleration_of_another_effect_does_not_tolerate_scoped_mode() -> None:
    other = {"key": "scheduling.cast.ai/scoped-autoscaler", "operator": "Exists", "effect": "NoExecute"}
    assert verdict(judge_scoped_mode, seen(pod(tolerations=[other]), policies={"isScopedMode": True})) is CONFIRMED


# --- no-matching-node-template ---

def test_no_enabled_template_at_all() -> None:
    assert verdict(judge_no_template, seen(pod(), templates=[template(enabled=False)])) is CONFIRMED


def test_a_selected_template_that_is_missing_or_disabled_is_named() -> None:
    judgement = judge_no_template(observations(seen(pod(selector={TEMPLATE: "gpu"}))))
    assert judgement.verdict is CONFIRMED and judgement.fix_args["template"] == "gpu"
    templates = [template(), template("gpu", enabled=False)]
    assert verdict(judge_no_template, seen(pod(selector={TEMPLATE: "gpu"}), templates=templates)) is CONFIRMED


def test_a_template_selected_through_required_affinity() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": TEMPLATE, "operator": "In", "values": ["gpu"]}]}]}}}
    assert verdict(judge_no_template, seen(pod(affinity=affinity))) is CONFIRMED
    assert verdict(judge_no_template, seen(pod(affinity=affinity), templates=[template(), template("gpu")])) is RULED_OUT


def test_a_tainted_template_needs_its_toleration() -> None:
    templates = [template(), template("batch", taint=True)]
    untolerated = pod(selector={TEMPLATE: "batch"})
    tolerated = pod(selector={TEMPLATE: "batch"}, tolerations=[{"key": TEMPLATE, "value": "batch", "effect": "NoSchedule"}])
    assert verdict(judge_no_template, seen(untolerated, templates=templates)) is CONFIRMED
    assert verdict(judge_no_template, seen(tolerated, templates=templates)) is RULED_OUT


def test_custom_taints_replace_the_template_taint() -> None:
    batch = {**template("batch", taint=True), "customTaints": [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]}
    tolerated = pod(selector={TEMPLATE: "batch"}, tolerations=[{"key": "dedicated", "operator": "Equal", "value": "batch"}])
    assert verdict(judge_no_template, seen(tolerated, templates=[template(), batch])) is RULED_OUT
    wrong = pod(selector={TEMPLATE: "batch"}, tolerations=[{"key": TEMPLATE, "value": "batch"}])
    assert verdict(judge_no_template, seen(wrong, templates=[template(), batch])) is CONFIRMED


def test_spot_selected_on_a_mixed_template_needs_the_spot_toleration() -> None:
    spot = {"scheduling.cast.ai/spot": "true"}
    assert verdict(judge_no_template, seen(pod(selector=spot))) is CONFIRMED
    tolerating = pod(selector=spot, tolerations=[{"key": "scheduling.cast.ai/spot", "operator": "Exists"}])
    assert verdict(judge_no_template, seen(tolerating)) is RULED_OUT
    assert verdict(judge_no_template, seen(pod(selector=spot), templates=[template(onDemand=False)])) is RULED_OUT


def test_requests_above_the_template_maximum() -> None:
    assert verdict(judge_no_template, seen(pod(cpu="40"), templates=[template(maxCpu=32)])) is CONFIRMED
    assert verdict(judge_no_template, seen(pod(memory="64Gi"), templates=[template(maxMemory=32768)])) is CONFIRMED
    assert verdict(judge_no_template, seen(pod(cpu="4", memory="8Gi"), templates=[template(maxCpu=32, maxMemory=32768)])) is RULED_OUT


def test_other_selectors_are_compared_never_guessed() -> None:
    # v1 confirmed a mismatch for any label it did not find on a template (e.g. nvidia.com/gpu)
    judgement = judge_no_template(observations(seen(pod(selector={"nvidia.com/gpu": "true"}))))
    assert judgement.verdict is UNKNOWN and "nvidia.com/gpu=true" in judgement.reason


def test_a_template_that_does_not_say_if_it_is_enabled_is_unknown() -> None:
    assert verdict(judge_no_template, seen(pod(), templates=[template(enabled=None)])) is UNKNOWN


def test_no_pending_pod_rules_every_pod_cause_out() -> None:
    for judge in (judge_cpu_limit, judge_scoped_mode, judge_no_template):
        assert verdict(judge, seen()) is RULED_OUT


def test_an_architecture_or_os_the_template_offers_is_no_doubt() -> None:
    # charts commonly pin kubernetes.io/os=linux; the provider's defaults are amd64 and linux
    assert verdict(judge_no_template, seen(pod(selector={"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}))) is RULED_OUT
    arm = pod(selector={"kubernetes.io/arch": "arm64"})
    assert verdict(judge_no_template, seen(arm)) is UNKNOWN
    assert verdict(judge_no_template, seen(arm, templates=[template(architectures=["amd64", "arm64"])])) is RULED_OUT


def test_an_architecture_required_through_affinity_is_compared_too() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}}
    assert verdict(judge_no_template, seen(pod(affinity=affinity))) is RULED_OUT


def test_the_scoped_mode_fix_names_the_deployment_whose_pod_template_needs_the_toleration() -> None:
    owned = pod("checkout-7f6d8c9b5-p2x4c")
    owned["metadata"] |= {"labels": {"pod-template-hash": "7f6d8c9b5"},
                          "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-7f6d8c9b5"}]}
    judgement = judge_scoped_mode(observations(seen(owned, policies={"isScopedMode": True})))
    assert judgement.fix_args["owner"] == "deployment/checkout"
    bare = judge_scoped_mode(observations(seen(pod("debug"), policies={"isScopedMode": True})))
    assert bare.fix_args["owner"] == "pod/debug"
