"""Nothing changes a cluster without the user seeing it: read-only mode offers no execute
anywhere, and a production context shows a banner and asks for the context name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from castui.lab import RunningLab
from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.help_screen import HelpScreen
from castui.screens.home_screen import HomeScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import (
    finish_triage,
    footer_keys,
    lab_on_fixed_clock,
    renamed_context,
    settings_for,
    text_of,
    wait_for,
    wait_for_screen,
)


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    running = lab_on_fixed_clock("heartbeat-failing")
    yield running
    running.stop()


async def open_fix(pilot) -> RemediationScreen:  # noqa: ANN001
    await pilot.press("2")
    triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
    await finish_triage(pilot)
    await wait_for(pilot, lambda: triage.highlighted_cause() is not None, "the cursor on the confirmed cause")
    await pilot.press("f")
    return await wait_for_screen(pilot, RemediationScreen)


async def test_read_only_offers_no_execute_anywhere(lab: RunningLab, make_app) -> None:
    app = make_app(lab, settings_for(lab, read_only=True))
    async with app.run_test(size=(120, 40)) as pilot:
        home = await wait_for_screen(pilot, HomeScreen)
        await wait_for(pilot, lambda: "read-only" in text_of(home.query_one("#reach")), "the read-only badge")
        fix = await open_fix(pilot)
        assert "Execute" not in footer_keys(app) and "Dry run" not in footer_keys(app)
        assert "Copy" in footer_keys(app)
        assert "castui will not run it" in text_of(fix.query_one("#fix-effect", Static))
        assert not fix.query(Button), "no execute button either"

        await pilot.press("x")
        await pilot.pause()
        assert app.screen is fix, "x does nothing in read-only mode"

        await pilot.press("question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        ids = {row.action_id for row in help_screen.rows}
        assert "fix.copy" in ids and "fix.execute" not in ids and "fix.dry-run" not in ids
        await pilot.press("escape")

        # the command palette has no execute either
        commands = [title for title, _, _ in _palette_commands(app, fix)]
        assert "Copy" in commands and "Execute" not in commands


def _palette_commands(app, screen):  # noqa: ANN001, ANN202
    from castui.commands import CastuiCommands

    return CastuiCommands(screen).commands()


async def test_production_context_shows_a_banner_and_needs_the_typed_name(make_app, tmp_path: Path) -> None:
    with lab_on_fixed_clock("heartbeat-failing") as lab:  # its own lab: this test restarts the agent
        await production_journey(lab, make_app, tmp_path)


async def production_journey(lab: RunningLab, make_app, tmp_path: Path) -> None:  # noqa: ANN001
    kubeconfig = renamed_context(lab, "prod-eu", tmp_path)
    settings = settings_for(lab, kubeconfig=str(kubeconfig), context="prod-eu")
    app = make_app(lab, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        home = await wait_for_screen(pilot, HomeScreen)
        banner = home.query_one("#production-banner", Static)
        assert banner.display and "PRODUCTION" in text_of(banner)

        fix = await open_fix(pilot)
        await pilot.press("x")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        assert "PRODUCTION" in text_of(confirm.query_one("#confirm-production", Static))
        argv = json.loads(text_of(confirm.query_one("#confirm-argv", Static)))
        assert argv[:3] == ["kubectl", "--context", "prod-eu"]
        run = confirm.query_one("#confirm-run", Button)
        typed = confirm.query_one("#confirm-typed", Input)
        assert run.disabled and typed.has_focus

        # y is just a letter in the name field here; a wrong name runs nothing
        await pilot.press("y", "enter")
        assert app.screen is confirm and run.disabled
        typed.value = ""
        await pilot.press(*"prod-eu")
        assert not run.disabled
        await pilot.press("enter")

        await wait_for(pilot, lambda: "After the fix" in text_of(fix.query_one("#fix-outcome", Static)), "the fix and re-check",
                       timeout=30)
        assert "exit code 0" in text_of(fix.query_one("#fix-status", Static))


async def test_cancel_on_the_confirmation_runs_nothing(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        fix = await open_fix(pilot)
        await pilot.press("x")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("enter")  # the focused default is Cancel
        await wait_for_screen(pilot, RemediationScreen)
        await wait_for(pilot, lambda: "Not run" in text_of(fix.query_one("#fix-status", Static)), "the cancelled state")
        assert not fix.query_one("#fix-output").display
