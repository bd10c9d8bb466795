"""Keys a user relies on: the keymap from the config file changes the key and the footer;
the home screen's digits, filter, help and palette; and the app keeps answering keys
while slow checks are still running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, OptionList, Static

from castui.lab import RunningLab
from castui.lab.state import Fault
from castui.screens.api_key_screen import ApiKeyScreen
from castui.screens.consent_screen import ConsentScreen
from castui.screens.help_screen import HelpScreen
from castui.screens.home_screen import HomeScreen
from castui.screens.triage_screen import TriageScreen
from castui.tree import SYMPTOMS
from castui.widgets.triage_tree import TriageTree
from tests.app.conftest import finish_triage, footer_keys, lab_on_fixed_clock, settings_for, text_of, wait_for, wait_for_screen


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    running = lab_on_fixed_clock("unschedulable-pods-disabled")
    yield running
    running.stop()


async def test_keymap_in_the_config_file_moves_the_key_and_the_footer(lab: RunningLab, make_app, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"triage.rerun" = "R"\n"app.help" = "f2"\n')
    app = make_app(lab, settings_for(lab, config=config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
        await finish_triage(pilot)
        keys = footer_keys(app)
        assert keys["Re-run"] == "R" and keys["Help"] == "f2"

        await pilot.press("r")  # the old key does nothing now
        await pilot.pause()
        assert triage.runs == 1
        await pilot.press("R")
        assert triage.runs == 2
        await finish_triage(pilot)

        await pilot.press("f2")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        rows = {row.action_id: row.keys for row in help_screen.rows}
        assert rows["triage.rerun"] == "R" and rows["app.help"].startswith("f2")


async def test_home_digits_filter_help_and_palette(lab: RunningLab, make_app) -> None:
    app = make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        home = await wait_for_screen(pilot, HomeScreen)
        options = home.query_one(OptionList)
        assert options.option_count == 1 + len(SYMPTOMS), "every check, then each symptom"

        await pilot.press("slash", *"evict")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["evictor-aggressive"]
        await pilot.press("escape")
        assert options.option_count == 1 + len(SYMPTOMS) and not home.query_one(Input).display

        await pilot.press("question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        ids = {row.action_id for row in help_screen.rows}
        assert {"home.run-all", "home.filter", "home.pick-0", "app.help", "app.api-key"} <= ids
        await pilot.press("escape")
        await wait_for_screen(pilot, HomeScreen)

        from castui.commands import CastuiCommands

        titles = [title for title, _, _ in CastuiCommands(home).commands()]
        assert "Run every check" in titles and f"Diagnose {SYMPTOMS[9].id}" in titles and "Filter" in titles

        await pilot.press("0")  # the tenth symptom
        triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
        assert triage.symptom_ids == [SYMPTOMS[9].id]


async def test_a_typed_api_key_is_masked_and_kept_in_memory(make_app) -> None:
    with lab_on_fixed_clock("api-key-missing") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            home = await wait_for_screen(pilot, HomeScreen)
            await wait_for(pilot, lambda: "no key" in text_of(home.query_one("#reach", Static)), "the missing key")
            await pilot.press("K")
            modal = await wait_for_screen(pilot, ApiKeyScreen)
            field = modal.query_one(Input)
            assert field.password
            field.insert_text_at_cursor("castui-lab-user-key-7d3f9a2b41c6e8f0")  # as a paste would
            await pilot.pause()
            assert "castui-lab-user-key" not in text_of(field)
            await pilot.press("enter")
            await wait_for(pilot, lambda: "API ✓ answers" in text_of(home.query_one("#reach", Static)), "the API to answer")
            assert app.settings.api_key_value == "castui-lab-user-key-7d3f9a2b41c6e8f0"


async def test_keys_are_handled_while_a_slow_check_is_still_running(make_app) -> None:
    with lab_on_fixed_clock("unschedulable-pods-disabled") as lab:
        # the policies are held until the keys below have been tried (at most 8 s, inside the 10 s check timeout)
        held = threading.Event()
        lab.server.state.faults.append(Fault("latency", path=r"/policies$", seconds=8, released=held))
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("4")
            triage = await wait_for_screen(pilot, TriageScreen)
            tree = triage.query_one(TriageTree)
            await wait_for(pilot, lambda: tree.checks_running, "a check to start")

            await pilot.press("question_mark")
            await wait_for_screen(pilot, HelpScreen, timeout=5)
            await pilot.press("escape")
            await wait_for_screen(pilot, TriageScreen, timeout=5)
            before = tree.cursor_line
            await pilot.press("j", "j")
            await wait_for(pilot, lambda: tree.cursor_line == before + 2, "the cursor to move", timeout=5)
            assert triage.diagnosis is None and tree.checks_running, "the slow check is still running"
            held.set()

            diagnosis, _ = await finish_triage(pilot)
            assert [c.id for _, c in diagnosis.confirmed()] == ["unschedulable-pods-disabled"]


async def move_to(pilot: Any, tree: TriageTree, item: Any) -> None:
    """The cursor onto `item`, as the user would go there; a node just added has its line after a refresh."""

    def there() -> bool:
        if tree.cursor_node is not None and tree.cursor_node.data == item:
            return True
        if (node := tree.node_for(item)) is not None:
            tree.move_cursor(node)
        return False

    await wait_for(pilot, there, f"the cursor on {item.item_id}")


async def test_the_evidence_being_read_stays_while_other_checks_report(make_app) -> None:
    """A responder reads a finished symptom's second piece of evidence while a slow check elsewhere is
    still running: the results still arriving do not put the pane back to the first piece."""
    from textual.widgets import ContentSwitcher

    from castui.widgets.evidence_pane import EvidencePane
    from castui.widgets.triage_tree import TriageItem

    with lab_on_fixed_clock("demo") as lab:
        held = threading.Event()  # the CAST AI policies, which helm-mismatch never reads
        lab.server.state.faults.append(Fault("latency", path=r"/policies$", seconds=8, released=held))
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            await wait_for_screen(pilot, ConsentScreen)  # the in-cluster probe asks first: not now
            await pilot.press("n")
            await wait_for_screen(pilot, TriageScreen)
            tree = triage.query_one(TriageTree)
            await wait_for(pilot, lambda: "helm-mismatch" in tree.results, "helm-mismatch to be judged")
            wanted = TriageItem("cause", "helm-mismatch", "chart-outdated")
            await move_to(pilot, tree, wanted)
            pane = triage.query_one(EvidencePane)
            shown = pane.query_one("#ev-switcher", ContentSwitcher)
            await wait_for(pilot, lambda: shown.current == "ev-log", "its first evidence, the controller's log")
            await pilot.press("v", "right_square_bracket")
            await wait_for(pilot, lambda: shown.current == "ev-table", "its second evidence, the Helm releases")
            assert triage.diagnosis is None, "the policies are still held: checks are still running"
            held.set()

            await finish_triage(pilot)
            await wait_for(pilot, lambda: triage.highlighted_cause() is not None, "the rebuilt tree's cursor on a cause")
            await pilot.pause()
            assert tree.cursor_node is not None and tree.cursor_node.data == wanted, "the cursor stays where the user put it"
            assert shown.current == "ev-table" and "Helm releases" in text_of(pane.query_one("#ev-title", Static))


async def test_a_rerun_keeps_the_tree_and_the_evidence_where_the_reader_is(make_app) -> None:
    """`r` on a finished triage: the tree stays as it is (the same lines, nothing moving under the reader),
    its items marked pending as progress comes; the evidence being read stays until its item reports
    again; the screen does not jump; and at the end the same tree holds the new results."""
    from castui.widgets.evidence_pane import EvidencePane
    from castui.widgets.triage_tree import TriageItem

    with lab_on_fixed_clock("demo") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            tree = triage.query_one(TriageTree)
            wanted = TriageItem("cause", "helm-mismatch", "chart-outdated")
            await move_to(pilot, tree, wanted)
            title = triage.query_one(EvidencePane).query_one("#ev-title", Static)
            await wait_for(pilot, lambda: "chart-outdated" in text_of(triage.pane.query_one("#ev-detail", Static)),
                           "the cause's evidence")
            evidence = text_of(title), text_of(triage.pane.query_one("#ev-detail", Static))
            node, region = tree.node_for(wanted), tree.region
            symptom_node = tree.node_for(TriageItem("symptom", "helm-mismatch"))
            assert node is not None and symptom_node is not None

            held = threading.Event()  # the re-run waits on the CAST AI policies until the test has looked
            lab.server.state.faults.append(Fault("latency", path=r"/policies$", seconds=8, released=held))
            runs = triage.runs
            await pilot.press("r")
            await wait_for(pilot, lambda: triage.runs > runs and tree.checks_running, "the re-run's progress on the tree")
            held_symptom = next(node for node in tree.root.children if node.data is not None
                                and node.data.symptom_id == next(iter(tree.checks_running))[0])
            assert "checks" in str(held_symptom.label), "a symptom still running counts its checks"
            assert "chart-outdated" in str(node.label), "the line still names the cause it shows"
            assert triage.diagnosis is None, "the policies are held: the re-run is still going"
            assert tree.node_for(wanted) is node and tree.cursor_node is node, "the same line, the cursor on it"
            assert tree.region == region, "the tree did not move"
            assert (text_of(title), text_of(triage.pane.query_one("#ev-detail", Static))) == evidence, \
                "the evidence being read stays while its item re-runs"
            held.set()

            await finish_triage(pilot)
            await pilot.pause()
            assert tree.node_for(wanted) is node and tree.cursor_node is node, "relabelled in place, not rebuilt"
            assert "confirmed" in str(symptom_node.label) and "checks" not in str(held_symptom.label)
            assert tree.region == region
            assert "chart-outdated" in text_of(triage.pane.query_one("#ev-detail", Static))


async def test_r_during_a_run_says_the_new_run_is_running_not_that_one_was_cancelled(make_app) -> None:
    """`r` while a re-run is still going: the run replaced is cancelled quietly; the summary says the new
    one is running (not "run cancelled"), and its results are what the screen ends on."""
    with lab_on_fixed_clock("demo") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            summary = triage.query_one("#triage-summary", Static)
            held = threading.Event()
            lab.server.state.faults.append(Fault("latency", path=r"/policies$", seconds=8, released=held))
            await pilot.press("r")
            await wait_for(pilot, lambda: triage.runs == 2 and "Running" in text_of(summary), "the re-run to start")
            await pilot.press("r")
            await wait_for(pilot, lambda: triage.runs == 3 and triage.triage_tree.checks_running, "the third run's progress")
            await pilot.pause()
            assert "Running" in text_of(summary) and "cancelled" not in text_of(summary), text_of(summary)
            held.set()
            diagnosis, _ = await finish_triage(pilot)
            assert diagnosis.confirmed() and "confirmed" in text_of(summary)
