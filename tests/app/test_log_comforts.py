"""The log view's comforts: `w` wraps long lines (nothing is cut off), `T` narrows to the last 5, 15 or
60 minutes before the newest line (numbers stay the log's own); a followed log (`F`, read again by the
screen: tests/app/test_log_follow.py) grows at its end, bounded, every new line sanitised."""

from __future__ import annotations

from datetime import datetime

from textual.app import App, ComposeResult

from castui.diagnosis import Evidence, LogSource
from castui.report.redact import Redactor
from castui.widgets.evidence_pane import EvidencePane
from castui.widgets.log_pane import GAP, LogPane
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


async def test_time_window() -> None:
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


async def test_followed_lines_are_appended_bounded_and_sanitised() -> None:
    app = PaneApp()
    source = LogSource(namespace="castai-agent", pod="castai-agent-0", container="agent")
    evidence = Evidence(kind="log", title="agent", lines=list(LINES), highlight=[2], source=source)
    async with app.run_test(size=(100, 24)) as pilot:
        pane = app.query_one(EvidencePane)
        pane.show_evidence([evidence], Redactor())
        view = app.query_one(LogView)
        view.focus()
        view.find("step")
        await wait_for(pilot, lambda: view.matches, "the search")
        pane.follow_started(source)
        assert view.follow and view.cursor == len(LINES) - 1
        app.query_one(LogPane).max_lines = 10
        new = ['time="2025-03-14T08:51:00Z" level=info msg="step 6"', 'time="2025-03-14T08:51:15Z" level=info msg="step 7"',
               'time="2025-03-14T08:51:30Z" level=info msg="\x1b[2J\x1b]0;owned\x07step 8"',
               'time="2025-03-14T08:51:45Z" level=error msg="step 9 failed"']
        pane.follow_read(source, new, gap=False, at=datetime(2025, 3, 14, 8, 52, 1))
        await wait_for(pilot, lambda: view.cursor == 9, "the cursor on the newest line")
        # 11 lines, 10 kept: the first is dropped and said so; the numbers stay the log's own
        assert view.line_count == 10
        status = view.status()
        assert status.startswith("line 11 of 11 · first 1 dropped (the newest 10 kept)"), status
        assert "● following · updated 08:52:01 · 4 new" in status
        assert "2 marked" not in status and "1 marked" in status, "the marked line kept its place"
        shown = text_of(view)
        assert 'msg="step 9 failed"' in shown.splitlines()[-1] and shown.splitlines()[-1].lstrip().startswith("11 ")
        assert "\x1b" not in "".join(view.visible_text()) and "\\x1b[2J" in shown, "escape sequences are shown, never sent"
        last = view.render_line(view.cursor - round(view.scroll_offset.y))  # the newest line's row on screen
        assert any(segment.style and segment.style.color and segment.style.color.name == "red" for segment in last), \
            "a new error line is highlighted like the others"
        assert view.matches == [0, 2, 3, 4, 6, 7, 8, 9], "the search goes on in the new lines (step 0 dropped)"
        assert evidence.lines == LINES, "the evidence keeps what the run saw (bundles, reports)"

        await pilot.press("w")  # wrapped, the newest lines keep coming: each read lays out only its own lines
        await wait_for(pilot, lambda: view.wrap, "wrap")
        pane.follow_read(source, [f'time="2025-03-14T08:52:00Z" level=info msg="{LONG} {i}"' for i in range(3)], gap=False,
                         at=datetime(2025, 3, 14, 8, 52, 2))
        await wait_for(pilot, lambda: view.dropped == 4, "three more lines, three more dropped")
        assert view.virtual_size.height == sum(view.rows_of(i) for i in range(view.line_count)) > view.line_count
        assert "".join(view.visible_text()).endswith(f"{LONG} 2\"") and all(len(r) <= view.size.width for r in view.visible_text())
        laid_out = list(view.visible_text())
        await pilot.press("w", "w")  # laid out again from scratch: the same rows
        await wait_for(pilot, lambda: view.wrap, "wrap again")
        view.go_to(view.line_count - 1)
        await pilot.pause()
        assert view.visible_text() == laid_out

        pane.follow_failed(source, "read the log of pod castai-agent/castai-agent-0: forbidden\x1b[31m",
                           at=datetime(2025, 3, 14, 8, 52, 3))
        assert "could not read at 08:52:03: read the log of pod castai-agent/castai-agent-0: forbidden\\x1b[31m" \
            in view.status()
        pane.follow_read(source, ["later"], gap=True, at=datetime(2025, 3, 14, 8, 52, 5))
        assert "".join(view.visible_text()).endswith(GAP + "later"), "said where lines may be missing"
        pane.stop_following()
        assert not view.follow and "follow" not in view.status()
        pane.follow_read(source, ["too late"], gap=False, at=datetime(2025, 3, 14, 8, 52, 7))
        assert view.visible_text()[-1].endswith("later"), "a read that ends after follow stopped adds nothing"
