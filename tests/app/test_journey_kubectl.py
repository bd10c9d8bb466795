"""The whole journey for a kubectl fix, as a user makes it on the heartbeat-failing lab:
pick "agent disconnected", see heartbeat-failing confirmed, read the marked log line,
copy the fix, run `kubectl rollout restart` after confirming, and see the cause ruled out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from textual.widgets import Log, Static

from castui.lab import RunningLab
from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from castui.widgets.log_view import LogView
from tests.app.conftest import finish_triage, lab_on_fixed_clock, text_of, wait_for, wait_for_screen

COMMAND = "kubectl rollout restart deployment/castai-agent -n castai-agent"


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    running = lab_on_fixed_clock("heartbeat-failing")
    yield running
    running.stop()


async def test_heartbeat_failing_from_symptom_to_verified_fix(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        # the home screen: agent-disconnected is the second symptom
        await pilot.press("2")
        triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
        diagnosis, asked = await finish_triage(pilot)
        assert asked == ["in-cluster-curl"], "the active check asks before it creates a pod"
        assert [c.id for _, c in diagnosis.confirmed()] == ["heartbeat-failing"]
        assert "heartbeat-failing" in text_of(triage.query_one("#triage-summary", Static))

        # the cursor lands on the confirmed cause; its log evidence has the failing deltas marked
        await wait_for(pilot, lambda: triage.highlighted_cause() and triage.highlighted_cause()[1].id == "heartbeat-failing",
                       "the cursor on the confirmed cause")
        await pilot.press("v")
        log = triage.query_one(LogView)
        await wait_for(pilot, lambda: log.has_focus and triage.evidence_full, "the evidence to open")
        assert triage.query_one("#reach").region.height, "full-screen evidence keeps the header"
        cause = triage.highlighted_cause()[1]
        marked = cause.evidence[0].highlight
        assert log.cursor == marked[0]
        assert any("failed sending delta" in line and "status_code=502" in line for line in log.visible_text())
        assert f"{len(marked)} marked" in log.status()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not triage.evidence_full, "the evidence to close")

        # the fix: copy gives exactly the shell-quoted command, through OSC 52; no system clipboard here
        await pilot.press("f")
        fix = await wait_for_screen(pilot, RemediationScreen)
        await pilot.press("c")
        status = fix.query_one("#fix-status", Static)
        await wait_for(pilot, lambda: "Copied" in text_of(status), "the copy to finish")
        # what is copied names the context and kubeconfig castui diagnosed: what runs is what was copied
        assert app.clipboard == f"kubectl --context castui-lab --kubeconfig {lab.kubeconfig} {COMMAND.removeprefix('kubectl ')}"
        assert "system clipboard is not available" in text_of(status)

        # execute: the confirmation shows the exact argv and where it lands
        await pilot.press("x")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        argv = json.loads(text_of(confirm.query_one("#confirm-argv", Static)))
        assert argv == ["kubectl", "--context", "castui-lab", "--kubeconfig", str(lab.kubeconfig), "rollout", "restart",
                        "deployment/castai-agent", "-n", "castai-agent"]
        assert "Changes the cluster: yes" in text_of(confirm.query_one("#confirm-mutates", Static))
        assert "context castui-lab" in text_of(confirm.query_one("#confirm-target", Static))
        await pilot.press("y")

        outcome = fix.query_one("#fix-outcome", Static)
        await wait_for(pilot, lambda: "After the fix" in text_of(outcome), "the re-check after the fix", timeout=30)
        assert "exit code 0" in text_of(fix.query_one("#fix-status", Static))
        assert any("restarted" in line for line in fix.query_one(Log).lines)
        assert "confirmed → ✓ ruled out" in text_of(outcome)

        # back on the triage screen the tree re-runs and agrees
        await pilot.press("escape")
        await wait_for_screen(pilot, TriageScreen, on_top=False)
        diagnosis, _ = await finish_triage(pilot)
        assert diagnosis.confirmed() == []
        assert "nothing wrong found" in text_of(triage.query_one("#triage-summary", Static))
