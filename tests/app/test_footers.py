"""Every footer fits: at 80 and at 120 columns no key hint is cut off, on every screen of a journey
(the escalation screen with its report ready has the most keys)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Footer

from castui.lab import RunningLab
from castui.screens.escalation_screen import EscalationScreen
from castui.screens.home_screen import HomeScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import finish_triage, lab_on_fixed_clock, wait_for, wait_for_screen


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with lab_on_fixed_clock("heartbeat-failing") as running:
        yield running


def footer_overflow(app: Any) -> tuple[int, int, list[str]]:
    """(width the keys need, width there is, the keys) for the active screen's footer."""
    footer = app.screen.query_one(Footer)
    keys = list(footer.query("FooterKey"))
    return sum(k.outer_size.width for k in keys), footer.size.width, [f"{k.key_display} {k.description}" for k in keys]


@pytest.mark.parametrize("width", [80, 120])
async def test_no_footer_is_clipped(lab: RunningLab, make_app, width: int) -> None:
    app = make_app(lab)
    async with app.run_test(size=(width, 30)) as pilot:
        seen = {}
        await wait_for_screen(pilot, HomeScreen)
        await pilot.pause()
        seen["home"] = footer_overflow(app)
        await pilot.press("2")
        await wait_for_screen(pilot, TriageScreen, on_top=False)
        await finish_triage(pilot)
        await pilot.pause()
        seen["triage"] = footer_overflow(app)
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)
        await pilot.pause()
        seen["fix"] = footer_overflow(app)
        await pilot.press("escape")
        await wait_for_screen(pilot, TriageScreen)
        await pilot.press("e")
        escalation = await wait_for_screen(pilot, EscalationScreen)
        await pilot.press("p")
        await wait_for(pilot, lambda: escalation.report is not None, "the report", timeout=30)
        await pilot.pause()
        seen["escalation"] = footer_overflow(app)
        clipped = {name: (need, have, keys) for name, (need, have, keys) in seen.items() if need > have}
        assert not clipped, clipped
