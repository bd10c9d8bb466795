"""The triage tree: symptom → checks → causes, filled in live as the runner reports.

Checks show a spinner while they run, then a status symbol and word, their duration
and one line of what they saw. Causes show their verdict, confirmed first. When the
run ends the tree is rebuilt from the results, problems first; a re-run keeps that tree
and relabels it in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from castui.diagnosis import CauseResult, CauseVerdict, CheckResult, CheckStatus, SymptomResult, SymptomVerdict
from castui.report.symbols import CHECK
from castui.sanitise import printable
from castui.tree.model import Symptom
from castui.widgets.keys import key_of
from castui.widgets.styles import styles_beside
from castui.widgets.verdict_badge import badge, cause_text, check_badge, duration_text, symptom_badge

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
RANK = {SymptomVerdict.PROBLEM: 0, SymptomVerdict.UNKNOWN: 1, SymptomVerdict.HEALTHY: 2}


@dataclass(frozen=True)
class TriageItem:
    kind: Literal["symptom", "checks", "causes", "check", "cause"]
    symptom_id: str
    item_id: str | None = None


@dataclass(frozen=True)
class _Shown:
    """One symptom as the finished tree shows it."""

    result: SymptomResult
    #: the symptom itself matches the filter (or there is none): all of it shows
    whole: bool
    fold: bool
    checks: list[CheckResult]
    causes: list[CauseResult]


def _set_label(node: TreeNode[TriageItem], label: Text) -> None:
    """A new label, unless it says what it said: an unchanged line is not drawn again."""
    if node.label != label:
        node.set_label(label)


def _holds(parent: TreeNode[TriageItem], items: list[TriageItem]) -> bool:
    """`parent`'s children are these items, in this order."""
    return [child.data for child in parent.children] == items


class TriageTree(Tree[TriageItem]):
    DEFAULT_CSS = styles_beside(__file__)

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="triage.down"),
        Binding("k", "cursor_up", "Up", show=False, id="triage.up"),
    ]

    def __init__(self, *, plain: bool = False, timings: bool = True, id: str | None = None) -> None:
        super().__init__("Diagnosis", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._plain = plain
        self._timings = timings
        self._redact: Callable[[str], str] = lambda s: s
        self._symptoms: dict[str, Symptom] = {}
        self._by_item: dict[TriageItem, TreeNode[TriageItem]] = {}
        self._titles: dict[tuple[str, str], str] = {}
        self._in_flight: set[tuple[str, str]] = set()
        self._done_checks: dict[str, int] = {}
        self._frame = 0
        self.checks: dict[tuple[str, str], CheckResult] = {}
        self.results: dict[str, SymptomResult] = {}
        #: the item the cursor was on when a re-run began: it goes back there
        self._wanted: TriageItem | None = None
        #: where the run put the cursor when it began: elsewhere at its end means the user moved it
        self._start: TriageItem | None = None
        #: rebuilt, the cursor not yet back on its item: what it highlights meanwhile is not the user's
        self.landing = False
        #: the `/` filter, lower case ("" shows everything)
        self._filter = ""
        #: this run keeps the tree it began with (a re-run of what it shows)
        self._in_place = False
        #: a re-run in place has begun but shown no progress yet: the last results still show
        self._stale = False

    def on_mount(self) -> None:
        self._spin = self.set_interval(0.1, self._advance_spinner, pause=True)

    # --- a run, live ----------------------------------------------------------------------------

    def begin(self, symptoms: Iterable[Symptom], redact: Callable[[str], str], *,
              keep: Iterable[SymptomResult] = ()) -> bool:
        """A fresh run of `symptoms`; the results in `keep` stay as they are (a partial re-run).
        The cursor stays on the item it was on, across re-runs. A re-run of the symptoms the tree
        shows keeps the tree as it is and marks its items pending: nothing moves under the reader, and
        only the lines that change are drawn again. Says whether it did (False: built afresh)."""
        if self.cursor_node is not None and self.cursor_node.data is not None:
            self._wanted = self.cursor_node.data
        self._redact = redact
        wanted = {s.id: s for s in symptoms}
        in_place = self._shows_a_finished_run_of(wanted)
        self._symptoms = wanted
        self._titles = {(s.id, c.id): c.title for s in self._symptoms.values() for c in s.checks}
        self.checks, self.results, self._in_flight, self._done_checks = {}, {}, set(), {}
        if not in_place:
            self._build_pending()
        for result in keep:
            self.symptom_finished(result)
            for done in result.checks:
                self._relabel_check(result.id, done.id)
        # in place, the last results stay until the first progress is shown: a quick re-run goes straight
        # from the old results to the new, without flashing every line to pending and back
        self._stale = self._in_place = in_place
        if in_place:
            self._start = self._wanted
        elif self._wanted in self._by_item:
            self._start = self._wanted
            self.call_after_refresh(self._land_on_item, self._wanted)
        elif self.root.children:
            self._start = self.root.children[0].data
            self.call_after_refresh(self.move_cursor, self.root.children[0])
        return in_place

    @property
    def stale(self) -> bool:
        """A re-run in place has begun and shown no progress yet: the last run's results still show."""
        return self._stale

    def _shows_a_finished_run_of(self, symptoms: dict[str, Symptom]) -> bool:
        """The tree holds the final results of these symptoms (every one of them shown): a re-run can keep it."""
        shown = {node.data.symptom_id for node in self.root.children if node.data is not None}
        return (bool(symptoms) and not self._in_flight and set(self.results) == set(symptoms) == shown
                and set(self._symptoms) == set(symptoms))

    def _build_pending(self) -> None:
        """Every symptom in the guide's order, its checks and causes pending."""
        self.clear()
        self._by_item = {}
        for symptom in self._symptoms.values():
            node = self._add(self.root, TriageItem("symptom", symptom.id), self._pending_symptom_label(symptom.id), expand=True)
            checks = self._add(node, TriageItem("checks", symptom.id), Text("Checks", style="bold"), expand=True)
            for check in symptom.checks:
                label = self._check_label(symptom.id, check.id, None)
                self._add(checks, TriageItem("check", symptom.id, check.id), label, leaf=True)
            causes = self._add(node, TriageItem("causes", symptom.id), Text("Causes", style="bold"), expand=True)
            for cause in symptom.causes:
                self._add(causes, TriageItem("cause", symptom.id, cause.id), self._pending_cause_label(cause.id, cause.title),
                          leaf=True)

    def _mark_pending(self) -> None:
        """The tree as it stands, each symptom, check and cause being re-run pending again."""
        self._stale = False
        for item, node in self._by_item.items():
            if item.symptom_id in self.results:  # kept from the last run (a partial re-run)
                continue
            if item.kind == "symptom":
                _set_label(node, self._pending_symptom_label(item.symptom_id))
            elif item.kind == "check" and item.item_id:
                _set_label(node, self._check_label(item.symptom_id, item.item_id, None))
            elif item.kind == "cause" and item.item_id:
                cause = next((c for c in self._symptoms[item.symptom_id].causes if c.id == item.item_id), None)
                _set_label(node, self._pending_cause_label(item.item_id, cause.title if cause else ""))

    def check_started(self, symptom_id: str, check_id: str) -> None:
        if self._stale:
            self._mark_pending()
        self._in_flight.add((symptom_id, check_id))
        if self._timings:
            self._spin.resume()
        self._relabel_check(symptom_id, check_id)

    def check_finished(self, symptom_id: str, result: CheckResult) -> None:
        if self._stale:
            self._mark_pending()
        self._in_flight.discard((symptom_id, result.id))
        self.checks[(symptom_id, result.id)] = result
        self._done_checks[symptom_id] = self._done_checks.get(symptom_id, 0) + 1
        self._relabel_check(symptom_id, result.id)
        node = self._by_item.get(TriageItem("symptom", symptom_id))
        if node is not None and symptom_id not in self.results:
            _set_label(node, self._pending_symptom_label(symptom_id))
        if not self._in_flight:
            self._spin.pause()

    def symptom_finished(self, result: SymptomResult) -> None:
        if self._stale:
            self._mark_pending()
        self.results[result.id] = result
        for check in result.checks:
            self.checks[(result.id, check.id)] = check
        node = self._by_item.get(TriageItem("symptom", result.id))
        if node is None:
            return
        _set_label(node, self._symptom_label(result))
        causes = self._by_item[TriageItem("causes", result.id)]
        items = [TriageItem("cause", result.id, cause.id) for cause in result.causes]
        if _holds(causes, items):  # the same causes: new labels, nothing moves
            for child, cause in zip(causes.children, result.causes, strict=True):
                _set_label(child, self._cause_label(cause))
            return
        cursor = self.cursor_node.data if self.cursor_node else None
        for child in list(causes.children):
            if child.data is not None:
                self._by_item.pop(child.data, None)
        causes.remove_children()
        for item, cause in zip(items, result.causes, strict=True):
            self._add(causes, item, self._cause_label(cause), leaf=True)
        if cursor is not None and cursor in self._by_item:
            self.call_after_refresh(self.move_cursor, self._by_item[cursor])

    def abandon(self) -> None:
        """The run ended without results (it failed, or was cancelled): a tree still showing the last run's
        results says they are not this run's; the spinners stop."""
        if self._stale:
            self._mark_pending()
        self._in_place = False
        self._in_flight.clear()
        self._spin.pause()

    def set_filter(self, query: str) -> None:
        """`/`: only the symptoms, checks and causes whose id, title or finding contain `query`."""
        self._filter = query.lower().strip()
        if self.results and not self._in_flight and len(self.results) == len(self._symptoms or self.results):
            self.finish(list(self.results.values()))

    def _matches(self, *fields: str | None) -> bool:
        return any(self._filter in (field or "").lower() for field in fields)

    def finish(self, results: list[SymptomResult]) -> None:
        """The final results: problems first; healthy symptoms folded when there are several. A re-run
        whose tree already has that shape (no verdict changed rank) is relabelled in place, the cursor
        and what the user opened or folded left as they are; otherwise the tree is rebuilt."""
        cursor = self.cursor_node.data if self.cursor_node else None
        self._in_flight.clear()
        self._spin.pause()
        self._stale = False
        in_place, self._in_place = self._in_place, False
        plan = self._plan(results)
        for result in results:
            self.results[result.id] = result
            for check in result.checks:
                self.checks[(result.id, check.id)] = check
        if in_place and self._has_shape(plan):
            self._relabel_all(plan)
            self.landing = False
            return
        self.landing = True
        several = len(results) > 1
        self.clear()
        self._by_item = {}
        for shown in plan:
            result = shown.result
            node = self._add(self.root, TriageItem("symptom", result.id), self._symptom_label(result), expand=not shown.fold)
            # with several symptoms the causes matter most: checks fold away (enter/space opens them)
            checks = self._add(node, TriageItem("checks", result.id), self._checks_label(result),
                               expand=not several or bool(self._filter and shown.checks and not shown.whole))
            for check in shown.checks:
                self._add(checks, TriageItem("check", result.id, check.id), self._check_label(result.id, check.id, check), leaf=True)
            causes = self._add(node, TriageItem("causes", result.id), Text("Causes", style="bold"), expand=True)
            for cause in shown.causes:
                self._add(causes, TriageItem("cause", result.id, cause.id), self._cause_label(cause), leaf=True)
        # a re-run goes back to the place the user chose; the first run lands on what is wrong, unless the
        # user moved the cursor while it ran (the first run moves it only to where it began): they are
        # reading something there
        moved = self._wanted is None and cursor is not None and self._start is not None and cursor != self._start
        target = (self._by_item.get(cursor) if moved and cursor else None) or (
            self._by_item.get(self._wanted) if self._wanted else None) or self.first_confirmed() or (
            self._by_item.get(cursor) if cursor else None)
        if target is None and self.root.children:
            target = self.root.children[0]
        if target is not None:
            self.call_after_refresh(self._land_on, target)
        else:
            self.landing = False

    def _plan(self, results: list[SymptomResult]) -> list[_Shown]:
        """What the finished tree shows, in order: problems first, then what could not be checked."""
        ordered = sorted(results, key=lambda r: RANK[r.verdict])
        several = len(ordered) > 1
        plan = []
        for result in ordered:
            whole = not self._filter or self._matches(result.id, result.title, result.summary)
            checks = [c for c in result.checks if whole or self._matches(c.id, c.title, c.summary, c.reason)]
            causes = [c for c in result.causes if whole or self._matches(c.id, c.title, c.reason)]
            if not (whole or checks or causes):
                continue
            # a healthy symptom folds only when every cause is ruled out: a latent risk or a cause castui
            # could not check stays in view, never hidden under a green line
            fold = several and result.verdict is SymptomVerdict.HEALTHY and not self._filter and all(
                c.verdict is CauseVerdict.RULED_OUT for c in result.causes)
            plan.append(_Shown(result, whole, fold, checks, causes))
        return plan

    def _has_shape(self, plan: list[_Shown]) -> bool:
        """The tree shows exactly the planned items in the planned order (a folded symptom still open
        would hide a problem's rank change no better than a rebuild: only the items count)."""
        if not _holds(self.root, [TriageItem("symptom", s.result.id) for s in plan]):
            return False
        for shown in plan:
            sid = shown.result.id
            checks, causes = self._by_item.get(TriageItem("checks", sid)), self._by_item.get(TriageItem("causes", sid))
            if not (checks is not None and _holds(checks, [TriageItem("check", sid, c.id) for c in shown.checks])
                    and causes is not None and _holds(causes, [TriageItem("cause", sid, c.id) for c in shown.causes])):
                return False
        return True

    def _relabel_all(self, plan: list[_Shown]) -> None:
        for shown in plan:
            result = shown.result
            _set_label(self._by_item[TriageItem("symptom", result.id)], self._symptom_label(result))
            _set_label(self._by_item[TriageItem("checks", result.id)], self._checks_label(result))
            for check in shown.checks:
                self._relabel_check(result.id, check.id)
            for node, cause in zip(self._by_item[TriageItem("causes", result.id)].children, shown.causes, strict=True):
                _set_label(node, self._cause_label(cause))

    def _land_on_item(self, item: TriageItem) -> None:
        """By item, not node: the node may have been rebuilt since (a symptom's causes are, when it finishes)."""
        node = self._by_item.get(item)
        if node is not None:
            self._land_on(node)

    def _land_on(self, node: TreeNode[TriageItem]) -> None:
        parent, opened = node.parent, False
        while parent is not None:  # a folded symptom opens to show the place
            if not parent.is_expanded:
                parent.expand()
                opened = True
            parent = parent.parent
        if opened:  # its lines exist after the next refresh
            self.call_after_refresh(self._land_on, node)
            return
        self.move_cursor(node)
        self.scroll_to_node(node, animate=False)
        self.landing = False
        # said even when the cursor's line did not change (a rebuilt tree can hold another item there)
        self.post_message(self.NodeHighlighted(node))

    def first_confirmed(self) -> TreeNode[TriageItem] | None:
        for symptom in self.root.children:
            for group in symptom.children:
                for node in group.children:
                    item = node.data
                    cause = self.cause(item) if item else None
                    if cause is not None and cause.verdict is CauseVerdict.CONFIRMED:
                        return node
        return None

    # --- lookups --------------------------------------------------------------------------------

    @property
    def checks_running(self) -> frozenset[tuple[str, str]]:
        """(symptom id, check id) of the checks started and not yet finished."""
        return frozenset(self._in_flight)

    def cause(self, item: TriageItem) -> CauseResult | None:
        result = self.results.get(item.symptom_id)
        if result is None or item.kind != "cause":
            return None
        return next((c for c in result.causes if c.id == item.item_id), None)

    def node_for(self, item: TriageItem) -> TreeNode[TriageItem] | None:
        return self._by_item.get(item)

    # --- labels ---------------------------------------------------------------------------------

    def _add(self, parent: TreeNode[TriageItem], item: TriageItem, label: Text, *, expand: bool = False,
             leaf: bool = False) -> TreeNode[TriageItem]:
        node = parent.add_leaf(label, data=item) if leaf else parent.add(label, data=item, expand=expand)
        self._by_item[item] = node
        return node

    def _pending_symptom_label(self, symptom_id: str) -> Text:
        symptom = self._symptoms.get(symptom_id)
        total = len(symptom.checks) if symptom else 0
        done = self._done_checks.get(symptom_id, 0)
        title = symptom.title if symptom else ""
        return Text.assemble(badge(CHECK[CheckStatus.RUNNING], plain=self._plain), "  ", (symptom_id, "bold"), f"  {title}",
                             (f"  {done}/{total} checks", "dim"))

    def _symptom_label(self, result: SymptomResult) -> Text:
        confirmed = sum(1 for c in result.causes if c.verdict is CauseVerdict.CONFIRMED)
        latent = sum(1 for c in result.causes if c.verdict is CauseVerdict.LATENT)
        unknown = sum(1 for c in result.causes if c.verdict is CauseVerdict.UNKNOWN)
        tail = f"  {confirmed} confirmed" if confirmed else ""
        if latent:
            tail += f"  ! {latent} latent risk{'s' if latent > 1 else ''}"
        if unknown and result.verdict is SymptomVerdict.HEALTHY:
            tail += f"  ? {unknown} could not check"
        if result.verdict is SymptomVerdict.PROBLEM and not confirmed:
            tail = f"  no cause confirmed: escalate ({key_of(self, 'triage.escalate', 'e')})"
        return Text.assemble(symptom_badge(result, plain=self._plain), "  ", (result.id, "bold"), f"  {result.title}", (tail, "bold"))

    def _check_label(self, symptom_id: str, check_id: str, result: CheckResult | None) -> Text:
        title = self._titles.get((symptom_id, check_id), result.title if result else check_id)
        if result is None:
            if (symptom_id, check_id) in self._in_flight:
                # without timings (screenshots) the spinner stands still, so pictures do not depend on when they are taken
                frame = SPINNER[self._frame % len(SPINNER)] if self._timings else "…"
                return Text.assemble((f"{frame} running", "bold" if self._plain else "bold cyan"), f"  {title}")
            return Text.assemble(badge(CHECK[CheckStatus.PENDING], plain=self._plain), f"  {title}")
        label = Text.assemble(check_badge(result, plain=self._plain), f"  {title}")
        if self._timings and result.duration_ms is not None and (result.duration_ms > 0 or result.summary):
            label.append(f"  {duration_text(result.duration_ms)}", style="dim")
        line = result.reason or result.summary
        if line:
            label.append("  " + printable(self._redact(line)), style="dim")
        return label

    def _checks_label(self, result: SymptomResult) -> Text:
        return Text(f"Checks ({len(result.checks)})", style="bold")

    def _pending_cause_label(self, cause_id: str, title: str) -> Text:
        return Text.assemble(badge(CHECK[CheckStatus.PENDING], plain=self._plain), "  ", (cause_id, "bold"), f"  {title}")

    def _cause_label(self, cause: CauseResult) -> Text:
        label = Text.assemble(cause_text(cause, plain=self._plain), "  ", (cause.id, "bold"), f"  {cause.title}")
        if cause.fix is not None and cause.verdict is CauseVerdict.CONFIRMED:
            label.append("  → fix", style="bold")
        return label

    def _relabel_check(self, symptom_id: str, check_id: str) -> None:
        node = self._by_item.get(TriageItem("check", symptom_id, check_id))
        if node is not None:
            _set_label(node, self._check_label(symptom_id, check_id, self.checks.get((symptom_id, check_id))))

    def _advance_spinner(self) -> None:
        self._frame += 1
        for symptom_id, check_id in list(self._in_flight):
            self._relabel_check(symptom_id, check_id)
