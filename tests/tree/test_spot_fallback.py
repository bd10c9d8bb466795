"""spot-fallback (guide v2 §6), judged on recorded observations."""

from __future__ import annotations

from typing import Any

from castui.diagnosis import CauseVerdict
from castui.tree.spot_fallback import (
    judge_backups,
    judge_diversity,
    judge_price_limit,
    observe,
)
from tests.tree.judges import observations, verdict
from tests.tree.test_no_scale_up import POLICIES, pod, template

CONFIRMED, LATENT, RULED_OUT, UNKNOWN = CauseVerdict.CONFIRMED, CauseVerdict.LATENT, CauseVerdict.RULED_OUT, CauseVerdict.UNKNOWN
SPOT = {"scheduling.cast.ai/spot": "true"}


def seen(*pods: dict[str, Any], templates: list[dict[str, Any]] | None = None, spot_instances: dict[str, Any] | None = None,
         ) -> dict[str, Any]:
    return {"pending-pods": {"pods": list(pods), "events": [], "events_error": None},
            "node-templates": templates if templates is not None else [template(useSpotFallbacks=True)],
            "policies": {**POLICIES, "spotInstances": spot_instances or {"enabled": True, "spotBackups": {"enabled": True}}}}


def test_pods_that_select_spot_or_whose_template_is_spot_only_are_observed() -> None:
    assert observe(observations(seen(pod(selector=SPOT)))).observed is True
    spot_only = [template(onDemand=False, useSpotFallbacks=True)]
    assert observe(observations(seen(pod(), templates=spot_only))).observed is True
    assert observe(observations(seen(pod()))).observed is False  # a mixed template, no spot selector
    assert observe(observations(seen(pod(selector=SPOT, minutes=5)))).observed is False


def test_fallback_off_on_the_pods_template_is_confirmed_and_names_it() -> None:
    judgement = judge_backups(observations(seen(pod(selector=SPOT), templates=[template(useSpotFallbacks=False)])))
    assert judgement.verdict is CONFIRMED and judgement.fix_args["template"] == "default-by-castai"


def test_the_selected_template_decides_not_the_default() -> None:
    templates = [template(useSpotFallbacks=False), template("crawl", useSpotFallbacks=True)]
    chosen = pod(selector={**SPOT, "scheduling.cast.ai/node-template": "crawl"})
    assert verdict(judge_backups, seen(chosen, templates=templates)) is RULED_OUT


def test_the_policies_decide_only_where_no_template_applies() -> None:
    off = {"enabled": True, "spotBackups": {"enabled": False}}
    assert verdict(judge_backups, seen(pod(selector=SPOT), templates=[], spot_instances=off)) is CONFIRMED
    # v1 read the policies even when a template said otherwise
    assert verdict(judge_backups, seen(pod(selector=SPOT), spot_instances=off)) is RULED_OUT


def test_a_template_without_the_field_is_unknown() -> None:
    assert verdict(judge_backups, seen(pod(selector=SPOT), templates=[template()])) is UNKNOWN


def test_no_waiting_spot_pod_leaves_an_idle_spot_template_without_fallback_latent() -> None:
    assert verdict(judge_backups, seen(templates=[template(useSpotFallbacks=False)])) is LATENT
    assert verdict(judge_backups, seen()) is RULED_OUT


def test_diversity_off_and_any_price_limit_are_always_ruled_out() -> None:
    # v1: "spot in use with diversity off (CAST AI's default): two spot causes confirmed"
    diversity_off = seen(pod(selector=SPOT), templates=[template(useSpotFallbacks=True, enableSpotDiversity=False)])
    assert verdict(judge_diversity, diversity_off) is RULED_OUT
    assert verdict(judge_price_limit, diversity_off) is RULED_OUT
    assert verdict(judge_price_limit, seen(pod(selector=SPOT), templates=[template(spotDiversityPriceIncreaseLimitPercent=50)])) is RULED_OUT
