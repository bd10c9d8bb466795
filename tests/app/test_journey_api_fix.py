"""The journey for an API fix on the unschedulable-pods-disabled lab: the policies JSON with the
flag's line marked, the diff of the change, the curl kept copyable, the PUT applied after
confirming, and the cause ruled out by the re-check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Static

from castui.lab import RunningLab
from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from castui.widgets.json_view import JsonView
from castui.widgets.policy_diff import PolicyDiff
from tests.app.conftest import finish_triage, lab_on_fixed_clock, text_of, wait_for, wait_for_screen


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    running = lab_on_fixed_clock("unschedulable-pods-disabled")
    yield running
    running.stop()


async def test_enable_unschedulable_pods_through_the_api(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")  # no-scale-up
        triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
        diagnosis, _ = await finish_triage(pilot)
        assert [c.id for _, c in diagnosis.confirmed()] == ["unschedulable-pods-disabled"]

        # JSON evidence: the policies, with the line of unschedulablePods.enabled marked; t shows a tree
        json_view = triage.query_one(JsonView)
        await wait_for(pilot, lambda: json_view.display and json_view.marked_line is not None, "the policies JSON")
        body = text_of(json_view.query_one("#json-body", Static)).splitlines()
        marked = [line for line in body if " ▶ " in line]
        assert len(marked) == 1 and '"enabled": false' in marked[0]
        await pilot.press("v")
        await pilot.press("t")
        assert json_view.showing_tree
        tree = json_view.query_one("#json-tree")
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == "unschedulablePods.enabled",
                       "the tree's cursor on the marked path")
        await pilot.press("escape")

        await pilot.press("f")
        fix = await wait_for_screen(pilot, RemediationScreen)
        diff = text_of(fix.query_one(PolicyDiff))
        assert "unschedulablePods.enabled" in diff and "- false" in diff and "+ true" in diff

        # the curl stays copyable and refers to the key; the key itself is never copied
        await pilot.press("c")
        await wait_for(pilot, lambda: "Copied" in text_of(fix.query_one("#fix-status", Static)), "the copy")
        # read the policies, set the one field, PUT them: never a whole document captured earlier
        assert app.clipboard.startswith("sh -c ") and "curl -fsS -X PUT" in app.clipboard
        assert '"X-API-Key: $CASTAI_API_KEY"' in app.clipboard and '{"unschedulablePods":{"enabled":true}}' in app.clipboard
        assert lab.api_key not in app.clipboard

        await pilot.press("x")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        assert "unschedulablePods.enabled" in text_of(confirm.query_one("#confirm-diff", PolicyDiff))
        assert not confirm.query("#confirm-argv"), "an API fix is applied by castui, not by running the curl"
        await pilot.press("y")

        outcome = fix.query_one("#fix-outcome", Static)
        await wait_for(pilot, lambda: "After the fix" in text_of(outcome), "the re-check", timeout=30)
        assert "exit code 0" in text_of(fix.query_one("#fix-status", Static))
        assert "confirmed → ✓ ruled out" in text_of(outcome)
        assert lab.cluster.policies["unschedulablePods"]["enabled"] is True
