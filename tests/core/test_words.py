"""Words that agree with the counts: one of anything is singular."""

from __future__ import annotations

import pytest

from castui import cli


def test_one_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--lab", "unschedulable-pods-disabled", "-s", "no-scale-up"]) == 1
    out = capsys.readouterr().out
    assert "1 pod Pending" in out and "1 pods" not in out
    assert "1 problem, 0 unknown, 0 healthy; 1 cause confirmed" in out
