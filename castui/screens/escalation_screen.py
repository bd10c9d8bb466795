"""Escalation, when no cause is confirmed or a fix did not take: the CAST AI status page,
a redacted debug bundle, and a support report ready to paste into a ticket.

The bundle and report come from `castui.bundle` and `castui.support`; when this build
has neither, the screen says so instead of offering them.
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from castui.bundle import collect_bundle
from castui.diagnosis import CauseVerdict, Diagnosis, StatusPage, SymptomVerdict
from castui.sanitise import printable, shown_text
from castui.screens.base import CastuiScreen, worker_failure
from castui.support import build_report
from castui.widgets.connection_header import ConnectionHeader

#: how far back the bundle's logs and events go (the CLI's default)
BUNDLE_SINCE = timedelta(hours=1)


def status_text(page: StatusPage) -> Text:
    if not page.available:
        return shown_text(f"? could not read the status page: {page.reason or 'no answer'}")
    text = Text.assemble(("✓ " if page.indicator in (None, "none") else "✗ ", "bold"), printable(page.description or page.indicator or ""))
    for incident in page.incidents[:5]:
        text.append("\n  • " + printable(f"{incident.get('name', 'incident')} ({incident.get('status', '?')})"))
    if not page.incidents:
        text.append("\n  no open incidents")
    return text


class EscalationScreen(CastuiScreen[None]):
    CSS_PATH = "escalation_screen.tcss"

    BINDINGS = [
        Binding("b", "bundle", "Bundle", id="escalate.bundle"),
        Binding("p", "report", "Report", id="escalate.report"),
        Binding("c", "copy_report", "Copy", id="escalate.copy-report"),
        Binding("s", "status_page", "Status page", id="escalate.status-page"),
        Binding("escape", "back", "Back", id="escalate.back"),
    ]

    def __init__(self, diagnosis: Diagnosis | None) -> None:
        super().__init__()
        self.diagnosis = diagnosis
        self.bundle_path: Path | None = None
        self.report: str | None = None
        self.collect_bundle = collect_bundle
        self.build_report = build_report

    def compose(self) -> ComposeResult:
        yield ConnectionHeader()
        with VerticalScroll(id="esc-body"):
            yield Static(self.intro(), id="esc-intro")
            yield Static(Text("1. CAST AI status page", style="bold"), classes="esc-step")
            yield Static(Text("… checking"), id="esc-status")
            yield Static(Text(f"2. Debug bundle ({self.key('escalate.bundle')})", style="bold"), classes="esc-step")
            yield Static(Text(self.bundle_hint()), id="esc-bundle")
            yield Static(Text(f"3. Support report ({self.key('escalate.report')}; {self.key('escalate.copy-report')} copies it)",
                              style="bold"), classes="esc-step")
            yield Static(Text(self.report_hint()), id="esc-report")
        yield Footer()

    def on_mount(self) -> None:
        self.action_status_page()

    def intro(self) -> Text:
        diagnosis = self.diagnosis or self.app.last_diagnosis
        text = Text("Escalate: ", style="bold")
        if diagnosis is None:
            text.append("no run has finished yet; the report runs every check first.")
            return text
        unexplained = [s for s in diagnosis.symptoms if s.verdict is SymptomVerdict.PROBLEM
                       and not any(c.verdict is CauseVerdict.CONFIRMED for c in s.causes)]
        if unexplained:
            text.append("a problem is observed with no confirmed cause: ")
            text.append(", ".join(s.id for s in unexplained), style="bold")
        else:
            text.append("use these when a fix did not take, or to hand the findings to support.")
        text.append("\nCheck for a platform incident, collect a redacted bundle, and send the report with it.")
        return text

    def bundle_hint(self) -> str:
        if self.collect_bundle is None:
            return "not available in this build (castui.bundle is missing)"
        return "not collected yet: press the key above; every secret is redacted"

    def report_hint(self) -> str:
        if self.build_report is None:
            return "not available in this build (castui.support is missing)"
        return "not prepared yet: press the key above"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "bundle":
            return self.collect_bundle is not None
        if action == "report":
            return self.build_report is not None
        if action == "copy_report":
            return self.report is not None
        return True

    # --- status page ----------------------------------------------------------------------------

    @work(exclusive=True, group="status-page", exit_on_error=False)
    async def action_status_page(self) -> None:
        widget = self.query_one("#esc-status", Static)
        widget.update(Text("… checking"))
        session = await self.app.ready_session()
        page = await session.status_page()
        widget.update(status_text(page))

    # --- bundle ---------------------------------------------------------------------------------

    @work(exclusive=True, group="bundle", exit_on_error=False)
    async def action_bundle(self) -> None:
        if self.collect_bundle is None:
            return
        widget = self.query_one("#esc-bundle", Static)
        output = Path.cwd() / f"castui-bundle-{datetime.now().strftime('%Y%m%d-%H%M%S')}.tar.gz"

        def progress(message: str, fraction: float) -> None:
            widget.update(shown_text(f"… {self.app.redactor().text(message)} ({fraction:.0%})"))

        widget.update(Text("… collecting"))
        session = await self.app.ready_session()
        try:
            result = await self.collect_bundle(session, output, since=BUNDLE_SINCE, progress=progress)
        except Exception as error:  # noqa: BLE001 - shown as words, the app goes on
            from castui.engine.runner import describe

            widget.update(shown_text(f"✗ the bundle failed: {describe(error)}", lines=True))
            return
        self.bundle_path = Path(getattr(result, "path", result))
        widget.update(shown_text(f"✓ written: {self.bundle_path} (every secret redacted; attach it to the ticket)"))

    # --- report ---------------------------------------------------------------------------------

    @work(exclusive=True, group="report", exit_on_error=False)
    async def action_report(self) -> None:
        if self.build_report is None:
            return
        widget = self.query_one("#esc-report", Static)
        session = await self.app.ready_session()
        diagnosis = self.diagnosis or self.app.last_diagnosis
        try:
            if diagnosis is None:
                widget.update(Text("… running every check first, for the report"))
                diagnosis = await session.diagnose()
            report = self.build_report(session, diagnosis, str(self.bundle_path) if self.bundle_path else None)
            if inspect.isawaitable(report):
                report = await report
        except Exception as error:  # noqa: BLE001
            from castui.engine.runner import describe

            widget.update(shown_text(f"✗ the report failed: {describe(error)}", lines=True))
            return
        self.report = self.app.redactor().text(str(report))
        widget.update(shown_text(self.report, lines=True))
        self.refresh_bindings()

    @work(group="copy")
    async def action_copy_report(self) -> None:
        if self.report is None:
            return
        from castui.clipboard import copy_text

        outcome = await copy_text(self.app, self.report)
        self.notify(outcome.describe(show_text=False), title="Report copied" if outcome.copied else "Report not copied", markup=False)

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        """Whatever fails in a step is said in that step's place, never as a traceback."""
        place = {"status-page": "#esc-status", "bundle": "#esc-bundle", "report": "#esc-report"}.get(event.worker.group)
        if event.state is WorkerState.ERROR and place:
            self.query_one(place, Static).update(shown_text(f"✗ {worker_failure(event.worker)}", lines=True))

    def action_back(self) -> None:
        self.dismiss()
