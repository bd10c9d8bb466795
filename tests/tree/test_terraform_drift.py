"""terraform-drift-detected (guide v2 §8) on recorded observations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from castui.clients.terraform import read_state
from castui.diagnosis import CauseVerdict
from castui.tree.model import CouldNotCheck
from castui.tree.terraform_drift import judge_drift, observe
from tests.tree.judges import observations
from tests.tree.judges import verdict as judged


def verdict(judge: Any, values: dict[str, Any], **kwargs: Any) -> CauseVerdict:
    """As the runner judges: a check that could not run makes the cause unknown."""
    try:
        return judged(judge, values, **kwargs)
    except CouldNotCheck:
        return CauseVerdict.UNKNOWN

LIVE = {"enabled": True, "unschedulablePods": {"enabled": True},
        "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 300},
                           "evictor": {"enabled": True, "aggressiveMode": False, "status": "Compatible"}},
        "clusterLimits": {"enabled": True, "cpu": {"maxCores": 64}}}


def state(declared: dict[str, Any] | None, *, templates: list[dict[str, Any]] | None = None,
          resources: list[str] | None = None) -> dict[str, Any]:
    return {"state_file": "terraform.tfstate", "address": "castai_autoscaler.this" if declared is not None else None,
            "cluster_id": "c", "declared": declared, "node_templates": templates or [],
            "castai_resources": resources if resources is not None else ["castai_autoscaler.this"]}


def drift(recorded_state: Any, policies: Any = LIVE, templates: Any = None) -> CauseVerdict:
    return verdict(judge_drift, {"terraform-state": recorded_state, "policies": policies, "node-templates": templates})


def test_a_declared_field_that_differs_is_drift() -> None:
    assert drift(state({"nodeDownscaler": {"emptyNodes": {"delaySeconds": 120}}})) is CauseVerdict.CONFIRMED


def test_undeclared_keys_never_drift() -> None:
    # the provider merges the configuration onto the live policies: what Terraform omits is not its business
    assert drift(state({"nodeDownscaler": {"emptyNodes": {"enabled": True}}})) is CauseVerdict.RULED_OUT


def test_volatile_status_fields_are_dropped() -> None:
    assert drift(state({"nodeDownscaler": {"evictor": {"status": "Incompatible"}}})) is CauseVerdict.RULED_OUT


def test_a_diff_only_in_template_synced_fields_is_a_provider_artefact() -> None:
    judgement = judge_drift(observations({"terraform-state": state({"unschedulablePods": {"customInstancesEnabled": True}}),
                                          "policies": LIVE, "node-templates": None}))
    assert judgement.verdict is CauseVerdict.RULED_OUT and "upgrade the castai provider" in judgement.reason


def test_no_castai_resources_in_the_state_is_ruled_out() -> None:
    assert drift(state(None, resources=[])) is CauseVerdict.RULED_OUT


def test_no_state_looked_at_is_unknown_never_healthy() -> None:
    # issue 15 item 8: v1 said "terraform-drift ✓ HEALTHY" with no state looked at
    assert drift(None) is CauseVerdict.UNKNOWN
    assert observe(observations({"terraform-state": None})).observed is None


def test_policies_the_api_did_not_answer_are_unknown() -> None:
    assert verdict(judge_drift, {"terraform-state": state({"enabled": True}), "node-templates": None},
                   failures={"policies": "HTTP 500"}) is CauseVerdict.UNKNOWN


def test_node_template_constraints_are_compared_by_template_name() -> None:
    templates = [{"address": "castai_node_template.spot", "name": "spot",
                  "declared": {"isEnabled": True, "constraints": {"useSpotFallbacks": True, "minCpu": 0}}}]
    live = [{"name": "spot", "isEnabled": True, "constraints": {"useSpotFallbacks": False}}]
    assert drift(state(None, templates=templates, resources=["castai_node_template.spot"]), templates=live) is CauseVerdict.CONFIRMED
    same = [{"name": "spot", "isEnabled": True, "constraints": {"useSpotFallbacks": True}}]
    # minCpu 0 in the state, absent live: the API omits zero values, that is no drift
    assert drift(state(None, templates=templates, resources=["castai_node_template.spot"]), templates=same) is CauseVerdict.RULED_OUT


def test_a_state_from_a_bundle_recorded_before_v2_is_still_judged() -> None:
    old = {"address": "castai_autoscaler.this", "cluster_id": "c", "declared": {"enabled": False}, "state_file": "x"}
    assert drift(old) is CauseVerdict.CONFIRMED


def write(tmp_path: Path, resources: list[dict[str, Any]]) -> Path:
    import json

    (tmp_path / "terraform.tfstate").write_text(json.dumps({"version": 4, "resources": resources}))
    return tmp_path


def test_read_state_lists_castai_resources_and_node_templates(tmp_path: Path) -> None:
    found = read_state(write(tmp_path, [
        {"mode": "managed", "type": "aws_eks_cluster", "name": "this", "instances": [{"attributes": {}}]},
        {"mode": "managed", "type": "castai_node_template", "name": "spot", "instances": [{"attributes": {
            "name": "spot", "is_enabled": True, "constraints": [{"use_spot_fallbacks": True, "architectures": ["amd64"]}]}}]},
    ]))
    assert found is not None and found["castai_resources"] == ["castai_node_template.spot"] and found["declared"] is None
    assert found["node_templates"] == [{"address": "castai_node_template.spot", "name": "spot",
                                        "declared": {"isEnabled": True, "constraints": {"useSpotFallbacks": True}}}]


def test_read_state_without_castai_resources_says_so(tmp_path: Path) -> None:
    found = read_state(write(tmp_path, [{"mode": "managed", "type": "aws_eks_cluster", "name": "this",
                                         "instances": [{"attributes": {}}]}]))
    assert found is not None and found["castai_resources"] == []


def remote_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """A directory with a remote backend configured, and a stand-in `terraform` first on PATH."""
    import os

    work = tmp_path / "infra"
    (work / ".terraform").mkdir(parents=True)
    (work / ".terraform" / "terraform.tfstate").write_text('{"version": 3, "backend": {"type": "s3"}}')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text("#!/bin/sh\n" + script)
    (bin_dir / "terraform").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return work


def test_a_remote_backend_is_read_with_terraform_state_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    state = {"version": 4, "resources": [{"mode": "managed", "type": "castai_autoscaler", "name": "this", "instances": [
        {"attributes": {"cluster_id": "c", "autoscaler_settings": [{"enabled": True}]}}]}]}
    work = remote_backend(tmp_path, monkeypatch, f'[ "$1" = "-chdir={tmp_path / "infra"}" ] && [ "$2 $3" = "state pull" ] '
                                                 f"&& cat <<'EOF'\n{json.dumps(state)}\nEOF\n")
    found = read_state(work)
    assert found is not None and found["declared"] == {"enabled": True} and "state pull" in found["state_file"]


def test_a_remote_backend_that_cannot_be_pulled_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from castui.clients.errors import CastuiError

    work = remote_backend(tmp_path, monkeypatch, 'echo "Error: AccessDenied: no credentials" >&2; exit 1\n')
    with pytest.raises(CastuiError, match="AccessDenied") as raised:
        read_state(work)
    assert "state pull" in str(raised.value)
