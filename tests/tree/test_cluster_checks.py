"""The cluster-level causes shared by several symptoms (guide v2 §2, §4, §5), on recorded API answers."""

from __future__ import annotations

import pytest

from castui.diagnosis import CauseVerdict
from castui.tree.cluster_checks import (
    judge_autoscaler_disabled,
    judge_cluster_hibernated,
    judge_cluster_status_warning,
)
from castui.tree.model import CouldNotCheck, Observations
from tests.tree.judges import observations, verdict

CONFIRMED, RULED_OUT, UNKNOWN = CauseVerdict.CONFIRMED, CauseVerdict.RULED_OUT, CauseVerdict.UNKNOWN


def cluster(status: str | None, **extra: object) -> dict[str, object]:
    return {"cluster-status": {"id": "c-1", "agentStatus": "online", **({"status": status} if status else {}), **extra}}


def test_hibernating_hibernated_and_resuming_clusters_are_hibernated() -> None:
    assert {verdict(judge_cluster_hibernated, cluster(s)) for s in ("hibernating", "hibernated", "resuming")} == {CONFIRMED}


def test_a_ready_cluster_is_not_hibernated_and_no_status_is_unknown() -> None:
    assert verdict(judge_cluster_hibernated, cluster("ready")) is RULED_OUT
    assert verdict(judge_cluster_hibernated, cluster(None)) is UNKNOWN


def test_an_unreadable_cluster_cannot_be_judged_never_ruled_out() -> None:
    # the runner turns CouldNotCheck into `unknown` with the check's reason
    for judge in (judge_cluster_hibernated, judge_cluster_status_warning):
        with pytest.raises(CouldNotCheck, match="503"):
            judge(observations({}, failures={"cluster-status": "API answered 503"}))


def test_warning_and_failed_stop_autoscaling_and_show_the_reconcile_error() -> None:
    judgement = judge_cluster_status_warning(observations(cluster("warning", reconcileInfo={"error": "AccessDenied: iam"})))
    assert judgement.verdict is CONFIRMED and "AccessDenied: iam" in judgement.reason
    assert verdict(judge_cluster_status_warning, cluster("failed")) is CONFIRMED


def test_ready_and_connecting_clusters_are_no_warning() -> None:
    assert verdict(judge_cluster_status_warning, cluster("ready")) is RULED_OUT
    assert verdict(judge_cluster_status_warning, cluster("connecting")) is RULED_OUT
    assert verdict(judge_cluster_status_warning, cluster(None)) is UNKNOWN


def test_policies_enabled_false_is_the_autoscaler_disabled() -> None:
    assert verdict(judge_autoscaler_disabled, {"policies": {"enabled": False}}) is CONFIRMED
    assert verdict(judge_autoscaler_disabled, {"policies": {"enabled": True}}) is RULED_OUT


def test_policies_without_enabled_are_unknown_never_fine() -> None:
    assert verdict(judge_autoscaler_disabled, {"policies": {}}) is UNKNOWN
    assert verdict(judge_autoscaler_disabled, {"policies": {"enabled": "no"}}) is UNKNOWN
    with pytest.raises(CouldNotCheck, match="500"):
        judge_autoscaler_disabled(observations({}, failures={"policies": "API answered 500"}))


def test_judges_record_what_they_read() -> None:
    obs: Observations = observations({"policies": {"enabled": False}}).tracked()
    judge_autoscaler_disabled(obs)
    assert obs.reads == ["policies"]


def test_only_a_failed_cluster_gets_the_reconcile_call_and_the_key_stays_a_reference() -> None:
    from castui.tree.cluster_checks import _status_commands

    failed = {"status": "failed", "cluster_id": "c-1", "api_url": "https://api.cast.ai"}
    assert _status_commands(failed) == [["curl", "-sS", "-X", "POST", "-H", "X-API-Key: ${CASTAI_API_KEY}",
                                         "https://api.cast.ai/v1/kubernetes/external-clusters/c-1/reconcile"]]
    assert _status_commands({**failed, "status": "warning"}) == []
