"""Every screen at 80×24 and 120×40, compared with approved SVG snapshots.

Deterministic by construction: labs on a fixed clock (and a fixed port where the API
URL reaches the screen), the app judging at that clock, check durations hidden, and
notifications cleared before the picture. A replayed bundle is captured at that clock
and opened by its file name, not its temporary directory. The fleet's labs keep the real
clock (a fleet is judged now), which is safe: its screen shows no time, port or URL.
Update with `pytest --snapshot-update` after looking at the report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from textual.pilot import Pilot

from castui.app import CastuiApp
from castui.config import load_settings
from castui.fleet_app import FleetApp
from castui.lab import RunningLab
from castui.lab.fleet import RunningFleet, start_fleet
from castui.replay import RunningReplay, start_replay
from castui.screens.api_key_screen import ApiKeyScreen
from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.consent_screen import ConsentScreen
from castui.screens.escalation_screen import EscalationScreen
from castui.screens.fleet_screen import FleetScreen
from castui.screens.help_screen import HelpScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from castui.tree import symptom
from castui.widgets.triage_tree import TriageTree
from tests.app.conftest import (
    FIXED,
    NO_CONFIG,
    bundle_on_fixed_clock,
    finish_triage,
    footer_keys,
    free_snapshot_port,
    lab_on_fixed_clock,
    renamed_context,
    settings_for,
    text_of,
    wait_for,
    wait_for_screen,
)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Steps = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture(scope="module")
def heartbeat() -> Iterator[RunningLab]:
    with lab_on_fixed_clock("heartbeat-failing", fixed_workdir=True) as lab:
        yield lab


@pytest.fixture(scope="module")
def policies() -> Iterator[RunningLab]:
    # the API fix's curl shows the API URL: a fixed port keeps it the same on every run
    with lab_on_fixed_clock("unschedulable-pods-disabled", port=free_snapshot_port(), fixed_workdir=True) as lab:
        yield lab


@pytest.fixture(scope="module")
def no_key() -> Iterator[RunningLab]:
    with lab_on_fixed_clock("api-key-missing") as lab:
        yield lab


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReplay]:
    """heartbeat-failing captured on the fixed clock, replayed as `castui --bundle castui-bundle-….tar.gz`
    run beside the file: the header names the file, not a temporary directory."""
    directory = tmp_path_factory.mktemp("replay")
    with pytest.MonkeyPatch.context() as env:  # no suppressions or audit log of the machine in the bundle
        env.setenv("XDG_STATE_HOME", str(directory / "state"))
        env.setenv("XDG_CONFIG_HOME", str(directory / "config"))
        with lab_on_fixed_clock("heartbeat-failing", fixed_workdir=True) as lab:
            bundle = asyncio.run(bundle_on_fixed_clock(lab, directory))
    with contextlib.chdir(directory):
        running = start_replay(Path(bundle.name))
    with running:
        yield running


@pytest.fixture(scope="module")
def fleet() -> Iterator[RunningFleet]:
    # side by side: all clear, seven confirmed causes, an agent refused by the API
    with start_fleet(("healthy", "demo", "invalid-api-key")) as running:
        yield running


def app_for(lab: RunningLab | RunningReplay, **flags: Any) -> CastuiApp:
    return CastuiApp(settings_for(lab, **flags), lab=lab, now=FIXED, timings=False)  # type: ignore[arg-type]


def fleet_app(fleet: RunningFleet) -> FleetApp:
    settings = load_settings(fleet.settings_overrides(), env={}, path=NO_CONFIG)
    settings.api_key = SecretStr(fleet.api_key)
    return FleetApp(settings, fleet.contexts, parallel=len(fleet.contexts))


async def settled(pilot: Pilot[Any]) -> None:
    """The header knows everything it will show (the fleet screen has none), and no toast hides the screen."""
    app: CastuiApp = pilot.app  # type: ignore[assignment]
    if not isinstance(app, FleetApp):
        await wait_for(pilot, lambda: app.connection.kube.checked and app.connection.api.checked, "the connectivity check")
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def triage(pilot: Pilot[Any], key: str) -> TriageScreen:
    await wait_for(pilot, lambda: pilot.app.connection.kube.checked, "the session")  # type: ignore[attr-defined]
    await pilot.press(key)
    screen = await wait_for_screen(pilot, TriageScreen, on_top=False)
    await finish_triage(pilot)
    await wait_for(pilot, lambda: screen.highlighted_cause() is not None, "the cursor on the confirmed cause")
    cause = screen.highlighted_cause()[1]  # type: ignore[index]
    await wait_for(pilot, lambda: cause.id in text_of(screen.query_one("#ev-detail")), "the pane showing it")
    return screen


def shot(snap_compare: Any, app: CastuiApp, size: tuple[int, int], steps: Steps | None = None) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        if steps is not None:
            await steps(pilot)
        await settled(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    assert shot(snap_compare, app_for(heartbeat), size)


@pytest.mark.parametrize("size", SIZES)
def test_home_production_banner(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int], tmp_path: Path) -> None:
    app = app_for(heartbeat, kubeconfig=str(renamed_context(heartbeat, "prod-eu", tmp_path)), context="prod-eu")
    assert shot(snap_compare, app, size)


@pytest.mark.parametrize("size", SIZES)
def test_home_without_api_key_and_key_modal(snap_compare: Any, no_key: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("K")
        await wait_for_screen(pilot, ApiKeyScreen)

    assert shot(snap_compare, app_for(no_key), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_consent_for_an_active_check(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: pilot.app.connection.kube.checked, "the session")  # type: ignore[attr-defined]
        await pilot.press("2")
        await wait_for_screen(pilot, ConsentScreen)
        # behind the modal every other check has finished; only the one asking is still open
        tree = pilot.app.screen_stack[-2].query_one(TriageTree)
        others = len(symptom("agent-disconnected").checks) - 1
        await wait_for(pilot, lambda: len(tree.checks) == others and len(tree.checks_running) == 1, "the other checks")

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_triage_with_log_evidence(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_evidence_maximised(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")
        await pilot.press("v")

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_triage_with_json_evidence(snap_compare: Any, policies: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "4")

    assert shot(snap_compare, app_for(policies), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_remediation_kubectl(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_remediation_api_diff(snap_compare: Any, policies: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "4")
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)

    assert shot(snap_compare, app_for(policies), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_confirmation(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)
        await pilot.press("x")
        await wait_for_screen(pilot, ConfirmScreen)

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_help_on_triage(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_escalation(snap_compare: Any, heartbeat: RunningLab, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")
        await pilot.press("e")
        screen = await wait_for_screen(pilot, EscalationScreen)
        await wait_for(pilot, lambda: "checking" not in text_of(screen.query_one("#esc-status")), "the status page")

    assert shot(snap_compare, app_for(heartbeat), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_fleet_once_every_cluster_is_checked(snap_compare: Any, fleet: RunningFleet, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        screen = await wait_for_screen(pilot, FleetScreen)
        table = screen.table
        await wait_for(pilot, lambda: all(str(table.get_cell(c, "state")) not in ("waiting", "running") for c in fleet.contexts),
                       "every row's verdict")
        await pilot.press("down")  # lab-demo: its confirmed causes in the detail
        await wait_for(pilot, lambda: "lab-demo  cluster" in text_of(screen.query_one("#fleet-detail")),
                       "lab-demo's detail")

    assert shot(snap_compare, fleet_app(fleet), size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_replayed_bundle_home(snap_compare: Any, replay: RunningReplay, size: tuple[int, int]) -> None:
    assert shot(snap_compare, app_for(replay), size)


@pytest.mark.parametrize("size", SIZES)
def test_replayed_bundle_fix_without_execute(snap_compare: Any, replay: RunningReplay, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await triage(pilot, "2")
        await pilot.press("f")
        await wait_for_screen(pilot, RemediationScreen)
        assert "Execute" not in footer_keys(pilot.app)  # type: ignore[arg-type]

    assert shot(snap_compare, app_for(replay), size, steps)
