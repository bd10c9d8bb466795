"""Words that agree with the badges and the counts: a problem's line leads with its confirmed cause,
and one of anything is singular."""

from __future__ import annotations

import pytest

from castui import cli


def test_a_problem_found_through_a_cause_says_so_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--lab", "chart-outdated", "-s", "helm-mismatch"]) == 1
    out = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(out) if line.startswith("✗ PROBLEM: helm-mismatch"))
    assert out[at + 1].strip().startswith("chart-outdated confirmed; "), out[at + 1]


def test_one_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--lab", "unschedulable-pods-disabled", "-s", "no-scale-up"]) == 1
    out = capsys.readouterr().out
    assert "1 pod is Pending" in out and "1 pods" not in out
    assert "1 problem, 0 unknown, 0 healthy; 1 cause confirmed" in out
