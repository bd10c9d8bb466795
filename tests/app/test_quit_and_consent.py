"""No surprises: escape closes and goes back but never quits; `q` asks before it loses results;
the in-cluster probe asks once per session and cluster, and not at all without a cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.lab import RunningLab
from castui.screens.home_screen import HomeScreen
from castui.screens.quit_screen import QuitScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import finish_triage, lab_on_fixed_clock, settings_for, wait_for, wait_for_screen


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with lab_on_fixed_clock("heartbeat-failing") as running:
        yield running


async def test_escape_on_home_never_quits(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("escape", "escape", "escape")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, HomeScreen)
        assert app.return_code is None


async def test_q_asks_before_losing_results_and_quits_at_once_without_any(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_for_screen(pilot, TriageScreen, on_top=False)
        await finish_triage(pilot)
        await pilot.press("escape")
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("escape")  # on home: nothing happens
        await pilot.press("q")
        ask = await wait_for_screen(pilot, QuitScreen)
        assert "results for 1 symptom" in ask.what
        await pilot.press("escape")  # closes the question: still here
        await wait_for_screen(pilot, HomeScreen)
        assert app.return_code is None
        await pilot.press("q")
        await wait_for_screen(pilot, QuitScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.return_code == 0, "the app to quit")

    fresh = make_app(lab)
    async with fresh.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("q")  # nothing to lose: no question
        await wait_for(pilot, lambda: fresh.return_code == 0, "the app to quit")


async def test_probe_consent_is_asked_once_per_session_and_cluster(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # agent-disconnected has the in-cluster probe
        triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
        _, asked = await finish_triage(pilot)
        assert asked == ["in-cluster-curl"]
        await pilot.press("r")
        await wait_for(pilot, lambda: triage.runs == 2, "the re-run")
        _, asked = await finish_triage(pilot)
        assert asked == [], "a re-run keeps the answer"
        await pilot.press("escape")
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen is not triage, "a new triage")
        _, asked = await finish_triage(pilot)
        assert asked == [], "a new triage of the same cluster keeps it too"


async def test_no_probe_consent_without_a_cluster(lab: RunningLab, make_app, tmp_path: Path) -> None:
    app = make_app(lab, settings_for(lab, kubeconfig=str(tmp_path / "no-such-kubeconfig")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await wait_for_screen(pilot, TriageScreen, on_top=False)
        diagnosis, asked = await finish_triage(pilot)
        assert asked == []
        assert any(c.reason for c in diagnosis.symptoms[0].checks), "the cluster checks say why they could not run"


async def test_ctrl_q_asks_too_when_there_are_results(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
        await finish_triage(pilot)
        await pilot.press("ctrl+q")
        await wait_for_screen(pilot, QuitScreen)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is triage, "back on the triage screen")
        await pilot.press("ctrl+q")
        await wait_for_screen(pilot, QuitScreen)
        await pilot.press("ctrl+q")  # twice: quit
        await wait_for(pilot, lambda: app.return_code == 0, "the app to quit")
