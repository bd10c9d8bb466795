"""The evidence views on their own: a million-line log stays fast (only visible lines are
drawn, search runs in a thread), tables sort by a key, JSON marks its path, and text from
the cluster is shown as text, never interpreted as markup."""

from __future__ import annotations

import json
import time

from textual.app import App, ComposeResult

from castui.diagnosis import Evidence
from castui.report.redact import Redactor
from castui.widgets.evidence_pane import EvidencePane
from castui.widgets.evidence_table import EvidenceTable
from castui.widgets.json_view import pretty_json
from castui.widgets.log_view import LogView
from tests.app.conftest import text_of, wait_for


class PaneApp(App[None]):
    """Just the evidence pane, styled as in castui."""


    def compose(self) -> ComposeResult:
        yield EvidencePane(id="evidence")


async def test_a_million_line_log_scrolls_and_searches_fast() -> None:
    lines = [f'time="2025-03-14T09:{i % 60:02d}:00Z" level=info msg="delta sent" seq={i}' for i in range(1_000_000)]
    lines[765_432] = 'time="2025-03-14T09:00:00Z" level=error msg="needle in the haystack"'
    app = PaneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(EvidencePane)
        started = time.perf_counter()
        pane.show_evidence([Evidence(kind="log", title="huge", lines=lines, highlight=[999_999])], Redactor())
        await pilot.pause()
        view = app.query_one(LogView)
        assert time.perf_counter() - started < 1.5, "loading a million lines must not build them"
        assert view.cursor == 999_999 and view.visible_text()[-1].endswith("seq=999999")

        view.focus()
        await pilot.press("home")
        assert view.cursor == 0 and view.visible_text()[0].endswith("seq=0")

        started = time.perf_counter()
        await pilot.press("slash", *"needle", "enter")
        await wait_for(pilot, lambda: view.cursor == 765_432, "the search to find the needle", timeout=5)
        assert time.perf_counter() - started < 4
        assert any("needle in the haystack" in line for line in view.visible_text())
        assert "match 1 of 1" in view.status()
        await pilot.press("n")
        assert view.cursor == 765_432, "n wraps round to the only match"


async def test_log_lines_are_data_and_secrets_are_redacted() -> None:
    app = PaneApp()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(EvidencePane)
        lines = ["[bold red]not markup[/] level=info", "token=abcdef123456 sent", "\x1b[31mescape\x1b[0m"]
        pane.show_evidence([Evidence(kind="log", title="agent", lines=lines, highlight=[1])], Redactor())
        await pilot.pause()
        shown = text_of(app.query_one(LogView))
        assert "[bold red]not markup[/]" in shown
        assert "abcdef123456" not in shown and "[REDACTED]" in shown
        assert "\x1b" not in shown and "\\x1b[31mescape" in shown  # shown as its escape, not acted on
        assert "2 ▶ token=" in shown, "the marked line carries a marker, not only a colour"


async def test_events_table_sorts_by_the_cursor_column() -> None:
    app = PaneApp()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(EvidencePane)
        rows = [["pod", "count"], ["[b]web-1[/b]", "9"], ["api-2", "31"], ["db-0", "4"]]
        pane.show_evidence([Evidence(kind="events", title="Evicted", data=rows)], Redactor())
        await pilot.pause()
        table = app.query_one(EvidenceTable)
        table.focus()
        await pilot.press("right", "s")
        assert [table.get_row_at(i)[1].plain for i in range(3)] == ["4", "9", "31"]
        await pilot.press("s")
        assert [table.get_row_at(i)[1].plain for i in range(3)] == ["31", "9", "4"]
        assert "[b]web-1[/b]" in text_of(table)


def test_pretty_json_knows_the_line_of_each_path() -> None:
    document = {"a": {"b": [1, {"c": False}]}, "d": "x"}
    lines, where = pretty_json(document)
    assert lines[where["a.b.1.c"]].strip() == '"c": false'
    assert lines[where["d"]].strip() == '"d": "x"'
    assert "\n".join(lines) == json.dumps(document, indent=2)
