"""Running a fix: a server-side dry run first where kubectl supports it (nothing changes),
escape cancels a command that hangs, and leaving a triage screen cancels its run."""

from __future__ import annotations

from textual.widgets import Log, Static
from textual.worker import WorkerState

from castui.lab.state import Fault
from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.home_screen import HomeScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import finish_triage, footer_keys, lab_on_fixed_clock, text_of, wait_for, wait_for_screen


async def open_fix(pilot, key: str) -> RemediationScreen:  # noqa: ANN001
    await pilot.press(key)
    triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
    await finish_triage(pilot)
    await wait_for(pilot, lambda: triage.highlighted_cause() is not None, "the cursor on the confirmed cause")
    await pilot.press("f")
    return await wait_for_screen(pilot, RemediationScreen)


def annotations(lab) -> dict[str, str]:  # noqa: ANN001
    return lab.cluster.get("deployments", "shop", "api")["metadata"].get("annotations") or {}


async def test_server_side_dry_run_changes_nothing(make_app) -> None:
    with lab_on_fixed_clock("missing-annotation") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            fix = await open_fix(pilot, "0")  # workload-autoscaler
            assert "Dry run" in footer_keys(app)
            await pilot.press("d")
            status = fix.query_one("#fix-status", Static)
            await wait_for(pilot, lambda: "dry run finished" in text_of(status), "the dry run", timeout=30)
            assert "exit code 0" in text_of(status)
            assert any("server dry run" in line for line in fix.query_one(Log).lines)
            assert "workloads.cast.ai/configuration" not in annotations(lab)
            assert not fix.changed, "a dry run is not a fix: nothing to re-check"


async def test_escape_cancels_a_hanging_command(make_app) -> None:
    with lab_on_fixed_clock("heartbeat-failing") as lab:
        lab.server.state.faults.append(Fault("latency", path=r"/deployments/castai-agent$", method="PATCH", seconds=30))
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            fix = await open_fix(pilot, "2")
            await pilot.press("x")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            status = fix.query_one("#fix-status", Static)
            await wait_for(pilot, lambda: "esc cancels" in text_of(status), "the command to start")
            await pilot.press("escape")
            await wait_for(pilot, lambda: "cancelled" in text_of(status), "the cancellation", timeout=10)
            assert app.screen is fix and not fix.running
            assert fix.app.executions[-1].cancelled


async def test_leaving_the_triage_screen_cancels_its_run(make_app) -> None:
    with lab_on_fixed_clock("unschedulable-pods-disabled") as lab:
        lab.server.state.faults.append(Fault("latency", path=r"/policies$", seconds=5))
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("4")
            triage = await wait_for_screen(pilot, TriageScreen)
            worker = await wait_for(pilot, lambda: next((w for w in app.workers if w.node is triage and w.group == "triage"), None),
                                    "the run to start")
            assert worker.state is WorkerState.RUNNING
            await pilot.press("escape")
            await wait_for_screen(pilot, HomeScreen)
            await wait_for(pilot, lambda: worker.state is WorkerState.CANCELLED, "the run to be cancelled", timeout=3)


async def test_allowing_the_active_check_runs_it_in_the_cluster(make_app) -> None:
    with lab_on_fixed_clock("heartbeat-failing") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            await wait_for_screen(pilot, TriageScreen, on_top=False)
            diagnosis, asked = await finish_triage(pilot, allow_active=True)
            assert asked == ["in-cluster-curl"]
            curl = next(c for c in diagnosis.symptoms[0].checks if c.id == "in-cluster-curl")
            assert curl.summary == "HTTP 200", "the probe pod ran and reached the API"
