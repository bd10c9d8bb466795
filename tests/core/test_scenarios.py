"""Every lab scenario confirms exactly the causes it was built for and leaves exactly its
latent ones, through the real clients over HTTP; the healthy lab rules every cause out and
the false-alarm traps confirm nothing."""

from __future__ import annotations

import pytest

from castui.diagnosis import CauseVerdict
from castui.lab import start_lab
from castui.lab.scenarios import SCENARIOS
from castui.tree import SYMPTOMS, cause_ids
from tests.core.helpers import diagnose

#: the 44 cause ids of the decision tree v2 (shared/castai-troubleshooting-guide.md): a public contract
GUIDE_V2_CAUSES = frozenset("""
agent-not-running agent-oomkilled api-key-forbidden api-key-invalid api-key-missing api-region-mismatch autoscaler-disabled
chart-outdated cloud-metadata-unreachable cluster-controller-drains cluster-controller-not-running cluster-cpu-limit-reached
cluster-hibernated cluster-status-warning empty-nodes-delay-high eviction-storm evictor-aggressive-mode evictor-cycle-short
evictor-disabled evictor-dry-run evictor-self-managed heartbeat-failing insufficient-metrics invalid-api-key
metrics-server-missing missing-annotation network-blocked no-matching-node-template node-downscaler-disabled
node-pressure-evictions node-removal-disabled pdb-blocking-eviction rbac-missing release-not-deployed scoped-mode-excludes
spot-backups-disabled spot-diversity-disabled spot-price-limit-out-of-range system-pods-blocking-drain
terraform-drift-detected unschedulable-pods-disabled workload-autoscaler-not-running workload-error wrong-provider
""".split())
#: v2 keeps these ids in the output, always ruled out (their field-guide advice does not apply)
ALWAYS_RULED_OUT = frozenset({"spot-diversity-disabled", "spot-price-limit-out-of-range"})


def verdict_ids(diagnosis, verdict: CauseVerdict) -> set[str]:  # noqa: ANN001
    return {c.id for s in diagnosis.symptoms for c in s.causes if c.verdict is verdict}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_confirms_exactly_its_causes_and_leaves_its_latent_ones(name: str) -> None:
    scenario = SCENARIOS[name]
    with start_lab(name) as lab:
        diagnosis = diagnose(lab, scenario.named or None, nodes=list(scenario.nodes))
    confirmed = verdict_ids(diagnosis, CauseVerdict.CONFIRMED)
    assert confirmed == set(scenario.confirms), [(c.id, c.reason) for s in diagnosis.symptoms for c in s.causes
                                                 if c.id in confirmed ^ set(scenario.confirms)]
    assert verdict_ids(diagnosis, CauseVerdict.LATENT) == set(scenario.latent)
    # latent findings are risks: they never set the failure exit code
    assert diagnosis.exit_code == (1 if scenario.confirms else 0), [
        (c.id, c.reason) for s in diagnosis.symptoms for c in s.causes if c.verdict is CauseVerdict.UNKNOWN]
    own_checks = {s.id: {c.id for c in s.checks} for s in SYMPTOMS}
    for symptom in diagnosis.symptoms:
        for cause in symptom.causes:
            # `checks` is what the judge read: a check of its own symptom, and something unless it judges by rule alone
            assert set(cause.checks) <= own_checks[symptom.id], (cause.id, cause.checks)
            assert cause.checks or cause.id in ALWAYS_RULED_OUT, cause.id
            if cause.verdict is CauseVerdict.CONFIRMED:
                # guide v2: confirmed only when its symptom is observed, and never without evidence
                assert symptom.observed, (symptom.id, cause.id)
                assert cause.evidence, cause.id
            for evidence in cause.evidence:
                if evidence.kind == "log":  # `F` follows it: it says which pod's container it was read from
                    assert evidence.source is not None and evidence.source.pod in evidence.title, (cause.id, evidence.title)


def test_healthy_lab_rules_out_every_cause_and_every_check_runs() -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab)
    assert {s.id for s in diagnosis.symptoms} == {s.id for s in SYMPTOMS}
    not_ruled_out = [(s.id, c.id, c.reason) for s in diagnosis.symptoms for c in s.causes if c.verdict is not CauseVerdict.RULED_OUT]
    assert not_ruled_out == []
    assert [c.id for s in diagnosis.symptoms for c in s.checks if c.reason] == []
    assert diagnosis.exit_code == 0


def test_the_tree_has_exactly_the_44_causes_of_the_guide() -> None:
    assert set(cause_ids()) == GUIDE_V2_CAUSES


def test_every_cause_of_the_guide_has_a_scenario_that_confirms_it() -> None:
    covered = set().union(*(s.confirms for s in SCENARIOS.values()))
    assert GUIDE_V2_CAUSES - ALWAYS_RULED_OUT - covered == set()


def test_every_cause_lists_exactly_the_checks_its_judge_read() -> None:
    """`checks` is derived from the reads: a cause that read nothing lists nothing, and no
    cause lists a check its symptom does not have."""
    with start_lab("demo") as lab:
        diagnosis = diagnose(lab)
    for result, symptom in zip(diagnosis.symptoms, SYMPTOMS, strict=True):
        own = {c.id for c in symptom.checks}
        for cause in result.causes:
            assert set(cause.checks) <= own, (cause.id, cause.checks)
            assert cause.checks or cause.id in ALWAYS_RULED_OUT, cause.id


def test_a_confirmed_cause_carries_evidence_or_a_reason_and_a_fix() -> None:
    with start_lab("demo") as lab:
        diagnosis = diagnose(lab)
    for _, cause in diagnosis.confirmed():
        assert cause.reason
        assert cause.fix is not None and cause.fix.title
        assert cause.fix.commands or cause.fix.api_call or not cause.fix.mutates
