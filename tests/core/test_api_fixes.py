"""Fixes that are CAST AI API calls: castui shows what changes, makes the PUT itself,
and the re-check shows the cause gone; the curl it offers says ${CASTAI_API_KEY}."""

from __future__ import annotations

import asyncio

import pytest

from castui.clients.errors import ReadOnlyMode
from castui.diagnosis import CauseVerdict
from castui.engine.execute import apply_api_call
from castui.engine.session import Session
from castui.lab import start_lab
from castui.lab.scenarios import CLUSTER_ID, SCENARIOS
from tests.core.helpers import lab_settings, verdicts

API_FIXES = {
    "unschedulable-pods-disabled": ("no-scale-up", "unschedulable-pods-disabled", "unschedulablePods.enabled"),
    "cluster-cpu-limit-reached": ("no-scale-up", "cluster-cpu-limit-reached", "clusterLimits.cpu.maxCores"),
    "node-downscaler-disabled": ("no-scale-down", "node-downscaler-disabled", "nodeDownscaler.enabled"),
    "evictor-disabled": ("no-scale-down", "evictor-disabled", "nodeDownscaler.evictor.enabled"),
    "evictor-dry-run": ("no-scale-down", "evictor-dry-run", "nodeDownscaler.evictor.dryRun"),
    "evictor-aggressive-mode": ("evictor-aggressive", "evictor-aggressive-mode", "nodeDownscaler.evictor.aggressiveMode"),
    "evictor-cycle-short": ("evictor-aggressive", "evictor-cycle-short", "nodeDownscaler.evictor.cycleInterval"),
    "scale-up-autoscaler-disabled": ("no-scale-up", "autoscaler-disabled", "enabled"),
}


async def fix_and_recheck(lab, symptom_id: str, cause_id: str, **flags):
    async with Session(lab_settings(lab, **flags)) as session:
        before = await session.diagnose([symptom_id])
        cause = next(c for s in before.symptoms for c in s.causes if c.id == cause_id)
        assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix and cause.fix.api_call
        result = await apply_api_call(session, cause.fix, target="castui-lab")
        after = await session.diagnose(cause.fix.recheck)
        return cause.fix, result, after


@pytest.mark.parametrize("scenario", sorted(API_FIXES))
def test_api_fix_changes_the_policies_and_the_recheck_passes(scenario: str) -> None:
    symptom_id, cause_id, path = API_FIXES[scenario]
    with start_lab(scenario) as lab:  # the scenario's user names its nodes (the Evictor's causes need one)
        fix, result, after = asyncio.run(fix_and_recheck(lab, symptom_id, cause_id, nodes=list(SCENARIOS[scenario].nodes)))
    assert result.ok, result.error
    assert path in fix.api_call.changes
    assert verdicts(after)[(symptom_id, cause_id)] is CauseVerdict.RULED_OUT
    curl = next(argv for argv in fix.commands if "curl" in " ".join(argv))
    # the printed form reads the policies, changes one field and PUTs them: the key only as the variable
    assert "X-API-Key: $CASTAI_API_KEY" in " ".join(curl) and f"/clusters/{CLUSTER_ID}/policies" in " ".join(curl)
    assert lab.api_key not in " ".join(curl)


def test_read_only_refuses_the_api_call_in_the_engine() -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        with pytest.raises(ReadOnlyMode):
            asyncio.run(fix_and_recheck(lab, "no-scale-up", "unschedulable-pods-disabled", read_only=True))
        policies = lab.cluster.policies
    assert policies["unschedulablePods"]["enabled"] is False
