"""A latent risk is shown as such in the app: the run's summary names it instead of an all-clear,
and its symptom stays unfolded with a `!` count, below any problem."""

from __future__ import annotations

from textual.widgets import Static

from castui.screens.triage_screen import TriageScreen
from castui.widgets.triage_tree import TriageTree
from tests.app.conftest import finish_triage, lab_on_fixed_clock, text_of, wait_for_screen


async def test_a_latent_risk_is_named_and_never_folded_under_an_all_clear(make_app) -> None:
    lab = lab_on_fixed_clock("agent-chart-behind")
    try:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            summary = text_of(triage.query_one("#triage-summary", Static))
            assert "every cause ruled out" not in summary
            assert "1 latent risk: chart-outdated" in summary
            tree = triage.query_one(TriageTree)
            helm = next(node for node in tree.root.children if node.data and node.data.symptom_id == "helm-mismatch")
            assert helm.is_expanded and "! 1 latent risk" in helm.label.plain
            folded = [node.data.symptom_id for node in tree.root.children if not node.is_expanded]
            assert "agent-crashloop" in folded  # every cause ruled out: folded as before
    finally:
        lab.stop()
