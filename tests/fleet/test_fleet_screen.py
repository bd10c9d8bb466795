"""`castui --all-contexts`: the fleet screen fills in live, opens a cluster's triage, re-runs a row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr

from castui.config import load_settings
from castui.lab.fleet import RunningFleet

pytest.importorskip("textual")

from textual.pilot import Pilot  # noqa: E402

from castui.fleet_app import FleetApp  # noqa: E402
from castui.screens.fleet_screen import FleetScreen  # noqa: E402
from castui.screens.triage_screen import TriageScreen  # noqa: E402

#: pauses of 50 ms: at most 20 s for anything to happen
STEPS = 400


async def until(pilot: Pilot[int], ready: Callable[[], bool], what: str) -> None:
    for _ in range(STEPS):
        if ready():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"still waiting for {what}")


def fleet_app(fleet: RunningFleet) -> FleetApp:
    settings = load_settings(fleet.settings_overrides(), env={})
    settings.api_key = SecretStr(fleet.api_key)
    return FleetApp(settings, fleet.contexts, parallel=2)


async def test_rows_fill_in_and_enter_opens_that_clusters_triage(fleet: RunningFleet) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet screen")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await until(pilot, lambda: len(screen.fleet.results) == 3 and not screen.running, "every cluster")
        table = screen.table
        assert [str(k.value) for k in table.rows] == fleet.contexts
        assert str(table.get_cell("lab-demo", "state")) == "✗ 8 causes"
        assert str(table.get_cell("lab-invalid-api-key", "agent-crashloop")) == "✗"
        assert str(table.get_cell("lab-healthy", "no-scale-down")) == "✓"

        await pilot.press("down")  # lab-demo
        await until(pilot, lambda: "pdb-blocking-eviction" in str(screen.query_one("#fleet-detail").render()), "the detail")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TriageScreen) or type(app.screen).__name__ == "ConsentScreen",
                    "the triage screen")
        if type(app.screen).__name__ == "ConsentScreen":
            await pilot.press("n")  # no probe pod in the cluster
        triage = app.screen
        assert isinstance(triage, TriageScreen)
        assert app.session.settings.context == "lab-demo"
        await until(pilot, lambda: triage.diagnosis is not None, "the triage run")
        assert triage.diagnosis is not None
        in_fleet = {c.id for _, c in screen.fleet.results["lab-demo"].diagnosis.confirmed()}
        assert {c.id for _, c in triage.diagnosis.confirmed()} == in_fleet  # the same cluster, the same verdicts

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the fleet screen again")
        before = screen.fleet.results["lab-demo"]
        await pilot.press("r")
        await until(pilot, lambda: screen.fleet.results["lab-demo"] is not before and not screen.running, "the re-run")
        assert screen.fleet.results["lab-healthy"].diagnosis.exit_code == 0
        assert screen.exit_code() == 1
