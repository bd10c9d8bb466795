"""What k9s, lazygit and posting users expect: copy one evidence line, suppress a cause from the app
(with reason and expiry), and a theme picked in the app kept in the config file."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from castui import suppressions
from castui.lab import RunningLab
from castui.screens.home_screen import HomeScreen
from castui.screens.suppress_screen import SuppressScreen
from castui.screens.triage_screen import TriageScreen
from castui.widgets.log_view import LogView
from tests.app.conftest import finish_triage, lab_on_fixed_clock, settings_for, wait_for, wait_for_screen


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with lab_on_fixed_clock("heartbeat-failing") as running:
        yield running


async def open_triage(pilot, key: str) -> TriageScreen:  # noqa: ANN001
    await pilot.press(key)
    triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
    await finish_triage(pilot)
    await wait_for(pilot, lambda: triage.highlighted_cause() is not None, "the cursor on the confirmed cause")
    return triage


async def test_copy_one_line_of_evidence(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        triage = await open_triage(pilot, "2")
        await pilot.press("v")
        log = triage.query_one(LogView)
        await wait_for(pilot, lambda: log.has_focus, "the log")
        await pilot.press("m")  # the next marked line
        await pilot.press("c")
        await wait_for(pilot, lambda: app.clipboard == log.shown_line(log.cursor), "the cursor line copied")
        assert "failed sending delta" in app.clipboard and "\n" not in app.clipboard

    with lab_on_fixed_clock("unschedulable-pods-disabled") as policies:
        app = make_app(policies)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_triage(pilot, "4")
            await pilot.press("v", "c")
            await wait_for(pilot, lambda: app.clipboard == "unschedulablePods.enabled = false", "the marked path copied")


async def test_suppress_a_cause_from_the_app_with_reason_and_expiry(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(120, 40)) as pilot:
        triage = await open_triage(pilot, "2")
        assert triage.highlighted_cause()[1].id == "heartbeat-failing"
        await pilot.press("S")
        modal = await wait_for_screen(pilot, SuppressScreen)
        await pilot.press("enter", "enter")  # no reason
        assert app.screen is modal and "needs a reason" in str(modal.query_one("#suppress-error").render())
        await pilot.press(*"proxy change tonight", "enter")
        await pilot.press(*(date.today() - timedelta(days=2)).isoformat(), "enter")
        assert app.screen is modal and "in the past" in str(modal.query_one("#suppress-error").render())
        until = date.today() + timedelta(days=3)
        modal.query_one("#suppress-until", Input).value = until.isoformat()
        await pilot.press("enter")
        await wait_for(pilot, lambda: triage.runs == 2 and triage.diagnosis is not None, "the symptom re-judged")
        cause = next(c for _, c in triage.diagnosis.confirmed() if c.id == "heartbeat-failing")
        assert cause.suppressed is not None and cause.suppressed.reason == "proxy change tonight"
        [record] = suppressions.load()
        assert record.until == until and record.cluster == app.session.cluster_id

        await pilot.press("S")  # again: lifted
        await wait_for(pilot, lambda: triage.runs == 3 and triage.diagnosis is not None, "re-judged again")
        assert suppressions.load() == []


async def test_a_theme_picked_in_the_app_is_kept_in_the_config_file(lab: RunningLab, make_app, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('# mine\ntimeout = 12\n\n[keymap]\n"fix.copy" = "y"\n')
    app = make_app(lab, settings_for(lab, config=config))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        app.theme = "textual-light"  # what picking it in the palette does
        await wait_for(pilot, lambda: 'theme = "textual-light"' in config.read_text(), "the theme saved")
    saved = tomllib.loads(config.read_text())
    assert saved["theme"] == "textual-light" and saved["timeout"] == 12 and saved["keymap"] == {"fix.copy": "y"}
    assert config.read_text().startswith("# mine\n")
    again = make_app(lab, settings_for(lab, config=config))
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        assert again.theme == "textual-light"


async def test_slash_filters_the_triage_tree(make_app) -> None:
    from castui.widgets.triage_tree import TriageTree

    with lab_on_fixed_clock("demo") as demo:
        app = make_app(demo)
        async with app.run_test(size=(120, 40)) as pilot:
            triage = await open_triage(pilot, "a")
            tree = triage.query_one(TriageTree)

            def shown() -> set[tuple[str, str, str | None]]:
                found = set()
                stack = list(tree.root.children)
                while stack:
                    node = stack.pop()
                    found.add((node.data.kind, node.data.symptom_id, node.data.item_id))
                    stack.extend(node.children)
                return found

            everything = shown()
            await pilot.press("slash", *"unschedulable")
            await wait_for(pilot, lambda: shown() != everything, "the filter")
            symptoms = {s for kind, s, _ in shown() if kind == "symptom"}
            causes = {c for kind, _, c in shown() if kind == "cause"}
            assert "no-scale-up" in symptoms and "helm-mismatch" not in symptoms and "agent-crashloop" not in symptoms
            assert "unschedulable-pods-disabled" in causes and "chart-outdated" not in causes
            await pilot.press("enter")
            assert tree.has_focus
            await wait_for(pilot, lambda: triage.highlighted_cause() is not None
                           and triage.highlighted_cause()[1].id == "unschedulable-pods-disabled", "the cursor on the match")
            await pilot.press("escape")  # clears the filter first; the screen stays
            await wait_for(pilot, lambda: shown() == everything, "everything again")
            assert app.screen is triage
