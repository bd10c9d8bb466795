"""The log view's comforts: `w` wraps long lines (nothing is cut off), `T` narrows to the last 5, 15 or
60 minutes before the newest line (numbers stay the log's own), `F` follows the newest line, also
when the log is read again."""

from __future__ import annotations

from textual.app import App, ComposeResult

from castui.diagnosis import Evidence
from castui.report.redact import Redactor
from castui.widgets.evidence_pane import EvidencePane
from castui.widgets.log_pane import LogPane
from castui.widgets.log_view import LogView
from tests.app.conftest import text_of, wait_for

LONG = "x" * 150 + " the end of a long line"
LINES = [f'time="2025-03-14T08:{10 * i:02d}:00Z" level=info msg="step {i}"' for i in range(6)]
LINES[2] = f'time="2025-03-14T08:20:00Z" level=error msg="{LONG}"'
LINES.append("    at the stack trace of the last line, no timestamp")


class PaneApp(App[None]):

    def compose(self) -> ComposeResult:
        yield EvidencePane(id="evidence")


async def test_wrap_shows_a_long_line_whole() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(EvidencePane).show_evidence([Evidence(kind="log", title="agent", lines=LINES, highlight=[2])],
                                                  Redactor())
        view = app.query_one(LogView)
        view.focus()
        await pilot.pause()
        assert "the end of a long line" not in text_of(view), "cut off without wrap"
        await pilot.press("w")
        await wait_for(pilot, lambda: view.wrap and len(view.visible_text()) > len(LINES), "the wrapped rows")
        rows = view.visible_text()
        assert "".join(rows).count(LONG) == 1 and all(len(row) <= view.size.width for row in rows)
        on_screen = "".join(text_of(view).split()).replace("↪", "")  # the rows joined, gutters and spaces aside
        assert "theendofalongline" in on_screen
        assert "wrap" in view.status()
        await pilot.press("w")
        assert not view.wrap and len(view.visible_text()) == len(LINES)


async def test_time_window_and_follow() -> None:
    app = PaneApp()
    async with app.run_test(size=(100, 24)) as pilot:
        pane = app.query_one(EvidencePane)
        pane.show_evidence([Evidence(kind="log", title="agent", lines=LINES, highlight=[2])], Redactor())
        view = app.query_one(LogView)
        view.focus()
        await pilot.press("T")  # 5 minutes before 08:50: the last line and its stack trace
        await wait_for(pilot, lambda: view.line_count == 2, "the 5-minute window")
        assert view.status().startswith("line 6 (last 5 min: 2 of 7 lines)"), view.status()
        assert view.visible_text()[0].endswith('msg="step 5"')
        await pilot.press("T")  # 15 minutes: 08:40 and 08:50
        await wait_for(pilot, lambda: view.line_count == 3, "the 15-minute window")
        await pilot.press("T", "T")  # 60 minutes, then every line again
        await wait_for(pilot, lambda: view.line_count == len(LINES) and not view.window, "every line")
        assert view.cursor == 2, "back on the marked line"

        await pilot.press("F")
        assert view.follow and view.cursor == len(LINES) - 1
        app.query_one(LogPane).load([*LINES, 'time="2025-03-14T08:51:00Z" msg="new"'], [2], lambda line: line)
        await wait_for(pilot, lambda: view.cursor == len(LINES), "the cursor on the newest line after a reload")
        assert "follow" in view.status()
