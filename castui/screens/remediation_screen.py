"""The fix for one confirmed cause: why, the exact commands, copy, and (unless read-only)
run them after a confirmation, streaming the output; then re-check and show before → after.

API fixes show the JSON diff and are applied through the CAST AI client; their curl
stays copyable. Every run is `Session.execute` (it picks command or API call, pins and
re-checks the target, keeps the run, re-checks the symptoms and says fixed or not);
this screen asks for the confirmation and renders what it streams and returns.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Log, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from castui.config import Settings
from castui.diagnosis import CauseResult, Diagnosis, SymptomResult
from castui.engine.execute import (
    ExecutionResult,
    FixEvent,
    FixOutcome,
    FixOutput,
    FixPlan,
    FixRan,
    FixRechecking,
    FixStatus,
    missing_programs,
    supports_server_dry_run,
)
from castui.report.symbols import SYMPTOM
from castui.sanitise import printable, printable_lines, shown_text
from castui.screens.base import CastuiScreen, worker_failure
from castui.screens.confirm_screen import ConfirmRequest, ConfirmScreen
from castui.widgets.connection_header import ConnectionHeader
from castui.widgets.policy_diff import PolicyDiff
from castui.widgets.verdict_badge import badge, cause_text


class RemediationScreen(CastuiScreen[bool]):
    CSS_PATH = "remediation_screen.tcss"
    AUTO_FOCUS = "#fix-commands"

    BINDINGS = [
        Binding("c", "copy", "Copy", id="fix.copy"),
        Binding("x", "execute", "Execute", id="fix.execute"),
        Binding("d", "dry_run", "Dry run", id="fix.dry-run"),
        Binding("escape", "back", "Back / cancel", id="fix.back"),
    ]

    def __init__(self, symptom: SymptomResult, cause: CauseResult) -> None:
        super().__init__()
        assert cause.fix is not None, "a remediation screen needs a fix"
        self.symptom = symptom
        self.cause = cause
        self.fix = cause.fix
        self.running = False
        self.changed = False
        self._cancel: asyncio.Event | None = None
        #: programs of the commands that are not installed here: no execute for those, copy instead
        self.missing = missing_programs(self.fix)

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        plain = self.settings.plain
        redact = self.app.redactor().text
        fix = self.fix
        yield ConnectionHeader()
        # what happened, and before → after, sit right under the header: the proof stays in view at
        # every size (the raw output scrolls below it)
        with Vertical(id="fix-summary"):
            yield Static(id="fix-status")
            yield Static(id="fix-outcome")
        with VerticalScroll(id="fix-body"):
            yield Static(Text.assemble(("Fix: ", "bold"), (printable(redact(fix.title)), "bold"), "   for ",
                                       cause_text(self.cause, plain=plain),
                                       " ", (self.cause.id, "bold"), f" ({self.symptom.id})"), id="fix-title")
            why = redact(fix.explanation or self.cause.title)
            if fix.note:
                why += "\nNote: " + redact(fix.note)
            yield Static(shown_text(why, lines=True), id="fix-explanation")
            yield Static(self.effect_text(), id="fix-effect")
            if fix.api_call is not None:
                yield Static(Text.assemble(("API change ", "bold"), printable(f"{fix.api_call.method} {fix.api_call.path}")),
                             classes="fix-label")
                yield PolicyDiff(fix.api_call, plain=plain, id="fix-diff")
            if fix.commands:
                label = "Command" if len(fix.commands) == 1 else "Commands (↑/↓ to pick one)"
                yield Static(Text(label + (" · the curl does the same API change by hand" if fix.api_call else ""), style="bold"),
                             classes="fix-label")
                yield OptionList(*[Option(shown_text(redact(line)), id=str(i)) for i, line in enumerate(fix.shell_lines())],
                                 id="fix-commands")
            else:
                yield Static(Text("No command: this fix is something to do by hand (see above)."), id="fix-commands-none")
        yield Log(id="fix-output", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#fix-output", Log).display = False
        self.query_one("#fix-outcome", Static).display = False
        self.query_one("#fix-status", Static).display = False

    @property
    def settings(self) -> Settings:
        return self.app.settings

    def effect_text(self) -> Text:
        fix = self.fix
        text = Text()
        text.append("Changes the cluster: ", style="bold")
        text.append("yes" if fix.mutates else "no")
        if fix.recheck:
            text.append("   Re-checks afterwards: ", style="bold")
            text.append(", ".join(fix.recheck))
        if self.settings.read_only:
            text.append("\nread-only mode: copy the command and run it yourself; castui will not run it", style="bold")
        elif self.missing and not fix.api_call:
            text.append(f"\n{' and '.join(self.missing)} {'is' if len(self.missing) == 1 else 'are'} not installed here: "
                        f"copy the command ({self.key('fix.copy')}) and run it where "
                        f"{'it is' if len(self.missing) == 1 else 'they are'}", style="bold")
        return text

    # --- which command --------------------------------------------------------------------------

    def selected_index(self) -> int:
        try:
            options = self.query_one("#fix-commands", OptionList)
        except Exception:  # noqa: BLE001 - no command list
            return 0
        return options.highlighted or 0

    def selected_argv(self) -> list[str] | None:
        if not self.fix.commands:
            return None
        return self.fix.commands[min(self.selected_index(), len(self.fix.commands) - 1)]

    @on(OptionList.OptionHighlighted, "#fix-commands")
    def picked(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("execute", "dry_run") and self.settings.read_only:
            return False  # read-only: no execute anywhere, not even greyed out
        if action == "execute" and not (self.fix.api_call or self.fix.commands):
            return False
        if action in ("execute", "dry_run") and not self.fix.api_call:
            argv = self.selected_argv()
            if argv and argv[0] in self.missing:
                return False  # not offered: the program is not installed here
        if action == "dry_run":
            argv = self.selected_argv()
            return bool(argv and not self.fix.api_call and supports_server_dry_run(argv)) or False
        if action == "copy" and not self.fix.commands:
            return False
        return True

    # --- copy -----------------------------------------------------------------------------------

    def action_copy(self) -> None:
        lines = self.fix.shell_lines()
        if lines:
            self.copy_line(lines[min(self.selected_index(), len(lines) - 1)])

    @work(group="copy")
    async def copy_line(self, line: str) -> None:
        from castui.clipboard import copy_text

        outcome = await copy_text(self.app, line)
        self.status(outcome.describe())
        self.notify(outcome.describe(), title="Copied" if outcome.copied else "Not copied", markup=False)

    def status(self, message: str | Text) -> None:
        status = self.query_one("#fix-status", Static)
        status.display = True
        status.update(message if isinstance(message, Text) else shown_text(message, lines=True))

    # --- execute --------------------------------------------------------------------------------

    def action_execute(self) -> None:
        if self.running:
            return
        if self.settings.read_only or not self.check_action("execute", ()):
            return
        self.execute(dry_run=False)

    def action_dry_run(self) -> None:
        if not self.running and not self.settings.read_only:
            self.execute(dry_run=True)

    def plan(self, *, dry_run: bool) -> FixPlan:
        """What executing runs: the API call, or the command under the cursor."""
        return self.app.session.plan_fix(self.fix, command=self.selected_index(), dry_run=dry_run)

    def request_for(self, plan: FixPlan) -> ConfirmRequest:
        target = self.app.session.target()
        cluster = target.cluster_name + f" ({target.cluster_id})" if target.cluster_name else target.cluster_id
        return ConfirmRequest(
            title=self.fix.title,
            mutates=self.fix.mutates,
            context=target.context,
            cluster=cluster,
            production=self.app.connection.production,
            argv=plan.runs,
            api_call=self.fix.api_call if plan.argv is None else None,
            dry_run=plan.dry_run,
            stdin=self.fix.stdin,
            key_in_file=plan.key_in_file,
        )

    @work(exclusive=True, group="fix", exit_on_error=False)
    async def execute(self, *, dry_run: bool) -> None:
        command = self.selected_index()
        plan = self.app.session.plan_fix(self.fix, command=command, dry_run=dry_run)
        if plan.refused is not None:
            self.show_refusal(plan.refused)
            return
        if not dry_run:
            confirmed = await self.app.push_screen(ConfirmScreen(self.request_for(plan)), wait_for_dismiss=True)
            if not confirmed:
                self.status("Not run: you cancelled.")
                return
        session = await self.app.ready_session()
        output = self.query_one("#fix-output", Log)
        output.clear()
        output.display = True
        output.border_title = "dry run output" if dry_run else "output"
        redact = self.app.redactor().text
        self._cancel = asyncio.Event()
        self.running = True
        self.show_outcome(None)
        self.status(Text(f"Running… ({self.key('fix.back')} cancels)" if plan.argv is not None else "Calling the API…", style="bold"))

        def show(event: FixEvent) -> None:
            if isinstance(event, FixOutput):
                # a command's output carries the server's words: shown, never acted on
                output.write_line(("stderr: " if event.stream == "stderr" else "") + printable(redact(event.line)))
            elif isinstance(event, FixRan):
                self.status(self.result_text(event.run))
            elif isinstance(event, FixRechecking):
                self.show_outcome(Text(f"Re-checking {', '.join(event.symptoms)}…"))

        try:
            outcome = await session.execute(self.fix, command=command, dry_run=dry_run, cause=self.cause,
                                            on_event=show, cancel=self._cancel)
        finally:
            self.running = False
        self.show_result(outcome)

    def show_result(self, outcome: FixOutcome) -> None:
        if outcome.run is None:  # refused by the session (the plan refuses the same, before the confirmation)
            self.show_refusal(outcome.refused or "")
            return
        self.changed = self.changed or outcome.changed
        if outcome.status is FixStatus.EVIDENCE:
            # a read-only command gathers evidence: nothing to verify, so never "the fix did not take"
            self.show_outcome(Text.assemble(("Evidence gathered: ", "bold"),
                                            "this command changes nothing; read its output below. ",
                                            (self.cause.id, "bold"), " is judged from what it shows."))
        elif outcome.recheck is not None:
            self.app.remember(outcome.recheck)
            self.show_outcome(self.before_after(outcome, outcome.recheck))

    def show_refusal(self, why: str) -> None:
        self.status(Text(f"✗ castui will not run this: {why}. Copy it ({self.key('fix.copy')}) instead.", style="bold"))

    def result_text(self, result: ExecutionResult) -> Text:
        what = "dry run" if result.dry_run else "run"
        if result.cancelled:
            return Text(f"✗ cancelled: the {what} was stopped (exit code {result.exit_code})", style="bold")
        if result.error:
            return Text(f"✗ the {what} failed: {printable_lines(self.app.redactor().text(result.error))}", style="bold")
        ok = result.exit_code == 0
        timing = f" in {result.duration_s:.1f} s" if self.app.timings else ""
        return Text(f"{'✓' if ok else '✗'} {what} finished: exit code {result.exit_code}{timing}", style="bold")

    def show_outcome(self, text: Text | None) -> None:
        outcome = self.query_one("#fix-outcome", Static)
        outcome.display = text is not None
        outcome.update(text or "")

    def before_after(self, outcome: FixOutcome, diagnosis: Diagnosis) -> Text:
        """The cause before → after (the session's re-check), and each re-checked symptom's verdict."""
        plain = self.settings.plain
        after = outcome.after
        text = Text.assemble(("After the fix: ", "bold"), (self.cause.id, "bold"), "  ", cause_text(self.cause, plain=plain), " → ")
        if after is None:
            text.append("not re-checked")
        else:
            text.append_text(cause_text(after, plain=plain))
            text.append("\n" + printable_lines(self.app.redactor().text(after.reason)))
            if outcome.status is FixStatus.STILL_CONFIRMED:
                escalate = self.key("triage.escalate")
                text.append(f"\nStill confirmed: the fix did not take; escalate from the triage screen ({escalate}).", style="bold")
        for symptom in diagnosis.symptoms:
            text.append(f"\n{symptom.id}: ")
            text.append_text(badge(_symptom_entry(symptom), plain=plain))
        return text

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        """An unexpected failure in a run or a copy becomes words on the screen, never a traceback."""
        if event.state is WorkerState.ERROR and event.worker.group in ("fix", "copy"):
            self.running = False
            self.status(Text(f"✗ {printable_lines(worker_failure(event.worker))}", style="bold"))

    # --- leaving --------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.running and self._cancel is not None:
            self._cancel.set()
            self.status(Text("Cancelling…", style="bold"))
            return
        self.dismiss(self.changed)


def _symptom_entry(symptom: SymptomResult) -> tuple[str, str, str]:
    return SYMPTOM[symptom.verdict]
