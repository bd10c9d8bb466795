"""No-scale-down's judges (guide v2 §5) on recorded observations: one rule, one line each.

Several are issue 14's v1 false alarms and would fail on the v1 judges: a PDB at 0 anywhere in the
cluster, an "empty-node delay above 600 s" with no empty node, local storage or kube-system as
drain blockers, a drain blocker with no node being drained."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.diagnosis import CauseVerdict
from castui.tree import cluster_controller
from castui.tree import no_scale_down as nsd
from tests.tree.judges import observations, verdict
from tests.tree.scale_down_values import (
    BUSY,
    EMPTY,
    ago,
    evictor,
    named,
    node,
    pod,
    policies,
    polls,
)
from tests.tree.scale_down_values import (
    cluster_controller as cc,
)

CONFIRMED, LATENT, RULED_OUT, UNKNOWN = (CauseVerdict.CONFIRMED, CauseVerdict.LATENT, CauseVerdict.RULED_OUT,
                                         CauseVerdict.UNKNOWN)


def seen(**values: Any) -> dict[str, Any]:
    """A healthy cluster's recorded checks, with `values` replacing some."""
    base: dict[str, Any] = {
        "policies": policies(), "nodes": [node(BUSY, workload=4)], "named-nodes": [], "zero-pdbs": [], "pod-stops": [],
        "cluster-controller": cc({"log": polls()}), "evictor": evictor(), "evictor-ownership": "castai",
    }
    return {**base, **{k.replace("_", "-"): v for k, v in values.items()}}


WITH_EMPTY = {"nodes": [node(BUSY, workload=4), node(EMPTY)]}


# --- observed ---


def test_an_empty_node_or_a_named_one_is_observed_and_a_busy_cluster_is_not() -> None:
    assert nsd.observe(observations(seen(**WITH_EMPTY))).observed is True
    assert nsd.observe(observations(seen(named_nodes=[named(BUSY, cordoned=True)]))).observed is True
    assert nsd.observe(observations(seen())).observed is False
    missing = nsd.observe(observations(seen(named_nodes=[{"node": "gone", "exists": False, "named": True, "pods": []}])))
    assert missing.observed is False and "gone" in missing.summary


def test_an_empty_node_is_observed_even_when_the_named_nodes_cannot_be_read() -> None:
    values = seen(**WITH_EMPTY)
    assert nsd.observe(observations(values, failures={"named-nodes": "403 Forbidden"})).observed is True


def test_static_and_daemonset_pods_leave_a_node_empty() -> None:
    pods = [{"spec": {"nodeName": "n"}, "status": {"phase": "Running"}, "metadata": {"ownerReferences": [{"kind": k}]}}
            for k in ("DaemonSet", "Node")]
    pods.append({"spec": {"nodeName": "n"}, "status": {"phase": "Running"},
                 "metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}})
    assert nsd.workload_by_node([pods]) == {}
    assert nsd.workload_by_node([[{"spec": {"nodeName": "n"}, "status": {"phase": "Running"}, "metadata": {}}]]) == {"n": 1}


# --- node-downscaler-disabled ---


def test_downscaler_off_with_an_empty_node_is_confirmed_without_one_latent() -> None:
    off = policies()
    off["nodeDownscaler"]["emptyNodes"]["enabled"] = False
    assert verdict(nsd.judge_downscaler_disabled, seen(policies=off, **WITH_EMPTY)) is CONFIRMED
    assert verdict(nsd.judge_downscaler_disabled, seen(policies=off)) is LATENT
    assert verdict(nsd.judge_downscaler_disabled, seen(**WITH_EMPTY)) is RULED_OUT


def test_policies_without_the_downscaler_fields_are_unknown_not_fine() -> None:
    assert verdict(nsd.judge_downscaler_disabled, seen(policies={}, **WITH_EMPTY)) is UNKNOWN


def test_the_downscaler_fix_sets_only_the_switch_that_is_off() -> None:
    judgement = nsd.judge_downscaler_disabled(observations(seen(policies={"nodeDownscaler": {"enabled": True, "emptyNodes": {
        "enabled": False}}}, **WITH_EMPTY)))
    assert nsd._only_false_fields(judgement.fix_args) == {"nodeDownscaler": {"emptyNodes": {"enabled": True}}}


# --- empty-nodes-delay-high ---


def test_a_node_younger_than_the_delay_is_confirmed() -> None:
    young = {"nodes": [node(EMPTY, up_for=timedelta(minutes=3))]}
    assert verdict(nsd.judge_delay_high, seen(**young)) is CONFIRMED


def test_a_pod_stopped_within_the_delay_is_confirmed_and_says_until_when() -> None:
    values = seen(pod_stops=[{"node": EMPTY, "pod": "shop/batch-1", "time": ago(minutes=2)}], **WITH_EMPTY)
    judgement = nsd.judge_delay_high(observations(values))
    assert judgement.verdict is CONFIRMED and judgement.fix_args["until"] == ago(minutes=-3)


def test_v1_a_high_delay_is_no_cause_when_the_empty_node_has_waited_longer() -> None:
    # v1 confirmed any delaySeconds above 600; v2 has no fixed threshold
    long_delay = policies()
    long_delay["nodeDownscaler"]["emptyNodes"]["delaySeconds"] = 3600
    assert verdict(nsd.judge_delay_high, seen(policies=long_delay, **WITH_EMPTY)) is RULED_OUT
    assert verdict(nsd.judge_delay_high, seen(policies=long_delay)) is RULED_OUT  # no empty node at all


def test_a_delay_longer_than_events_live_cannot_be_judged_and_a_missing_one_neither() -> None:
    longer = policies()
    longer["nodeDownscaler"]["emptyNodes"]["delaySeconds"] = 7200
    assert verdict(nsd.judge_delay_high, seen(policies=longer, **WITH_EMPTY)) is UNKNOWN
    assert verdict(nsd.judge_delay_high, seen(policies={"nodeDownscaler": {}}, **WITH_EMPTY)) is UNKNOWN


# --- node-removal-disabled, scoped-mode-excludes ---


def test_a_removal_disabled_mark_on_an_empty_node_is_confirmed_on_a_busy_one_not() -> None:
    marks = [["label", "autoscaling.cast.ai/removal-disabled"]]
    assert verdict(nsd.judge_removal_disabled, seen(nodes=[node(EMPTY, marks=marks)])) is CONFIRMED
    assert verdict(nsd.judge_removal_disabled, seen(nodes=[node(BUSY, workload=3, marks=marks)])) is RULED_OUT


def test_removing_the_mark_is_one_kubectl_per_mark() -> None:
    judgement = nsd.judge_removal_disabled(observations(seen(nodes=[node(EMPTY, marks=[
        ["label", "autoscaling.cast.ai/removal-disabled"], ["annotation", "beta.evictor.cast.ai/eviction-disabled"]])])))
    assert nsd._unmark_commands(judgement.fix_args) == [
        ["kubectl", "label", "node", EMPTY, "autoscaling.cast.ai/removal-disabled-"],
        ["kubectl", "annotate", "node", EMPTY, "beta.evictor.cast.ai/eviction-disabled-"]]


def test_scoped_mode_excludes_an_empty_node_cast_ai_did_not_create() -> None:
    scoped = {**policies(), "isScopedMode": True}
    assert verdict(nsd.judge_scoped_mode, seen(policies=scoped, nodes=[node(EMPTY, cast_ai=False)])) is CONFIRMED
    assert verdict(nsd.judge_scoped_mode, seen(policies=scoped, nodes=[node(EMPTY)])) is RULED_OUT
    assert verdict(nsd.judge_scoped_mode, seen(policies={}, nodes=[node(EMPTY, cast_ai=False)])) is UNKNOWN


# --- cluster-controller-not-running ---


def test_cluster_controller_missing_or_not_ready_is_confirmed() -> None:
    assert verdict(cluster_controller.judge_not_running, seen(cluster_controller={"replicas": []})) is CONFIRMED
    assert verdict(cluster_controller.judge_not_running, seen(cluster_controller=cc({"ready": False, "running": False}))) is CONFIRMED


def test_cluster_controller_persistently_failing_to_poll_is_confirmed_one_retry_is_not() -> None:
    failing = polls(failing="dial tcp: lookup api.cast.ai: i/o timeout")
    assert verdict(cluster_controller.judge_not_running, seen(cluster_controller=cc({"log": failing}))) is CONFIRMED
    recovered = polls(failing="dial tcp: i/o timeout", cycles=1, recovered=True)
    assert verdict(cluster_controller.judge_not_running, seen(cluster_controller=cc({"log": recovered}))) is RULED_OUT


def test_cluster_controller_logs_unreadable_is_unknown() -> None:
    unread = cc({"log_error": "403 Forbidden"})
    del unread["replicas"][0]["log"]
    assert verdict(cluster_controller.judge_not_running, seen(cluster_controller=unread)) is UNKNOWN


# --- pdb-blocking-eviction ---


def zero_pdb(pod_node: str, *, allowed: Any = 0) -> dict[str, Any]:
    return {"pdb": "shop/web", "name": "web", "namespace": "shop", "disruptionsAllowed": allowed, "currentHealthy": 3,
            "desiredHealthy": 3, "pods": [{"pod": "web-1", "node": pod_node}]}


def test_a_pdb_at_zero_on_the_named_node_is_confirmed_naming_pdb_pod_and_node() -> None:
    judgement = nsd.judge_pdb_blocking(observations(seen(zero_pdbs=[zero_pdb(BUSY)], named_nodes=[named(BUSY)])))
    assert judgement.verdict is CONFIRMED
    assert "shop/web" in judgement.reason and "shop/web-1" in judgement.reason and BUSY in judgement.reason
    assert "3/3" in judgement.reason


def test_v1_a_pdb_at_zero_elsewhere_confirms_nothing() -> None:
    # v1 confirmed any PDB at 0 anywhere in the cluster, with a PDB patch as the fix
    assert verdict(nsd.judge_pdb_blocking, seen(zero_pdbs=[zero_pdb("other", )], nodes=[node("other", workload=3, cast_ai=False)],
                                                named_nodes=[named(BUSY)])) is RULED_OUT
    assert verdict(nsd.judge_pdb_blocking, seen(zero_pdbs=[zero_pdb(BUSY)], nodes=[node(BUSY, workload=3)])) is LATENT


def test_a_pdb_that_reports_no_disruptions_allowed_is_unknown_and_ignored_pdbs_rule_it_out() -> None:
    assert verdict(nsd.judge_pdb_blocking, seen(zero_pdbs=[zero_pdb(BUSY, allowed=None)], named_nodes=[named(BUSY)])) is UNKNOWN
    ignoring = policies(ignorePodDisruptionBudgets=True)
    assert verdict(nsd.judge_pdb_blocking, seen(policies=ignoring, zero_pdbs=[zero_pdb(BUSY)], named_nodes=[named(BUSY)])) is RULED_OUT


def test_the_pdb_fix_is_guidance_never_a_patch() -> None:
    fix = next(c for c in nsd.SYMPTOM.causes if c.id == "pdb-blocking-eviction").fix
    assert fix is not None and not fix.mutates and fix.policies_patch is None and fix.guidance is not None
    assert [argv[:3] for argv in fix.commands] == [("kubectl", "get", "pdb")]  # read, never patched


# --- system-pods-blocking-drain ---


def test_v1_no_drain_blocker_without_a_named_node() -> None:
    # v1 confirmed a bare kube-system pod on an empty node; v2: nothing is being drained
    assert verdict(nsd.judge_system_pods, seen(**WITH_EMPTY)) is RULED_OUT


def test_a_bare_pod_blocks_unless_aggressive_and_a_statefulset_pod_always() -> None:
    bare = named(BUSY, pod("debug", owner_kind=None, replicas=None))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[bare])) is CONFIRMED
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[bare], policies=policies(aggressiveMode=True))) is RULED_OUT
    stateful = named(BUSY, pod("redis-0", owner_kind="StatefulSet"))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[stateful], policies=policies(aggressiveMode=True))) is CONFIRMED


def test_single_replicas_block_and_pvcs_block_only_in_aggressive_mode() -> None:
    single = named(BUSY, pod("reports", replicas=1))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[single])) is CONFIRMED
    with_pvc = named(BUSY, pod("db", pvc=True))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[with_pvc])) is RULED_OUT
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[with_pvc], policies=policies(aggressiveMode=True))) is CONFIRMED


def test_v1_emptydir_kube_system_and_daemonsets_do_not_block() -> None:
    movable = named(BUSY, pod("coredns", ns="kube-system"), pod("kube-proxy-x", ns="kube-system", owner_kind="DaemonSet",
                                                                  static_or_daemon=True))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[movable])) is RULED_OUT


def test_a_bare_pod_with_an_unknown_evictor_owner_is_unknown_and_disposable_moves() -> None:
    bare = named(BUSY, pod("debug", owner_kind=None, replicas=None))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[bare], evictor=evictor(mode=None), evictor_ownership=None)) is UNKNOWN
    disposable = named(BUSY, pod("debug", owner_kind=None, annotations={"autoscaling.cast.ai/disposable": "true"}))
    assert verdict(nsd.judge_system_pods, seen(named_nodes=[disposable])) is RULED_OUT


# --- the Evictor: disabled, dry run, self-managed ---


def test_no_ready_evictor_is_confirmed_for_a_named_node_latent_without_one() -> None:
    assert verdict(nsd.judge_evictor_disabled, seen(evictor=evictor(installed=False), named_nodes=[named()])) is CONFIRMED
    assert verdict(nsd.judge_evictor_disabled, seen(evictor=evictor(installed=False))) is LATENT
    assert verdict(nsd.judge_evictor_disabled, seen(named_nodes=[named()])) is RULED_OUT
    assert verdict(nsd.judge_evictor_disabled, seen(policies=policies(enabled=False), named_nodes=[named()])) is CONFIRMED


def test_dry_run_from_the_owner() -> None:
    assert verdict(nsd.judge_evictor_dry_run, seen(policies=policies(dryRun=True), named_nodes=[named()])) is CONFIRMED
    assert verdict(nsd.judge_evictor_dry_run, seen(policies=policies(dryRun=True))) is LATENT
    assert verdict(nsd.judge_evictor_dry_run, seen(named_nodes=[named()])) is RULED_OUT
    self_managed = evictor(mode="self-managed", env={"DRY_RUN": "true"}, dryRun=True)
    assert verdict(nsd.judge_evictor_dry_run, seen(evictor=self_managed, named_nodes=[named()])) is CONFIRMED


def test_dry_run_is_unknown_without_an_owner_or_when_env_and_evictorconfig_disagree() -> None:
    # managedByCASTAI: true in the release is only the chart's default: no owner
    assert verdict(nsd.judge_evictor_dry_run, seen(evictor=evictor(mode=None), evictor_ownership=None)) is UNKNOWN
    disagree = evictor(mode="self-managed", env={"DRY_RUN": "true"}, dryRun=False)
    assert verdict(nsd.judge_evictor_dry_run, seen(evictor=disagree)) is UNKNOWN


def test_self_managed_evictor() -> None:
    assert verdict(nsd.judge_evictor_self_managed, seen(evictor_ownership="self-managed", named_nodes=[named()])) is CONFIRMED
    assert verdict(nsd.judge_evictor_self_managed, seen(evictor_ownership="self-managed")) is LATENT
    incompatible = policies(status="Incompatible")
    assert verdict(nsd.judge_evictor_self_managed, seen(policies=incompatible, named_nodes=[named()])) is CONFIRMED
    assert verdict(nsd.judge_evictor_self_managed, seen()) is RULED_OUT


def test_a_stopped_daemonset_pod_does_not_make_a_node_busy() -> None:
    daemonsets = {("kube-system", "kube-proxy")}
    assert nsd._daemon_pod_name("kube-system", "kube-proxy-z9w8v", daemonsets)
    assert not nsd._daemon_pod_name("shop", "batch-7c9d8-x2p4q", daemonsets)
