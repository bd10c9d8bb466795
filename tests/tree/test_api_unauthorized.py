"""api-unauthorized's judges (guide v2 §3) on recorded observations."""

from __future__ import annotations

from castui.diagnosis import CauseVerdict
from castui.tree.api_unauthorized import (
    judge_key_forbidden,
    judge_key_invalid,
    judge_key_missing,
    judge_region_mismatch,
    observe,
)
from tests.tree.judges import observations, verdict


def test_v1_mistake_a_missing_key_in_a_run_of_every_check_is_unknown_not_a_cause() -> None:
    assert verdict(judge_key_missing, {"api-key-present": False}) is CauseVerdict.UNKNOWN
    assert observe(observations({"api-cluster-list": {"status": None}})).observed is None


def test_a_missing_key_is_confirmed_when_the_user_names_the_symptom() -> None:
    assert verdict(judge_key_missing, {"api-key-present": False}, named=True) is CauseVerdict.CONFIRMED
    assert observe(observations({"api-cluster-list": {"status": None}}, named=True)).observed is True


def test_401_on_the_list_is_an_invalid_key_and_403_on_this_cluster_a_forbidden_one() -> None:
    assert verdict(judge_key_invalid, {"api-cluster-list": {"status": 401}}) is CauseVerdict.CONFIRMED
    assert verdict(judge_key_forbidden, {"api-cluster-list": {"status": 200}, "api-cluster-access": {"status": 403}}) \
        is CauseVerdict.CONFIRMED
    assert observe(observations({"api-cluster-list": {"status": 200}, "api-cluster-access": {"status": 403}})).observed is True


def test_the_other_regions_key_is_told_from_the_agents_api_url() -> None:
    other = {"castui_url": "https://api.cast.ai", "castui_region": "US", "agent_url": "https://api.eu.cast.ai", "agent_region": "EU"}
    same = {**other, "agent_url": "https://api.cast.ai", "agent_region": "US"}
    assert verdict(judge_region_mismatch, {"api-cluster-list": {"status": 401}, "api-region": other}) is CauseVerdict.CONFIRMED
    assert verdict(judge_region_mismatch, {"api-cluster-list": {"status": 401}, "api-region": same}) is CauseVerdict.RULED_OUT
    assert verdict(judge_region_mismatch, {"api-cluster-list": {"status": 200}, "api-region": other}) is CauseVerdict.RULED_OUT
