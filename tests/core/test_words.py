"""Words that agree with the counts: one of anything is singular."""

from __future__ import annotations

import pytest

from castui import cli


def test_a_problem_says_what_was_observed_never_an_all_clear(capsys: pytest.CaptureFixture[str]) -> None:
    # guide v2: a problem is observed; its line names the observation, not "4 releases deployed"
    assert cli.main(["diagnose", "--lab", "chart-outdated", "-s", "helm-mismatch"]) == 1
    out = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(out) if line.startswith("✗ PROBLEM: helm-mismatch"))
    assert "releases deployed" not in out[at + 1], out[at + 1]
    assert out[at + 1].strip().startswith("cluster-controller received actions its version does not support"), out[at + 1]


def test_one_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--lab", "unschedulable-pods-disabled", "-s", "no-scale-up"]) == 1
    out = capsys.readouterr().out
    assert "1 pod Pending" in out and "1 pods" not in out
    assert "1 problem, 0 unknown, 0 healthy; 1 cause confirmed" in out
