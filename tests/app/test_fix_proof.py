"""The proof of a fix stays in view: once a command (or an API call) finishes, the before → after
is on the visible screen without scrolling, at 80×24 as at 120×40; and a read-only command is
evidence to gather, never "the fix did not take"."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import finish_triage, lab_on_fixed_clock, text_of, wait_for, wait_for_screen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
KINDS = [
    pytest.param("heartbeat-failing", "2", id="kubectl-fix"),              # kubectl rollout restart
    pytest.param("unschedulable-pods-disabled", "4", id="api-fix"),        # a PUT of the policies
]


async def run_the_fix(pilot: Pilot[Any], symptom_key: str) -> RemediationScreen:
    await pilot.press(symptom_key)
    triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
    await finish_triage(pilot)
    await wait_for(pilot, lambda: triage.highlighted_cause() is not None, "the cursor on the confirmed cause")
    await pilot.press("f")
    fix = await wait_for_screen(pilot, RemediationScreen)
    await pilot.press("x")
    await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("y")
    return fix


def visible_lines(pilot: Pilot[Any], widget: Any) -> list[str]:
    """The lines of `widget` the user sees now: each row of it the compositor draws from it, inside the screen."""
    screen = pilot.app.screen
    lines = text_of(widget).splitlines()
    shown = []
    for row, line in enumerate(lines):
        y = widget.region.y + row
        if y >= screen.size.height - 1:  # the footer's row
            break
        under, _ = screen.get_widget_at(widget.region.x, y)
        if under is widget:
            shown.append(line)
    return shown


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("scenario", "symptom_key"), KINDS)
async def test_before_and_after_is_visible_without_scrolling(make_app, size: tuple[int, int], scenario: str,
                                                              symptom_key: str) -> None:
    with lab_on_fixed_clock(scenario) as lab:
        app = make_app(lab)
        async with app.run_test(size=size) as pilot:
            fix = await run_the_fix(pilot, symptom_key)
            outcome = fix.query_one("#fix-outcome", Static)
            await wait_for(pilot, lambda: "After the fix" in text_of(outcome), "the re-check", timeout=30)
            await pilot.pause()
            shown = visible_lines(pilot, outcome)
            assert any("After the fix" in line and "confirmed → ✓ ruled out" in line for line in shown), shown
            status = visible_lines(pilot, fix.query_one("#fix-status", Static))
            assert any("exit code 0" in line for line in status), status
            assert fix.query_one("#fix-output").display, "the raw output is still there, below"


async def test_a_read_only_command_is_evidence_not_a_failed_fix(make_app) -> None:
    with lab_on_fixed_clock("eviction-storm") as lab:
        app = make_app(lab)
        async with app.run_test(size=(80, 24)) as pilot:
            fix = await run_the_fix(pilot, "7")  # evictor-aggressive: its fix reads the Evicted events
            assert not fix.fix.mutates
            outcome = fix.query_one("#fix-outcome", Static)
            await wait_for(pilot, lambda: "Evidence gathered" in text_of(outcome), "the command to finish", timeout=30)
            assert "did not take" not in text_of(outcome) and "escalate" not in text_of(outcome)
            assert any("Evidence gathered" in line for line in visible_lines(pilot, outcome))
            assert not fix.changed, "nothing changed: the triage screen has nothing to re-run"
