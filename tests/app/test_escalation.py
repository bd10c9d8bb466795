"""Escalation from the triage screen: the status page, a redacted bundle written to disk,
and a support report that can be copied, without the API key anywhere in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from castui.screens.escalation_screen import EscalationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import finish_triage, lab_on_fixed_clock, text_of, wait_for, wait_for_screen


async def test_status_page_bundle_and_report(make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the bundle is written to the working directory
    with lab_on_fixed_clock("heartbeat-failing") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            await pilot.press("e")
            screen = await wait_for_screen(pilot, EscalationScreen)
            status = screen.query_one("#esc-status", Static)
            await wait_for(pilot, lambda: "All Systems Operational" in text_of(status), "the status page")

            if screen.collect_bundle is None or screen.build_report is None:
                pytest.skip("this build has no castui.bundle / castui.support")
            await pilot.press("b")
            bundle = screen.query_one("#esc-bundle", Static)
            await wait_for(pilot, lambda: "written:" in text_of(bundle), "the bundle", timeout=30)
            assert screen.bundle_path is not None and screen.bundle_path.is_file()
            assert screen.bundle_path.parent == tmp_path

            await pilot.press("p")
            await wait_for(pilot, lambda: screen.report is not None, "the report", timeout=30)
            assert "heartbeat-failing" in screen.report and screen.bundle_path.name in screen.report
            await pilot.press("c")
            await wait_for(pilot, lambda: app.clipboard == screen.report, "the report on the clipboard")
            assert lab.api_key not in app.clipboard
