"""A replay's header says its answers were recorded (nothing answers now), and which bundle and when,
whole, at 120 columns and at 80, however long the bundle's path."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from castui.replay import start_replay
from castui.screens.home_screen import HomeScreen
from tests.app.conftest import bundle_on_fixed_clock, lab_on_fixed_clock, text_of, wait_for, wait_for_screen


@pytest.mark.parametrize("width", [120, 80])
async def test_the_replay_header_says_recorded_and_fits(make_app, tmp_path: Path, width: int) -> None:
    deep = tmp_path / "a-rather-long-directory-name-for-incident-4711" / "attachments-from-the-support-ticket"
    deep.mkdir(parents=True)
    with lab_on_fixed_clock("heartbeat-failing") as lab:
        bundle = await bundle_on_fixed_clock(lab, deep)
    with start_replay(bundle) as replay:
        app = make_app(replay)
        async with app.run_test(size=(width, 30)) as pilot:
            home = await wait_for_screen(pilot, HomeScreen)
            reach = home.query_one("#reach", Static)
            await wait_for(pilot, lambda: "recorded" in text_of(reach), "the header to say recorded")
            assert "answers" not in text_of(reach)
            line = text_of(home.query_one("#replay-line", Static))
            assert bundle.name in line and "captured 2025-03-14 09:26 UTC" in line and "…" not in line
            assert len(line) <= width
