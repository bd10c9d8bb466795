"""Follow (`F` in a log, like `kubectl logs -f`): while the log is shown, castui reads the pod's log again
and shows the lines the container writes meanwhile, the cursor on the newest; a read that fails is said
in place and follow goes on; leaving the log or the screen stops it; a replayed bundle has nothing live
to follow and says so. The lab's pods write lines while a test watches (`RunningLab.append_log`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from castui.lab import RunningLab
from castui.lab.state import Fault
from castui.replay import start_replay
from castui.screens.triage_screen import TriageScreen
from castui.widgets.evidence_pane import EvidencePane
from castui.widgets.log_view import LogView
from tests.app.conftest import bundle_on_fixed_clock, finish_triage, lab_on_fixed_clock, text_of, wait_for, wait_for_screen

NEW_LINE = 'time="2025-03-14T09:27:10Z" level=error msg="failed sending delta: request error status_code=502 (new)"'
HOSTILE_LINE = 'time="2025-03-14T09:27:12Z" level=info msg="\x1b[2J\x1b]0;owned\x07written while followed"'


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    running = lab_on_fixed_clock("heartbeat-failing")
    yield running
    running.stop()


async def open_agent_log(pilot: Pilot[Any]) -> tuple[TriageScreen, LogView]:
    """agent-disconnected's confirmed heartbeat-failing, its leader's log full screen and focused."""
    await pilot.press("2")
    triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
    await finish_triage(pilot)
    await wait_for(pilot, lambda: triage.highlighted_cause() and triage.highlighted_cause()[1].id == "heartbeat-failing",
                   "the cursor on the confirmed cause")
    await pilot.press("v")
    view = triage.query_one(LogView)
    await wait_for(pilot, lambda: view.has_focus and triage.evidence_full, "the log to open")
    return triage, view


def status(triage: TriageScreen) -> str:
    return text_of(triage.query_one("#log-status"))


async def test_follow_shows_the_lines_the_pod_writes_then_stops(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        triage, view = await open_agent_log(pilot)
        source = triage.pane.current.source
        assert source is not None and source.container == "agent" and not source.previous
        before = view.line_count

        await pilot.press("F")
        await wait_for(pilot, lambda: "● following · updated" in status(triage), "the first read")
        assert view.follow and view.cursor == before - 1 and view.line_count == before, "the first read adds nothing"

        lab.append_log(source.pod, NEW_LINE, HOSTILE_LINE, container="agent")
        await wait_for(pilot, lambda: view.line_count == before + 2, "the lines the pod wrote")
        assert view.cursor == before + 1, "the cursor on the newest line"
        shown = text_of(view).splitlines()
        assert "status_code=502 (new)" in shown[-2] and "\\x1b[2J\\x1b]0;owned\\x07written while followed" in shown[-1]
        assert "\x1b" not in text_of(view), "what the pod wrote is shown, never sent to the terminal"
        assert "2 new" in status(triage)

        await pilot.press("F")  # off: no more reads
        await wait_for(pilot, lambda: not view.follow, "follow off")
        assert not triage.follower.running and "following" not in status(triage)

        await pilot.press("F")
        await wait_for(pilot, lambda: triage.follower.running and "updated" in status(triage), "follow on again")
        await pilot.press("escape", "down")  # back to the tree, another item: the log is no longer shown
        await wait_for(pilot, lambda: not triage.follower.running, "follow to stop with the log left")
        assert triage.pane.following is None

        await pilot.press("up", "tab")
        await wait_for(pilot, lambda: view.has_focus, "the log again")
        await pilot.press("F")
        await wait_for(pilot, lambda: triage.follower.running, "follow on")
        timer = triage.follower.timer
        await pilot.press("escape", "escape")  # the screen closes with follow on
        await wait_for(pilot, lambda: not triage.is_attached, "the triage screen to close")
        assert timer is not None and timer._task is None, "no timer left running"
        assert not triage.follower.running


async def test_a_read_that_fails_is_said_in_place_and_follow_goes_on(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        triage, view = await open_agent_log(pilot)
        source = triage.pane.current.source
        fault = Fault("status", path=rf"/pods/{source.pod}/log$", status=403)
        lab.server.state.faults.append(fault)
        try:
            await pilot.press("F")
            await wait_for(pilot, lambda: "could not read" in status(triage), "the failed read")
            assert "forbidden" in status(triage).lower() and f"{source.pod}" in status(triage), status(triage)
            assert view.follow and isinstance(app.screen, TriageScreen), "the app and follow go on"
        finally:
            lab.server.state.faults.remove(fault)
        before = view.line_count
        lab.append_log(source.pod, 'time="2025-03-14T09:27:20Z" level=info msg="back"', container="agent")
        await wait_for(pilot, lambda: view.line_count == before + 1, "the next read to work")
        assert "could not read" not in status(triage) and view.cursor == before


async def test_follow_is_not_available_in_a_replayed_bundle(lab: RunningLab, make_app, tmp_path: Path) -> None:
    bundle = await bundle_on_fixed_clock(lab, tmp_path)
    with start_replay(bundle) as replay:
        app = make_app(replay)
        async with app.run_test(size=(120, 40)) as pilot:
            triage, view = await open_agent_log(pilot)
            await pilot.press("F")
            await wait_for(pilot, lambda: "follow is not available" in status(triage), "follow to say why not")
            assert "a replayed bundle has nothing live to read" in status(triage)
            assert not view.follow and not triage.follower.running
            assert triage.query_one(EvidencePane).following is None
