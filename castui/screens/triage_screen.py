"""Triage: run one symptom (or all) and watch the tree fill in; read the evidence; go to the fix.

The run is an exclusive worker owned by this screen, so leaving the screen (or `r`,
which starts a fresh run) cancels it. Runner events arrive as messages. Active checks
ask for consent in a modal, inside the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, Tree
from textual.worker import Worker, WorkerState

from castui.diagnosis import CauseResult, CauseVerdict, Diagnosis, SymptomResult, SymptomVerdict, exit_code_for
from castui.engine.runner import CheckFinished, CheckStarted, RunEvent, SymptomFinished
from castui.screens.base import CastuiScreen, worker_failure
from castui.screens.log_follow import LogFollower
from castui.tree import SYMPTOMS, symptom
from castui.tree.model import Check, Symptom
from castui.widgets.connection_header import ConnectionHeader
from castui.widgets.evidence_pane import EvidencePane
from castui.widgets.triage_tree import TriageItem, TriageTree
from castui.words import counted, plural

#: how often a running triage shows the progress that came meanwhile (10 a second still reads as live)
PROGRESS_INTERVAL_S = 0.1
#: a re-run in place shows its first progress this late: one that ends sooner (most, on a reachable
#: cluster) goes from the last results to the new ones without a frame of pending lines in between
RERUN_GRACE_S = 0.25

if TYPE_CHECKING:
    from castui.screens.suppress_screen import SuppressRequest


class TriageScreen(CastuiScreen[None]):
    CSS_PATH = "triage_screen.tcss"
    AUTO_FOCUS = "#triage-tree"

    BINDINGS = [
        Binding("f", "fix", "Fix", id="triage.fix"),
        Binding("v", "evidence", "Evidence", id="triage.evidence"),
        Binding("r", "rerun", "Re-run", id="triage.rerun"),
        Binding("e", "escalate", "Escalate", id="triage.escalate"),
        Binding("S", "suppress", "Suppress", show=False, id="triage.suppress"),
        Binding("slash", "filter", "Filter", show=False, id="triage.filter"),
        Binding("tab", "switch_pane", "Switch pane", show=False, id="triage.switch-pane"),
        Binding("escape", "back", "Back", id="triage.back"),
    ]

    def __init__(self, symptom_ids: list[str] | None = None) -> None:
        super().__init__()
        self.symptom_ids = symptom_ids
        self.diagnosis: Diagnosis | None = None
        #: how many runs this screen started (the first, and every re-run)
        self.runs = 0
        #: the highlighted item and the result the evidence pane shows for it
        self._shown: tuple[TriageItem, object] | None = None
        #: the run's progress not yet shown, and the timer that shows it
        self._progress: list[RunEvent] = []
        self._progress_timer: Timer | None = None
        #: the run going on or last ended (its state changes are the only ones shown)
        self._run: Worker[Diagnosis] | None = None

    @property
    def symptoms(self) -> list[Symptom]:
        return [symptom(i) for i in self.symptom_ids] if self.symptom_ids else list(SYMPTOMS)

    def compose(self) -> ComposeResult:
        plain = self.app.settings.plain
        yield ConnectionHeader()
        yield Static(id="triage-summary")
        yield Input(id="triage-filter")
        with Horizontal(id="triage-body"):
            yield TriageTree(plain=plain, timings=self.app.timings, id="triage-tree")
            yield EvidencePane(plain=plain, id="evidence")
        yield Footer()

    def on_mount(self) -> None:
        field = self.query_one("#triage-filter", Input)
        field.placeholder = (f"filter symptoms, checks and causes (enter: go to the tree, "
                             f"{self.key('triage.back')}: clear)")
        field.display = False
        self.start_run()

    def action_filter(self) -> None:
        field = self.query_one("#triage-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#triage-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.triage_tree.set_filter(event.value)

    @on(Input.Submitted, "#triage-filter")
    def filter_done(self) -> None:
        self.triage_tree.focus()

    def close_filter(self) -> bool:
        field = self.query_one("#triage-filter", Input)
        if not field.display:
            return False
        field.value = ""
        field.display = False
        self.triage_tree.set_filter("")
        self.triage_tree.focus()
        return True

    @property
    def evidence_full(self) -> bool:
        """The evidence over the whole body; the header and the summary stay (not Textual's maximize, which hides them)."""
        return self.has_class("-evidence-full")

    @evidence_full.setter
    def evidence_full(self, full: bool) -> None:
        self.set_class(full, "-evidence-full")

    def on_resize(self) -> None:
        # side by side when there is room; stacked on a narrow terminal
        self.set_class(self.size.width < 110, "-narrow")

    @property
    def triage_tree(self) -> TriageTree:
        """The symptoms' tree (not `tree`: that is Textual's DOM tree of every node)."""
        return self.query_one(TriageTree)

    @property
    def pane(self) -> EvidencePane:
        return self.query_one(EvidencePane)

    # --- the run --------------------------------------------------------------------------------

    def start_run(self, only: list[str] | None = None) -> None:
        """A fresh run (of the symptoms in `only`, keeping the others' results); a run still going is
        cancelled (exclusive worker)."""
        keep = [s for s in self.diagnosis.symptoms if s.id not in only] if only and self.diagnosis else []
        self._drop_progress()
        self.diagnosis = None
        self.runs += 1
        self._run = self.run_diagnosis(only if keep else None, keep)

    def rerun_api_checks(self) -> None:
        """A key was typed: re-run the symptoms whose checks asked the API (the others only read the cluster)."""
        if self.diagnosis is None:
            self.start_run()
            return
        asked = self.app.session.api_checks
        ids = [s.id for s in self.symptoms if asked.get(s.id)]
        if ids:
            self.evidence_full = False
            self.start_run(ids)

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def run_diagnosis(self, only: list[str] | None = None, keep: list[SymptomResult] | None = None) -> Diagnosis:
        redactor = self.app.redactor()
        keep = keep or []
        kept = self.triage_tree.begin(self.symptoms, redactor.text, keep=keep)
        running = [s for s in self.symptoms if only is None or s.id in only]
        count = sum(len(s.checks) for s in running)
        self.say(Text(f"Running {count} {plural(count, 'check')} of {len(running)} {plural(len(running), 'symptom')}…"),
                 shrink=False)
        if not kept:  # a re-run in place leaves the evidence being read until its item reports again
            self.pane.show_message("Checks are running; results appear in the tree as they arrive.")
            self._shown = None
        session = await self.app.ready_session()
        diagnosis: Diagnosis = await session.diagnose(only or self.symptom_ids,
                                                      on_event=self._progress_of(self.runs),
                                                      consent=self.consent)
        if not keep:
            return diagnosis
        fresh = {s.id: s for s in [*keep, *diagnosis.symptoms]}
        merged = [fresh[s.id] for s in self.symptoms if s.id in fresh]
        return diagnosis.model_copy(update={"symptoms": merged, "exit_code": exit_code_for(merged)})

    def _progress_of(self, run: int) -> Callable[[RunEvent], None]:
        """Run `run`'s events to `progress`; those of a run replaced meanwhile (cancelled, still ending) dropped."""
        return lambda event: self.progress(event) if run == self.runs else None

    def progress(self, event: RunEvent) -> None:
        """A runner event, gathered, and shown PROGRESS_INTERVAL_S later with the events that came meanwhile:
        each change of the tree is a frame drawn (~30 ms of CPU at 120×40), and a run reports ~130 events.
        Called by the run itself, which is this screen's worker on this event loop (so not a message each:
        ~130 dispatches of the message pump that a run would wait behind)."""
        self._progress.append(event)
        if self._progress_timer is None:
            wait = RERUN_GRACE_S if self.triage_tree.stale else PROGRESS_INTERVAL_S
            self._progress_timer = self.set_timer(wait, self._show_progress)

    def _show_progress(self) -> None:
        self._progress_timer = None
        events, self._progress = self._progress, []
        for event in events:
            if isinstance(event, CheckStarted):
                self.triage_tree.check_started(event.symptom_id, event.check_id)
            elif isinstance(event, CheckFinished):
                self.triage_tree.check_finished(event.symptom_id, event.result)
            elif isinstance(event, SymptomFinished):
                self.triage_tree.symptom_finished(event.result)
        self._show_highlighted()

    def _drop_progress(self) -> None:
        """Progress not yet shown is dropped: the run ended (its results supersede it) or another began."""
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        self._progress = []

    @on(Worker.StateChanged)
    def run_state(self, event: Worker.StateChanged) -> None:
        # a run replaced by a newer one (`r` while it ran) says it was cancelled after the new one began
        if event.worker.group != "triage" or event.worker is not self._run:
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, Diagnosis):
            self.finished(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.triage_tree.abandon()
            self.say(Text(f"✗ the run failed: {worker_failure(event.worker)}  ({self.key('triage.rerun')}: run again)", style="bold"))
        elif event.state is WorkerState.CANCELLED:
            self.triage_tree.abandon()
            self.say(Text(f"run cancelled ({self.key('triage.rerun')}: run again)"))

    def finished(self, diagnosis: Diagnosis) -> None:
        self._drop_progress()
        self.diagnosis = diagnosis
        self.app.remember(diagnosis)
        self.triage_tree.finish(diagnosis.symptoms)
        self.say(self.summary(diagnosis))
        self._show_highlighted()

    def summary(self, diagnosis: Diagnosis) -> Text:
        problems = [s for s in diagnosis.symptoms if s.verdict is SymptomVerdict.PROBLEM]
        unknown = [s for s in diagnosis.symptoms if s.verdict is SymptomVerdict.UNKNOWN]
        confirmed = diagnosis.confirmed()
        text = Text()
        if confirmed:
            names = ", ".join(c.id for _, c in confirmed[:3]) + (f" and {len(confirmed) - 3} more" if len(confirmed) > 3 else "")
            text.append(f"✗ {counted(len(confirmed), 'cause')} confirmed: ", style="bold")
            text.append(names)
            text.append(f"   {self.key('triage.fix')}: fix  {self.key('triage.evidence')}: evidence", style="dim")
        elif problems:
            text.append("✗ a problem is observed but no cause is confirmed", style="bold")
            text.append(f"   press {self.key('triage.escalate')} to escalate: status page, bundle, support report")
        elif unknown:
            text.append("? nothing confirmed, but some checks could not run", style="bold")
            text.append("   see the ? items for why")
        latent = [c for s in diagnosis.symptoms for c in s.causes if c.verdict is CauseVerdict.LATENT]
        not_checked = [c for s in diagnosis.symptoms for c in s.causes if c.verdict is CauseVerdict.UNKNOWN]
        if not (confirmed or problems or unknown):
            if not_checked:
                text.append(f"? nothing confirmed, but {counted(len(not_checked), 'cause')} could not be checked", style="bold")
            elif not latent:
                text.append("✓ nothing wrong found: every cause ruled out", style="bold")
        if latent:
            names = ", ".join(c.id for c in latent[:3]) + (f" and {len(latent) - 3} more" if len(latent) > 3 else "")
            text.append(("   " if text.plain else "") + f"! {counted(len(latent), 'latent risk')}: ", style="bold")
            text.append(names)
        if len(diagnosis.symptoms) > 1:
            text.append(f"   ({counted(len(problems), 'problem')}, {len(unknown)} unknown, "
                        f"{len(diagnosis.symptoms) - len(problems) - len(unknown)} healthy)", style="dim")
        return text

    def say(self, text: Text, *, shrink: bool = True) -> None:
        """The summary line. It is laid out again only when its height changes, and with `shrink=False`
        (a run starting) it keeps the lines it has: the tree and the evidence do not jump up a line as a
        re-run starts and back down as it ends, and the screen is not laid out twice per re-run."""
        summary = self.query_one("#triage-summary", Static)
        height, width = summary.size.height, summary.content_size.width
        needed = len(text.wrap(self.app.console, width)) if width > 0 else 0
        summary.update(text, layout=not width or needed > height or (shrink and needed < height))

    async def consent(self, check: Check) -> bool:
        """Active checks ask first: the app asks once per session and cluster."""
        return await self.app.consent(check)

    # --- the highlighted item -------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#triage-tree")
    def highlighted(self) -> None:
        self._show_highlighted()

    @on(Tree.NodeSelected, "#triage-tree")
    def selected(self, event: Tree.NodeSelected[TriageItem]) -> None:
        item = event.node.data
        if item is not None and item.kind == "cause":
            self.action_fix()

    def _show_highlighted(self) -> None:
        """The highlighted item in the evidence pane, when the item or its result is new: a run's ~130
        progress events, its end and the rebuilt tree re-highlighting the same item would each rebuild
        the pane, and put the evidence the user was reading back to its first piece."""
        node = self.triage_tree.cursor_node
        item = node.data if node else None
        if item is None or self.triage_tree.landing:
            return
        shown = (item, self._result_of(item))
        if self._shown is not None and self._shown[0] == item and (
                shown[1] is None  # re-running: the last run's evidence stays until the new result
                or self._shown[1] is shown[1] or self._shown[1] == shown[1]):  # the run's end re-sends equal results
            return
        self._shown = shown
        redactor = self.app.redactor()
        if item.kind == "cause":
            cause = self.triage_tree.cause(item)
            if cause is not None:
                self.pane.show_cause(cause, redactor, fix_key=self.key("triage.fix"))
            else:
                self.pane.show_message("This cause is judged once its symptom's checks are done.")
        elif item.kind == "check" and item.item_id:
            result = self.triage_tree.checks.get((item.symptom_id, item.item_id))
            if result is not None:
                self.pane.show_check(item.symptom_id, result, redactor, timings=self.app.timings)
            else:
                self.pane.show_message("This check is still running.")
        else:
            symptom_result = self.triage_tree.results.get(item.symptom_id)
            if symptom_result is not None:
                self.pane.show_symptom(symptom_result, redactor, escalate_key=self.key("triage.escalate"))
            else:
                self.pane.show_message(symptom(item.symptom_id).recognise)

    def _result_of(self, item: TriageItem) -> object:
        """What the pane shows for `item`: its cause, check or symptom result (None while it runs)."""
        if item.kind == "cause":
            return self.triage_tree.cause(item)
        if item.kind == "check" and item.item_id:
            return self.triage_tree.checks.get((item.symptom_id, item.item_id))
        return self.triage_tree.results.get(item.symptom_id)

    def highlighted_cause(self) -> tuple[SymptomResult, CauseResult] | None:
        node = self.triage_tree.cursor_node
        item = node.data if node else None
        if item is None or item.kind != "cause":
            return None
        cause = self.triage_tree.cause(item)
        result = self.triage_tree.results.get(item.symptom_id)
        return (result, cause) if cause and result else None

    # --- actions --------------------------------------------------------------------------------

    def action_fix(self) -> None:
        from castui.screens.remediation_screen import RemediationScreen

        picked = self.highlighted_cause()
        if picked is None:
            self.notify("Highlight a confirmed cause to see its fix.", severity="warning")
            return
        result, cause = picked
        if cause.verdict is not CauseVerdict.CONFIRMED or cause.fix is None:
            self.notify(f"{cause.id} is {cause.verdict.value.replace('_', ' ')}: it has no fix to apply.", markup=False)
            return
        self.app.push_screen(RemediationScreen(result, cause), self._after_fix)

    def _after_fix(self, changed: bool | None) -> None:
        if changed:
            self.action_rerun()

    def action_evidence(self) -> None:
        if not self.pane.focus_evidence():
            self.notify("No evidence for the highlighted item.")
            return
        self.evidence_full = True

    def action_switch_pane(self) -> None:
        if self.triage_tree.has_focus:
            if not self.pane.focus_evidence():
                self.notify("No evidence for the highlighted item.")
        else:
            self.evidence_full = False
            self.triage_tree.focus()

    def action_rerun(self) -> None:
        self.evidence_full = False
        self.start_run()

    def action_suppress(self) -> None:
        """Suppress the highlighted confirmed cause (reason, expiry), or lift its suppression."""
        from datetime import date

        from castui.screens.suppress_screen import SuppressScreen

        picked = self.highlighted_cause()
        if picked is None or picked[1].verdict is not CauseVerdict.CONFIRMED:
            self.notify("Highlight a confirmed cause to suppress it.", severity="warning")
            return
        result, cause = picked
        cluster = self.app.session.cluster_id
        if cause.suppressed is not None and not cause.suppressed.expired:
            self.store_suppression(result.id, cause.id, cluster, None)
            return

        def asked(request: SuppressRequest | None) -> None:
            if request is not None:
                self.store_suppression(result.id, cause.id, cluster, request)

        self.app.push_screen(SuppressScreen(cause.id, cluster, today=date.today()), asked)

    @work(group="suppress", exit_on_error=False)
    async def store_suppression(self, symptom_id: str, cause_id: str, cluster: str | None,
                                asked: SuppressRequest | None) -> None:
        """Write (or, with nothing asked, remove) the suppression off the UI thread, then re-judge that symptom."""
        from castui import suppressions

        if asked is None:
            await asyncio.to_thread(suppressions.remove, cause_id, cluster)
            self.notify(f"{cause_id}: suppression removed", markup=False)
        else:
            record = suppressions.SuppressionRecord(cause=cause_id, cluster=cluster, reason=asked.reason, until=asked.until)
            await asyncio.to_thread(suppressions.add, record)
            self.notify(f"{cause_id} suppressed" + (f" until {asked.until}" if asked.until else ""), markup=False)
        self.start_run([symptom_id])

    # --- following the log shown (F) -------------------------------------------------------------

    @cached_property
    def follower(self) -> LogFollower:
        return LogFollower(self, self.pane)

    @on(EvidencePane.FollowRequested)
    def follow_log(self, message: EvidencePane.FollowRequested) -> None:
        self.follower.start(message.source, message.lines)

    @on(EvidencePane.FollowStopped)
    def stop_following(self) -> None:
        self.follower.stop()

    def on_unmount(self) -> None:
        if "follower" in self.__dict__:  # Textual stops the screen's timers; this says so to the follower too
            self.follower.stop()

    @on(EvidencePane.CopyLine)
    def copy_line(self, message: EvidencePane.CopyLine) -> None:
        self.copy_evidence_line(message.text)

    @work(group="copy", exit_on_error=False)
    async def copy_evidence_line(self, line: str) -> None:
        from castui.clipboard import copy_text

        outcome = await copy_text(self.app, line)
        self.notify(outcome.describe(), title="Line copied", markup=False)

    def action_escalate(self) -> None:
        from castui.screens.escalation_screen import EscalationScreen

        self.app.push_screen(EscalationScreen(self.diagnosis))

    def action_back(self) -> None:
        if self.close_filter():
            return
        if self.evidence_full:
            self.evidence_full = False
            self.triage_tree.focus()
            return
        self.dismiss()
