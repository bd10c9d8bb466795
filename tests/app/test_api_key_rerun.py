"""A key typed with `K` re-runs exactly the symptoms whose checks asked the API (no `r`), the header
calls a 401 "rejected" (the API did answer), and the tree keeps the cursor across the re-run."""

from __future__ import annotations

from textual.widgets import Input, Static

from castui.diagnosis import CauseVerdict
from castui.screens.api_key_screen import ApiKeyScreen
from castui.screens.triage_screen import TriageScreen
from castui.widgets.triage_tree import TriageTree
from tests.app.conftest import finish_triage, lab_on_fixed_clock, text_of, wait_for, wait_for_screen

RIGHT_KEY = "castui-lab-right-key-0a1b2c3d4e5f6a7b"


def verdict(diagnosis, cause_id: str) -> CauseVerdict:  # noqa: ANN001
    return next(c.verdict for s in diagnosis.symptoms for c in s.causes if c.id == cause_id)


async def test_a_right_key_turns_api_key_invalid_into_ruled_out_without_r(make_app) -> None:
    with lab_on_fixed_clock("api-key-invalid") as lab:
        lab.server.state.castai.api_keys[RIGHT_KEY] = {"status": 200}
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")  # every check: the kube-only symptoms must not re-run
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            before, _ = await finish_triage(pilot)
            assert verdict(before, "api-key-invalid") is CauseVerdict.CONFIRMED
            reach = triage.query_one("#reach", Static)
            await wait_for(pilot, lambda: "API ✗ rejected" in text_of(reach), "the header to say the key was rejected")
            assert "no answer" not in text_of(reach)

            tree = triage.query_one(TriageTree)
            await pilot.press("down", "down")
            await pilot.pause()
            chosen = tree.cursor_node.data

            await pilot.press("K")
            modal = await wait_for_screen(pilot, ApiKeyScreen)
            modal.query_one(Input).insert_text_at_cursor(RIGHT_KEY)
            await pilot.press("enter")
            await wait_for(pilot, lambda: triage.runs == 2, "the re-run the key starts")
            after, _ = await finish_triage(pilot)
            assert verdict(after, "api-key-invalid") is CauseVerdict.RULED_OUT
            await wait_for(pilot, lambda: "API ✓ answers" in text_of(reach), "the header to say the API answers")

            kept = {s.id for s in before.symptoms if any(s is t for t in after.symptoms)}
            rerun = {s.id for s in after.symptoms} - kept
            assert "api-unauthorized" in rerun and "no-scale-up" in rerun, "symptoms with API checks re-ran"
            assert "helm-mismatch" in kept, "a symptom that only reads the cluster kept its results"
            await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == chosen,
                           "the cursor back where it was")


async def test_back_from_a_fix_the_tree_keeps_the_cursor(make_app) -> None:
    from castui.screens.confirm_screen import ConfirmScreen
    from castui.screens.remediation_screen import RemediationScreen

    with lab_on_fixed_clock("heartbeat-failing") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            tree = triage.query_one(TriageTree)
            await wait_for(pilot, lambda: triage.highlighted_cause() is not None, "the cursor on the confirmed cause")
            chosen = tree.cursor_node.data
            await pilot.press("f")
            fix = await wait_for_screen(pilot, RemediationScreen)
            await pilot.press("x")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            await wait_for(pilot, lambda: "After the fix" in text_of(fix.query_one("#fix-outcome", Static)), "the re-check",
                           timeout=30)
            await pilot.press("escape")
            await wait_for(pilot, lambda: triage.runs == 2, "the re-run after the fix")
            after, _ = await finish_triage(pilot)
            assert not after.confirmed()
            await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == chosen,
                           "the cursor on the same cause, now ruled out")
