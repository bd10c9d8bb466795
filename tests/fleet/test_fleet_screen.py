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


async def test_filter_and_sort_the_fleet_with_the_direction_shown(fleet: RunningFleet) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet screen")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await until(pilot, lambda: len(screen.fleet.results) == 3 and not screen.running, "every cluster")
        table = screen.table

        def rows() -> list[str]:
            return [str(row.key.value) for row in table.ordered_rows]

        def header(key: str) -> str:
            return str(table.columns[next(k for k in table.columns if k.value == key)].label)

        await pilot.press("slash", *"key")
        assert rows() == ["lab-invalid-api-key"]
        await pilot.press("escape")
        assert rows() == fleet.contexts

        await pilot.press("s")
        assert rows() == sorted(fleet.contexts) and header("cluster") == "cluster ▲"
        await pilot.press("s")
        assert rows() == sorted(fleet.contexts, reverse=True) and header("cluster") == "cluster ▼"
        await pilot.press("s")  # the state, the worst first: 7 causes, 2 causes, clear
        assert rows() == ["lab-demo", "lab-invalid-api-key", "lab-healthy"] and header("state") == "state ▼"
        assert header("cluster") == "cluster"
        await pilot.press("slash", *"lab-", "enter")  # the filter keeps the order
        assert rows() == ["lab-demo", "lab-invalid-api-key", "lab-healthy"]
        await pilot.press("escape")
        assert app.is_running, "escape never quits"


async def test_switch_context_from_the_app_with_colon_ctx(fleet: RunningFleet) -> None:
    from castui.app import CastuiApp
    from castui.commands import CastuiCommands
    from castui.screens.context_screen import ContextScreen
    from castui.screens.home_screen import HomeScreen

    settings = load_settings({**fleet.settings_overrides(), "context": "lab-healthy"}, env={})
    settings.api_key = SecretStr(fleet.api_key)
    app = CastuiApp(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.connection.kube.checked, "the home screen")
        commands = CastuiCommands(app.screen)
        await commands.startup()
        titles = [title for title, _, _ in commands.commands()]
        assert "Switch to context lab-demo" in titles and "Switch to context lab-healthy" not in titles

        await pilot.press("colon")
        await until(pilot, lambda: isinstance(app.screen, ContextScreen), "the context prompt")
        await pilot.press(*"ctx nope", "enter")
        await until(pilot, lambda: "no context matches 'nope'" in str(app.screen.query_one("#context-error").render()),
                    "the unknown name said")
        prompt = app.screen.query_one("#context-input")
        prompt.value = ""
        await pilot.press(*"ctx lab-demo", "enter")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.session.settings.context == "lab-demo"
                    and app.connection.context == "lab-demo", "castui on lab-demo")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, TriageScreen) or type(app.screen).__name__ == "ConsentScreen",
                    "the triage screen")
        if type(app.screen).__name__ == "ConsentScreen":
            await pilot.press("n")
        triage = app.screen
        await until(pilot, lambda: isinstance(triage, TriageScreen) and triage.diagnosis is not None, "the run")
        assert triage.diagnosis.target.context == "lab-demo" and triage.diagnosis.confirmed()
