"""The app under faults: a check that cannot run is shown as "could not check" with
its reason, the rest of the tree fills in, and nothing on screen is a traceback."""

from __future__ import annotations

import re

import pytest

from castui.diagnosis import CheckStatus
from castui.lab.state import Fault
from castui.screens.triage_screen import TriageScreen
from castui.widgets.triage_tree import TriageTree
from tests.app.conftest import FIXED, finish_triage, lab_on_fixed_clock, settings_for, text_of, wait_for_screen

CastuiApp = pytest.importorskip("castui.app").CastuiApp

#: one fault on the API side and one on the cluster side (the full matrix runs without the app)
FAULTS = [
    Fault("reset", path=r"/node-templates$"),
    Fault("hang", path=r"^/api/v1/nodes$"),
]


def visible_text(app) -> str:  # noqa: ANN001
    """Every character on screen, from the app's own SVG screenshot."""
    svg = app.export_screenshot()
    return re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")


@pytest.mark.parametrize("fault", FAULTS, ids=[f.kind for f in FAULTS])
async def test_the_app_shows_a_fault_as_could_not_check_without_a_traceback(fault: Fault) -> None:
    with lab_on_fixed_clock("unschedulable-pods-disabled") as lab:
        lab.server.state.faults.append(fault)
        app = CastuiApp(settings_for(lab, timeout=1.5), lab=lab, now=FIXED)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("4")  # Nodes not scaling up
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            diagnosis, _ = await finish_triage(pilot)
            failed = [c for s in diagnosis.symptoms for c in s.checks if c.status is CheckStatus.FAILED]
            assert failed, "the fault did not reach any check"
            screen = visible_text(app) + text_of(triage.query_one(TriageTree))
            assert "Traceback" not in screen
            assert not re.search(r"\b[A-Z]\w+(Error|Exception)\b", screen), screen
            assert "could not check" in screen
        assert app.return_code in (None, 0)
