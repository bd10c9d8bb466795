"""The fixes of no-scale-up and spot-fallback as a user meets them on the lab: pod-level causes
name the pod and template and hand over read-only commands that really run; a failed cluster's
reconcile call keeps the key a reference and is offered for copying, never run with the key in argv."""

from __future__ import annotations

import asyncio

import pytest

from castui.diagnosis import CauseVerdict, Diagnosis, Fix
from castui.engine.execute import NotExecutable, executable_argv, run_command
from castui.lab import start_lab
from tests.core.helpers import diagnose, lab_settings


def confirmed_fix(diagnosis: Diagnosis, symptom_id: str, cause_id: str) -> Fix:
    symptom = next(s for s in diagnosis.symptoms if s.id == symptom_id)
    cause = next(c for c in symptom.causes if c.id == cause_id)
    assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None, (cause.verdict, cause.reason)
    return cause.fix


@pytest.mark.parametrize(("scenario", "cause_id", "in_title", "in_output"), [
    ("no-matching-node-template", "no-matching-node-template", "template gpu-a100", "gpu-a100"),
    ("node-template-taint-not-tolerated", "no-matching-node-template", "template batch", "batch"),
    ("scoped-mode-excludes", "scoped-mode-excludes", "deployment/checkout", None),  # it has no tolerations
])
def test_pod_level_fixes_name_the_pod_and_their_command_runs(scenario: str, cause_id: str, in_title: str,
                                                             in_output: str | None) -> None:
    with start_lab(scenario) as lab:
        fix = confirmed_fix(diagnose(lab, ["no-scale-up"]), "no-scale-up", cause_id)
        argv = fix.commands[0]
        assert not fix.mutates and argv[0] == "kubectl" and argv[argv.index("get") + 1] == "pod"  # a read, pinned context and all
        result = asyncio.run(run_command(lab_settings(lab), fix, fix.commands[0], target="castui-lab"))
    assert result.exit_code == 0, (result.command, result.error, result.output)
    assert in_title in fix.title
    if in_output is not None:
        assert any(in_output in line for _, line in result.output), result.output


def test_a_failed_cluster_gets_a_reconcile_call_to_copy_and_a_warning_only_guidance() -> None:
    with start_lab("scale-up-cluster-failed") as lab:
        failed = confirmed_fix(diagnose(lab, ["no-scale-up"]), "no-scale-up", "cluster-status-warning")
    [curl] = failed.commands
    assert curl[-1].endswith("/reconcile") and "X-API-Key: ${CASTAI_API_KEY}" in curl
    with pytest.raises(NotExecutable):
        executable_argv(curl, None)
    with start_lab("scale-up-cluster-warning") as lab:
        warning = confirmed_fix(diagnose(lab, ["no-scale-up"]), "no-scale-up", "cluster-status-warning")
    assert warning.commands == [] and "ec2:RunInstances" in (warning.note or "")


def test_spot_fallback_is_fixed_on_the_pods_template_as_guidance() -> None:
    with start_lab("spot-backups-disabled") as lab:
        fix = confirmed_fix(diagnose(lab, ["spot-fallback"]), "spot-fallback", "spot-backups-disabled")
    assert fix.commands == [] and fix.api_call is None
    assert "default-by-castai" in fix.title and "use_spot_fallbacks" in (fix.note or "")
