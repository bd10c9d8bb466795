"""The lab's CAST AI API as any HTTP client sees it: the agent's header spelling,
the API's error bodies, and a replayed bundle refusing writes."""

from __future__ import annotations

import httpx

from castui.lab.server import LabServer

from .lab_data import CLUSTER_ID, KEY

POLICIES = f"/v1/kubernetes/clusters/{CLUSTER_ID}/policies"


def test_the_key_header_is_matched_in_any_case(lab: LabServer) -> None:
    answer = httpx.get(f"{lab.url}/v1/kubernetes/external-clusters", headers={"x-api-key": KEY})
    assert answer.status_code == 200 and len(answer.json()["items"]) == 2


def test_a_missing_key_is_401_with_the_apis_error_body(lab: LabServer) -> None:
    answer = httpx.get(f"{lab.url}/v1/auth/tokens")
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})


def test_the_default_template_can_be_left_out(lab: LabServer) -> None:
    answer = httpx.get(
        f"{lab.url}/v1/kubernetes/clusters/{CLUSTER_ID}/node-templates",
        params={"includeDefault": "false"},
        headers={"X-API-Key": KEY},
    )
    assert [i["template"]["name"] for i in answer.json()["items"]] == ["gpu"]


def test_a_read_only_lab_refuses_policy_writes(lab: LabServer) -> None:
    lab.state.read_only = True
    answer = httpx.put(f"{lab.url}{POLICIES}", json={"enabled": False}, headers={"X-API-Key": KEY})
    assert answer.status_code == 405
    assert lab.state.castai.policies[CLUSTER_ID]["enabled"] is True


def test_a_policies_body_that_is_not_an_object_is_rejected(lab: LabServer) -> None:
    answer = httpx.put(f"{lab.url}{POLICIES}", content=b"[1, 2", headers={"X-API-Key": KEY})
    assert answer.status_code == 400 and "invalid JSON" in answer.json()["message"]
