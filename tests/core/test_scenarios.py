"""Every lab scenario confirms exactly the causes it was built for, through the real
clients over HTTP; the healthy lab rules every cause out."""

from __future__ import annotations

import pytest

from castui.diagnosis import CauseVerdict
from castui.lab import start_lab
from castui.lab.scenarios import SCENARIOS
from castui.tree import SYMPTOMS, cause_ids
from tests.core.helpers import confirmed_ids, diagnose


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_confirms_exactly_its_causes(name: str) -> None:
    with start_lab(name) as lab:
        diagnosis = diagnose(lab)
    assert confirmed_ids(diagnosis) == set(SCENARIOS[name].confirms)
    assert diagnosis.exit_code == (1 if SCENARIOS[name].confirms else 0)


def test_healthy_lab_rules_out_every_cause_and_every_check_runs() -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab)
    assert {s.id for s in diagnosis.symptoms} == {s.id for s in SYMPTOMS}
    not_ruled_out = [(s.id, c.id, c.reason) for s in diagnosis.symptoms for c in s.causes if c.verdict is not CauseVerdict.RULED_OUT]
    assert not_ruled_out == []
    assert [c.id for s in diagnosis.symptoms for c in s.checks if c.reason] == []
    assert diagnosis.exit_code == 0


def test_every_cause_of_the_guide_has_a_scenario_that_confirms_it() -> None:
    covered = set().union(*(s.confirms for s in SCENARIOS.values()))
    assert set(cause_ids()) <= covered


def test_a_confirmed_cause_carries_evidence_or_a_reason_and_a_fix() -> None:
    with start_lab("demo") as lab:
        diagnosis = diagnose(lab)
    for _, cause in diagnosis.confirmed():
        assert cause.reason
        assert cause.fix is not None and cause.fix.title
        assert cause.fix.commands or cause.fix.api_call or not cause.fix.mutates
