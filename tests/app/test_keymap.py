"""The keymap is checked at start: an unknown action id and a key that would shadow another action
are named with the file, line and key, and those actions keep their default keys; the hints on
screen follow the keys in use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from castui.lab import RunningLab
from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.home_screen import HomeScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import finish_triage, footer_keys, lab_on_fixed_clock, settings_for, text_of, wait_for, wait_for_screen


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with lab_on_fixed_clock("heartbeat-failing") as running:
        yield running


async def test_a_bad_keymap_is_reported_and_the_app_starts_with_defaults(lab: RunningLab, make_app, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('timeout = 10\n[keymap]\n"triage.nope" = "z"\n"triage.rerun" = "f"\n"fix.copy" = "y"\n')
    app = make_app(lab, settings_for(lab, config=config))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        problems = app.keymap_problems
        assert len(problems) == 2, problems
        unknown, clash = problems
        assert f"{config}, line 3" in unknown and "'triage.nope'" in unknown and "'z'" in unknown
        assert f"{config}, line 4" in clash and "'f'" in clash and "triage.fix" in clash and "keeps 'r'" in clash
        shown = [n.message for n in app._notifications]
        assert any("line 4" in message for message in shown), "the user is told, not only the test"

        await pilot.press("2")
        await wait_for_screen(pilot, TriageScreen, on_top=False)
        await finish_triage(pilot)
        keys = footer_keys(app)
        assert keys["Fix"] == "f" and keys["Re-run"] == "r", "the clashing entry is left out; f still fixes"
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)
        assert footer_keys(app)["Copy"] == "y", "a good entry in the same file is used"


async def test_hints_on_screen_follow_the_keymap(lab: RunningLab, make_app, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"home.run-all" = "A"\n"confirm.yes" = "Y"\n"triage.escalate" = "E"\n')
    app = make_app(lab, settings_for(lab, config=config))
    async with app.run_test(size=(120, 40)) as pilot:
        home = await wait_for_screen(pilot, HomeScreen)
        assert app.keymap_problems == []
        intro = text_of(home.query_one("#home-intro", Static))
        assert "run every check (A)" in intro and "(a)" not in intro
        first = home.query_one(OptionList).get_option_at_index(0)
        assert " A " in str(first.prompt.columns[0]._cells[0])

        await pilot.press("2")
        await wait_for_screen(pilot, TriageScreen, on_top=False)
        await finish_triage(pilot)
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)
        await pilot.press("x")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        assert str(confirm.query_one("#confirm-run").label) == "Run (Y)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the confirmation to close")
