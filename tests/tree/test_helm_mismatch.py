"""helm-mismatch (guide v2 §9) on recorded observations."""

from __future__ import annotations

from typing import Any

from castui.diagnosis import CauseVerdict
from castui.tree.helm_mismatch import judge_not_deployed, judge_outdated, observe, rollback_commands, upgrade_commands
from castui.tree.model import CouldNotCheck
from castui.tree.releases import ReleaseRef
from tests.tree.judges import NOW, observations
from tests.tree.judges import verdict as judged

INDEX = {"castai-agent": "0.161.1", "castai-cluster-controller": "0.92.14", "castai-evictor": "0.35.143", "castai": "0.43.170"}
INVALID = ('time="2026-12-02T11:58:00Z" level=error msg="handle actions" action_id=9f1 '
           'error="invalid action, check action data or if cluster controller version supports this action type"')


def release(name: str, chart: str, version: str, status: str = "deployed", *, managed: bool = False,
            terraform: bool = False, revision: int = 3, history: list[list[Any]] | None = None,
            deployed: str = "2026-11-26T12:00:00+00:00") -> dict[str, Any]:
    return {"name": name, "chart": chart, "version": version, "app_version": "v1", "status": status, "revision": revision,
            "last_deployed": deployed, "managed": managed, "terraform": terraform,
            "history": history if history is not None else [[revision, status]]}


def verdict(judge: Any, releases: list[dict[str, Any]], *, index: Any = INDEX, logs: Any = None,
            failures: dict[str, str] | None = None) -> CauseVerdict:
    values = {"helm-releases": releases, "chart-index": index, "controller-logs": logs or {}}
    try:
        return judged(judge, values, failures=failures)
    except CouldNotCheck:
        return CauseVerdict.UNKNOWN


CURRENT = [release("castai-agent", "castai-agent", "0.161.1"),
           release("cluster-controller", "castai-cluster-controller", "0.92.14")]


def test_cluster_controller_rejecting_actions_confirms_chart_outdated() -> None:
    old = [release("cluster-controller", "castai-cluster-controller", "0.85.0")]
    assert verdict(judge_outdated, old, logs={"castai-cluster-controller-x": [INVALID]}) is CauseVerdict.CONFIRMED


def test_an_agent_behind_the_newest_chart_is_latent_not_confirmed() -> None:
    # v1 confirmed chart-outdated for any chart behind the index; the agent is never auto-updated: a risk
    behind = [release("castai-agent", "castai-agent", "0.150.0")]
    assert verdict(judge_outdated, behind) is CauseVerdict.LATENT


def test_charts_cast_ai_upgrades_itself_are_ruled_out_when_behind() -> None:
    # v1 confirmed chart-outdated for a CAST AI-managed evictor and cluster-controller
    managed = [release("castai-evictor", "castai-evictor", "0.35.120", managed=True),
               release("cluster-controller", "castai-cluster-controller", "0.90.2")]
    assert verdict(judge_outdated, managed) is CauseVerdict.RULED_OUT


def test_terraform_component_releases_are_ruled_out_but_a_terraform_agent_is_latent() -> None:
    assert verdict(judge_outdated, [release("castai-spot-handler", "castai-evictor", "0.35.1", terraform=True)]) is CauseVerdict.RULED_OUT
    assert verdict(judge_outdated, [release("castai-agent", "castai-agent", "0.150.0", terraform=True)]) is CauseVerdict.LATENT


def test_the_umbrella_release_is_compared_as_one_chart() -> None:
    assert verdict(judge_outdated, [release("castai", "castai", "0.43.170")]) is CauseVerdict.RULED_OUT
    assert verdict(judge_outdated, [release("castai", "castai", "0.40.1")]) is CauseVerdict.LATENT


def test_current_charts_are_ruled_out_and_an_unread_index_is_unknown() -> None:
    assert verdict(judge_outdated, CURRENT) is CauseVerdict.RULED_OUT
    assert verdict(judge_outdated, CURRENT, failures={"chart-index": "no answer"}) is CauseVerdict.UNKNOWN


def test_a_failed_release_is_self_evident_and_names_the_revision_to_roll_back_to() -> None:
    failed = [release("castai-evictor", "castai-evictor", "0.35.143", "failed", revision=4, history=[[3, "deployed"], [4, "failed"]])]
    judgement = judge_not_deployed(observations({"helm-releases": failed, "chart-index": INDEX}))
    assert judgement.verdict is CauseVerdict.CONFIRMED and judgement.fix_args["rollback_to"] == "3"
    assert rollback_commands({**judgement.fix_args, "ns": "castai-agent"}) == [
        ["helm", "history", "castai-evictor", "-n", "castai-agent"],
        ["helm", "rollback", "castai-evictor", "3", "-n", "castai-agent"]]


def test_pending_counts_only_after_ten_minutes() -> None:
    young = [release("castai-agent", "castai-agent", "0.161.1", "pending-upgrade", deployed=(NOW.isoformat()))]
    old = [release("castai-agent", "castai-agent", "0.161.1", "pending-upgrade", deployed="2026-12-02T11:40:00+00:00")]
    assert verdict(judge_not_deployed, young) is CauseVerdict.RULED_OUT
    assert verdict(judge_not_deployed, old) is CauseVerdict.CONFIRMED


def test_observed_by_a_broken_release_or_the_invalid_action_line_only() -> None:
    assert observe(observations({"helm-releases": CURRENT, "chart-index": INDEX, "controller-logs": {}})).observed is False
    assert observe(observations({"helm-releases": CURRENT, "controller-logs": {"cc": [INVALID]}})).observed is True
    behind = [release("castai-agent", "castai-agent", "0.150.0")]
    assert observe(observations({"helm-releases": behind, "chart-index": INDEX, "controller-logs": {}})).observed is False


def test_upgrades_are_pinned_and_keep_new_defaults_and_terraform_gets_no_helm_command() -> None:
    ref = ReleaseRef(name="castai-agent", chart="castai-agent", component="castai-agent", version="0.150.0")
    commands = upgrade_commands({"release": ref, "newest": "0.161.1", "ns": "castai-agent"})
    assert commands[-1] == ["helm", "upgrade", "castai-agent", "castai-helm/castai-agent", "-n", "castai-agent",
                            "--version", "0.161.1", "--reset-then-reuse-values"]
    assert not any("--reuse-values" in argv for argv in commands)
    terraform = ReleaseRef(name="castai-agent", chart="castai-agent", component="castai-agent", version="0.150.0", terraform=True)
    assert upgrade_commands({"release": terraform, "newest": "0.161.1", "ns": "castai-agent"}) == []
