"""Every Helm fix of the agent's chart runs, through a stand-in `helm` that does to the lab what
the chart's upgrade would (tests/core/helm_standin.py), and the re-check shows the cause gone.
The argv is the safe one: the installed chart version, `--reset-then-reuse-values`, never
`--reuse-values`, the release found by chart."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from castui.diagnosis import CauseVerdict
from castui.engine.execute import run_command
from castui.lab import start_lab
from tests.core.helm_standin import install_helm_standin
from tests.core.helpers import diagnose, lab_settings, verdicts

#: scenario → (symptom, cause) whose Helm fix must make the cause go away
HELM_FIXES = {
    "wrong-provider": ("agent-crashloop", "wrong-provider"),
    "wrong-provider-cloud": ("agent-crashloop", "wrong-provider"),
    "rbac-missing": ("agent-crashloop", "rbac-missing"),
    "invalid-api-key": ("agent-crashloop", "invalid-api-key"),
    "wrong-provider-umbrella": ("agent-crashloop", "wrong-provider"),
}


@pytest.fixture()
def helm_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    record = tmp_path / "helm-argv.jsonl"
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    install_helm_standin(tmp_path / "bin", record)
    monkeypatch.setenv("HELM_STANDIN_RECORD", str(record))
    return record


@pytest.mark.parametrize("scenario", sorted(HELM_FIXES))
def test_helm_fix_runs_and_the_cause_goes_away(scenario: str, helm_record: Path) -> None:
    symptom_id, cause_id = HELM_FIXES[scenario]
    with start_lab(scenario) as lab:
        settings = lab_settings(lab)
        before = diagnose(lab, [symptom_id])
        cause = next(c for s in before.symptoms for c in s.causes if c.id == cause_id)
        assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
        helm = [argv for argv in cause.fix.commands if argv[0] == "helm"]
        assert len(helm) == 1, cause.fix.commands
        assert "--reset-then-reuse-values" in helm[0] and "--reuse-values" not in helm[0]
        installed = "0.34.33" if "umbrella" in scenario else "0.161.1"
        assert helm[0][helm[0].index("--version") + 1] == installed  # the installed chart, not the newest
        result = asyncio.run(run_command(settings, cause.fix, helm[0], target=lab.cluster.context))
        assert result.exit_code == 0, (result.error, result.output)
        after = diagnose(lab, cause.fix.recheck)
    ran = [json.loads(line) for line in helm_record.read_text().splitlines()]
    upgrade = ran[0].index("upgrade")
    expected = ["upgrade", "castai", "castai-helm/castai"] if "umbrella" in scenario else \
        ["upgrade", "castai-agent", "castai-helm/castai-agent"]
    assert ran[0][upgrade:upgrade + 3] == expected
    if "umbrella" in scenario:
        assert "global.castai.provider=eks" in ran[0]  # the umbrella keeps the provider under global.castai
    assert ran[0][ran[0].index("--kube-context") + 1] == "castui-lab"  # the context castui diagnosed, pinned
    assert verdicts(after)[(symptom_id, cause_id)] is CauseVerdict.RULED_OUT


def test_a_terraform_installed_release_gets_the_terraform_change_not_a_helm_command() -> None:
    with start_lab("wrong-provider-terraform") as lab:
        diagnosis = diagnose(lab, ["agent-crashloop"])
    cause = next(c for s in diagnosis.symptoms for c in s.causes if c.id == "wrong-provider")
    assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
    assert cause.fix.commands == []
    assert cause.fix.note and "agent_values" in cause.fix.note and "terraform apply" in cause.fix.note


@pytest.mark.parametrize("scenario, symptom_id, cause_id", [
    ("evictor-aggressive-self-managed", "evictor-aggressive", "evictor-aggressive-mode"),
])
def test_a_self_managed_evictors_helm_fix_runs_and_the_cause_goes_away(scenario: str, symptom_id: str, cause_id: str,
                                                                      helm_record: Path) -> None:
    """Guide v2 §7: a self-managed Evictor is changed through its release (the policies do not own it)."""
    with start_lab(scenario) as lab:
        settings = lab_settings(lab)
        cause = next(c for s in diagnose(lab, [symptom_id]).symptoms for c in s.causes if c.id == cause_id)
        assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None and cause.fix.api_call is None
        [helm] = cause.fix.commands
        result = asyncio.run(run_command(settings, cause.fix, helm, target=lab.cluster.context))
        assert result.exit_code == 0, (result.error, result.output)
        after = diagnose(lab, cause.fix.recheck)
    ran = json.loads(helm_record.read_text().splitlines()[0])
    upgrade = ran.index("upgrade")
    assert ran[upgrade:upgrade + 3] == ["upgrade", "castai-evictor", "castai-helm/castai-evictor"]
    assert ran[ran.index("--version") + 1] == "0.35.143" and "--reset-then-reuse-values" in ran
    assert verdicts(after)[(symptom_id, cause_id)] is CauseVerdict.RULED_OUT


#: scenario → the helm-mismatch cause whose fix (run through the stand-in) must make it go away
COMPONENT_FIXES = {"chart-outdated": "chart-outdated", "release-not-deployed": "release-not-deployed"}


@pytest.mark.parametrize("scenario", sorted(COMPONENT_FIXES))
def test_a_helm_mismatch_fix_runs_and_the_cause_goes_away(scenario: str, helm_record: Path) -> None:
    cause_id = COMPONENT_FIXES[scenario]
    with start_lab(scenario) as lab:
        settings = lab_settings(lab)
        cause = next(c for s in diagnose(lab, ["helm-mismatch"]).symptoms for c in s.causes if c.id == cause_id)
        assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
        for argv in cause.fix.commands:
            result = asyncio.run(run_command(settings, cause.fix, argv, target=lab.cluster.context))
            assert result.exit_code == 0, (argv, result.error, result.output)
        after = diagnose(lab, cause.fix.recheck)
    ran = [json.loads(line) for line in helm_record.read_text().splitlines()]
    if scenario == "chart-outdated":  # to the newest chart, keeping values and the new chart's defaults
        upgrade = next(argv for argv in ran if "upgrade" in argv)
        assert upgrade[upgrade.index("upgrade"):upgrade.index("upgrade") + 3] == [
            "upgrade", "cluster-controller", "castai-helm/castai-cluster-controller"]
        assert upgrade[upgrade.index("--version") + 1] == "0.92.14" and "--reset-then-reuse-values" in upgrade
        assert "--reuse-values" not in upgrade
    else:  # history first (read-only), then the rollback to the last deployed revision, named
        assert [argv[argv.index("-n") - 3:argv.index("-n")] for argv in ran][-1] == ["rollback", "castai-evictor", "3"]
    assert all(argv[argv.index("--kube-context") + 1] == "castui-lab" for argv in ran if "repo" not in argv)
    assert verdicts(after)[("helm-mismatch", cause_id)] is CauseVerdict.RULED_OUT
