"""What castui saw for the highlighted item of the triage tree.

A cause shows its verdict, reason and evidence: logs in the virtualised log view,
events and tables in a sortable table, JSON as marked text or a tree, plain text as
text. `[` and `]` step through a cause's pieces of evidence. Everything shown comes
through the redactor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, Static

from castui.diagnosis import CauseResult, CauseVerdict, CheckResult, CheckStatus, Evidence, LogSource, SymptomResult
from castui.report.redact import Redactor
from castui.report.symbols import suppression_text
from castui.sanitise import printable, printable_lines, shown_text
from castui.widgets.evidence_table import EvidenceTable
from castui.widgets.json_view import JsonView
from castui.widgets.keys import key_of
from castui.widgets.log_pane import LogPane
from castui.widgets.log_view import LogView
from castui.widgets.styles import styles_beside
from castui.widgets.verdict_badge import cause_text, check_badge, duration_text, symptom_badge
from castui.words import symptom_summary

VIEWS = {"log": "ev-log", "events": "ev-table", "table": "ev-table", "json": "ev-json", "text": "ev-text"}


class EvidencePane(Vertical):
    DEFAULT_CSS = styles_beside(__file__)

    ALLOW_MAXIMIZE = True  # `v` on the triage screen gives the evidence the whole screen

    BINDINGS = [
        Binding("right_square_bracket", "cycle(1)", "Next evidence", id="evidence.next"),
        Binding("left_square_bracket", "cycle(-1)", "Previous evidence", show=False, id="evidence.previous"),
        Binding("c", "copy_line", "Copy line", id="evidence.copy-line"),
    ]

    class CopyLine(Message):
        """The user asked to copy one line of evidence (the screen copies it: clipboard I/O is not a widget's)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class FollowRequested(Message):
        """The user asked to follow the log shown (`F`): the screen reads it again while it is shown, or says
        why it cannot (`follow_refused`). `source`: None when castui does not know which container it is."""

        def __init__(self, source: LogSource | None, lines: Sequence[str]) -> None:
            super().__init__()
            self.source = source
            self.lines = lines

    class FollowStopped(Message):
        """Follow is off: `F` again, or the log is no longer shown."""

    def __init__(self, *, plain: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._plain = plain
        self._evidence: list[Evidence] = []
        self._index = 0
        self._redactor: Redactor | None = None
        #: the container whose log is being followed (None: follow is off)
        self.following: LogSource | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="ev-detail")
        yield Static(id="ev-title")
        with ContentSwitcher(initial="ev-none", id="ev-switcher"):
            yield Static("", id="ev-none")
            yield LogPane(plain=self._plain, id="ev-log")
            yield EvidenceTable(id="ev-table")
            yield JsonView(plain=self._plain, id="ev-json")
            with VerticalScroll(id="ev-text"):
                yield Static(id="ev-text-body")

    # --- what to show ---------------------------------------------------------------------------

    def show_cause(self, cause: CauseResult, redactor: Redactor, *, fix_key: str = "f") -> None:
        detail = Text.assemble(cause_text(cause, plain=self._plain), "  ", (cause.id, "bold"), f"  {cause.title}\n")
        detail.append(printable_lines(redactor.text(cause.reason)))
        if note := suppression_text(cause):
            detail.append(f"\n~ {printable(redactor.text(note))}")
        if cause.fix is not None and cause.verdict is CauseVerdict.CONFIRMED:
            detail.append(f"\nFix: {printable(redactor.text(cause.fix.title))} (press {fix_key})", style="bold")
            detail.append(f"   {key_of(self, 'triage.suppress', 'S')}: suppress", style="dim")
        self._set_detail(detail)
        self.show_evidence(list(cause.evidence), redactor)

    def show_check(self, symptom_id: str, check: CheckResult, redactor: Redactor, *, timings: bool = True) -> None:
        detail = Text.assemble(check_badge(check, plain=self._plain), "  ", (check.id, "bold"), f"  {check.title}")
        if timings and check.duration_ms is not None and check.status in (CheckStatus.OK, CheckStatus.FAILED):
            detail.append(f"  ({duration_text(check.duration_ms)})", style="dim")
        if check.summary:
            detail.append("\n" + printable_lines(redactor.text(check.summary)))
        if check.reason:
            detail.append("\ncould not check: " + printable_lines(redactor.text(check.reason)))
        detail.append(f"\npart of {symptom_id}", style="dim")
        self._set_detail(detail)
        self.show_evidence([], redactor)

    def show_symptom(self, result: SymptomResult, redactor: Redactor, *, escalate_key: str = "e") -> None:
        detail = Text.assemble(symptom_badge(result, plain=self._plain), "  ", (result.id, "bold"), f"  {result.title}\n")
        detail.append(printable_lines(redactor.text(symptom_summary(result))))
        confirmed = [c for c in result.causes if c.verdict is CauseVerdict.CONFIRMED]
        if result.observed and not confirmed:
            detail.append(f"\nNo cause confirmed: press {escalate_key} to escalate (status page, bundle, report)", style="bold")
        self._set_detail(detail)
        self.show_evidence([], redactor)

    def show_message(self, message: str | Text) -> None:
        self._set_detail(message if isinstance(message, Text) else shown_text(message, lines=True))
        self.show_evidence([], None)

    def _set_detail(self, text: Text) -> None:
        self.query_one("#ev-detail", Static).update(text)

    # --- evidence -------------------------------------------------------------------------------

    def show_evidence(self, evidence: list[Evidence], redactor: Redactor | None) -> None:
        self._evidence, self._index, self._redactor = evidence, 0, redactor
        self._render_current()

    @property
    def current(self) -> Evidence | None:
        return self._evidence[self._index] if self._evidence else None

    def action_cycle(self, step: int) -> None:
        if len(self._evidence) > 1:
            self._index = (self._index + step) % len(self._evidence)
            self._render_current()

    def _render_current(self) -> None:
        self.stop_following()  # another piece of evidence: the followed log is no longer shown
        switcher = self.query_one("#ev-switcher", ContentSwitcher)
        title = self.query_one("#ev-title", Static)
        evidence, redactor = self.current, self._redactor
        if evidence is None or redactor is None:
            title.update("")
            title.display = False
            switcher.current = "ev-none"
            return
        title.display = True
        keys = f"{key_of(self, 'evidence.previous', '[')} {key_of(self, 'evidence.next', ']')}"
        counter = f" ({self._index + 1} of {len(self._evidence)}; {keys} switch)" if len(self._evidence) > 1 else ""
        title.update(Text.assemble(("Evidence: ", "bold"), printable(redactor.text(evidence.title)), (counter, "dim")))
        view = VIEWS.get(evidence.kind, "ev-text")
        if evidence.kind == "log":
            self.query_one(LogPane).load(evidence.lines, evidence.highlight, redactor.text)
        elif view == "ev-table":
            rows = evidence.data if isinstance(evidence.data, list) else [["line"], *([line] for line in evidence.lines)]
            self.query_one(EvidenceTable).load(rows, redactor.text)
        elif evidence.kind == "json":
            self.query_one(JsonView).load(redactor.data(evidence.data), evidence.path)
        else:
            body = "\n".join(redactor.lines(evidence.lines)) if evidence.lines else str(redactor.data(evidence.data) or "")
            self.query_one("#ev-text-body", Static).update(shown_text(body, lines=True))
        switcher.current = view

    def focus_evidence(self) -> bool:
        """Focus the evidence body; False when there is nothing to focus."""
        evidence = self.current
        if evidence is None:
            return False
        if evidence.kind == "log":
            self.query_one(LogPane).view.focus()
        elif evidence.kind in ("events", "table"):
            self.query_one(EvidenceTable).focus()
        elif evidence.kind == "json":
            self.query_one(JsonView).focus_body()
        else:
            self.query_one("#ev-text", VerticalScroll).focus()
        return True

    def current_line(self) -> str | None:
        """The one line of evidence under the cursor, as shown (redacted): the log's cursor line, the table's
        row, the JSON's marked path (or the tree's cursor), the text's first line."""
        evidence = self.current
        if evidence is None:
            return None
        if evidence.kind == "log":
            view = self.query_one(LogPane).view
            return view.shown_line(view.cursor) if view.line_count else None
        if evidence.kind in ("events", "table"):
            table = self.query_one(EvidenceTable)
            if not table.row_count:
                return None
            return "  ".join(str(cell) for cell in table.get_row_at(table.cursor_row))
        if evidence.kind == "json":
            return self.query_one(JsonView).current_line()
        lines = self.redact("\n".join(evidence.lines)).splitlines()
        return lines[0] if lines else None

    def action_copy_line(self) -> None:
        line = self.current_line()
        if line:
            self.post_message(self.CopyLine(self.redact(line)))
        else:
            self.notify("No line to copy here.", markup=False)

    # --- follow (the screen reads; the pane shows) ------------------------------------------------

    @on(LogView.FollowToggled)
    def _follow_toggled(self, event: LogView.FollowToggled) -> None:
        event.stop()
        evidence = self.current
        if not event.on or evidence is None or evidence.kind != "log":
            self.stop_following()
            return
        self.post_message(self.FollowRequested(evidence.source, evidence.lines))

    def follow_started(self, source: LogSource) -> None:
        self.following = source
        self.query_one(LogPane).view.set_follow(True, "● following · reading…")

    def follow_refused(self, why: str) -> None:
        self.query_one(LogPane).view.set_follow(False, f"follow is not available: {self.redact(why)}")

    def follow_read(self, source: LogSource, lines: Sequence[str], *, gap: bool, at: datetime) -> None:
        """A read of the followed log: its new lines go after those shown."""
        if source != self.following:
            return  # a read that finished after follow stopped
        pane = self.query_one(LogPane)
        pane.append(lines, gap=gap)
        pane.view.set_follow_note(f"● following · updated {at:%H:%M:%S}" + (f" · {len(lines)} new" if lines else ""))

    def follow_failed(self, source: LogSource, why: str, *, at: datetime) -> None:
        """A read failed: said in place; follow goes on (the next read may work)."""
        if source == self.following:
            self.query_one(LogPane).view.set_follow_note(f"● following · could not read at {at:%H:%M:%S}: {self.redact(why)}")

    def stop_following(self) -> None:
        view = self.query_one(LogPane).view
        if self.following is None and not view.follow and not view.follow_note:
            return
        was = self.following
        self.following = None
        view.set_follow(False)
        if was is not None:
            self.post_message(self.FollowStopped())

    @property
    def redact(self) -> Callable[[str], str]:
        return self._redactor.text if self._redactor else (lambda s: s)
