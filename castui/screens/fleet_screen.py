"""The fleet: one row per cluster, one column per symptom, cells filling in as checks finish.

`enter` opens the highlighted cluster's triage (the same screen as for one cluster),
`r` re-runs the highlighted row, `R` every row. The runs are workers of this screen;
their events arrive as messages. `FleetApp` is the app opened on this screen by
`castui --all-contexts` (or several `--context`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static

from castui.diagnosis import CauseVerdict, SymptomVerdict
from castui.engine.fleet import ClusterFinished, ClusterProgress, ClusterStarted, Fleet, FleetCluster, FleetEvent
from castui.engine.runner import SymptomFinished
from castui.report.fleet import cell_symbol, cluster_state_short
from castui.sanitise import printable, shown_text
from castui.screens.base import CastuiScreen
from castui.tree import BY_ID, SYMPTOMS

if TYPE_CHECKING:
    from textual import getters

    from castui.fleet_app import FleetApp

WAITING, RUNNING = ("·", "dim"), ("…", "cyan")
STATE_COLUMN = "state"
#: room for the longest short state, "✗ 10 causes"; beside the cluster name, so 80 columns always show it
STATE_WIDTH = 11


SORTS: list[tuple[str, bool]] = [("cluster", False), ("cluster", True), (STATE_COLUMN, True), (STATE_COLUMN, False)]
#: worst first when sorted descending: a problem above could-not-check above healthy above running/waiting
SEVERITY = {"✗": 3, "?": 2, "✓": 1}


def sort_key(cell: object) -> tuple[int, int, str]:
    """Cells sort by what they say: the verdict symbol's severity, then a count ("7 causes"), then the text."""
    text = str(cell).strip()
    number = next((int(word) for word in text.split() if word.isdigit()), 0)
    return SEVERITY.get(text[:1], 0), number, text


class FleetProgress(Message):
    def __init__(self, event: FleetEvent) -> None:
        super().__init__()
        self.event = event


def short_label(symptom_id: str) -> str:
    """Column headers narrow enough for ten symptoms on an 80-column terminal: each symptom's own abbreviation."""
    symptom = BY_ID.get(symptom_id)
    return (symptom.abbrev if symptom else "") or symptom_id[:5]


class FleetScreen(CastuiScreen[None]):
    CSS_PATH = "fleet_screen.tcss"
    AUTO_FOCUS = "#fleet-table"

    BINDINGS = [
        Binding("enter", "open", "Triage", id="fleet.open"),
        Binding("r", "rerun_row", "Re-run row", id="fleet.rerun-row"),
        Binding("R", "rerun_all", "Re-run all", id="fleet.rerun-all"),
        Binding("slash", "filter", "Filter", id="fleet.filter"),
        Binding("s", "sort", "Sort", id="fleet.sort"),
        Binding("escape", "close", "Close", show=False, id="fleet.back"),
    ]

    if TYPE_CHECKING:
        app = getters.app(FleetApp)  # the fleet's app: it opens a cluster on that cluster's session

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self.running: set[str] = set()
        #: the `/` filter on context names, and the sort: (column key, descending)
        self.query_text = ""
        self.sorted_by: tuple[str, bool] | None = None

    @property
    def plain(self) -> bool:
        return self.app.settings.plain

    def compose(self) -> ComposeResult:
        yield Static(id="fleet-title")
        yield Input(id="fleet-filter")
        yield DataTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="fleet-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        table.add_column("cluster", key="cluster")
        table.add_column("state", key=STATE_COLUMN, width=STATE_WIDTH)
        for s in SYMPTOMS:
            table.add_column(short_label(s.id), key=s.id)
        self.fill_rows()
        field = self.query_one("#fleet-filter", Input)
        field.placeholder = f"filter clusters by context (enter: go to the table, {self.app.key_for('fleet.back')}: clear)"
        field.display = False
        self.query_one("#fleet-title", Static).update(self.title_text())
        self.run_all()

    # --- rows: the filter and the sort ----------------------------------------------------------

    def shown_contexts(self) -> list[str]:
        query = self.query_text.lower().strip()
        return [c for c in self.fleet.contexts if query in c.lower()]

    def fill_rows(self) -> None:
        """The rows the filter lets through, each drawn from what is known of its cluster, in the chosen order."""
        table = self.table
        highlighted = self.highlighted()
        table.clear()
        for context in self.shown_contexts():
            result = self.fleet.results.get(context)
            if result is not None and context not in self.running:
                table.add_row(shown_text(context), *self.finished_cells(result), key=context)
            elif context in self.running:
                table.add_row(shown_text(context), Text("running", style="dim"), *[self.cell(*RUNNING) for _ in SYMPTOMS], key=context)
            else:
                table.add_row(shown_text(context), Text("waiting", style="dim"), *[self.cell(*WAITING) for _ in SYMPTOMS], key=context)
        self.apply_sort()
        if highlighted is not None and highlighted in self.shown_contexts():
            table.move_cursor(row=table.get_row_index(highlighted))

    def apply_sort(self) -> None:
        table = self.table
        for key, column in table.columns.items():
            base = "cluster" if key.value == "cluster" else "state" if key.value == STATE_COLUMN else short_label(str(key.value))
            arrow = ""
            if self.sorted_by and self.sorted_by[0] == key.value:
                arrow = " ▼" if self.sorted_by[1] else " ▲"
            column.label = Text(base + arrow)
        if self.sorted_by is not None and table.row_count:
            by, descending = self.sorted_by
            table.sort(by, key=lambda cell: sort_key(cell), reverse=descending)
        table.refresh()

    def action_sort(self) -> None:
        """s cycles the order: cluster ▲, cluster ▼, state ▼ (the worst first), state ▲; the header shows which."""
        current = self.sorted_by
        self.sorted_by = SORTS[(SORTS.index(current) + 1) % len(SORTS)] if current in SORTS else SORTS[0]
        self.apply_sort()

    def action_filter(self) -> None:
        field = self.query_one("#fleet-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#fleet-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.fill_rows()

    @on(Input.Submitted, "#fleet-filter")
    def filter_done(self) -> None:
        self.table.focus()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#fleet-table", DataTable)

    def cell(self, symbol: str, style: str) -> Text:
        return Text(symbol, style="" if self.plain else style, justify="center")

    def title_text(self) -> Text:
        legend = "  ".join(f"{short_label(s.id)}={s.id}" for s in SYMPTOMS)
        return Text.assemble((f"castui fleet: {len(self.fleet.contexts)} clusters", "bold"),
                             ("   ✓ healthy  ✗ problem  ! latent risk  ? could not check  … running\n", "dim"), (legend, "dim"))

    def highlighted(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # --- runs -----------------------------------------------------------------------------------

    @work(exclusive=True, group="fleet", exit_on_error=False)
    async def run_all(self) -> None:
        self.running = set(self.fleet.contexts)  # from now: `R` waits; each row leaves the set as it finishes
        try:
            await self.fleet.run(on_event=self.post_progress)
        finally:
            self.running.clear()  # also when cancelled (the screen went away)

    @work(group="fleet-row", exit_on_error=False)
    async def run_row(self, context: str) -> None:
        self.running.add(context)
        try:
            await self.fleet.run_cluster(context, on_event=self.post_progress)
        finally:
            self.running.discard(context)

    def post_progress(self, event: FleetEvent) -> None:
        if isinstance(event, ClusterFinished):
            self.running.discard(event.result.context)  # before the message: the detail must not say "running"
        self.post_message(FleetProgress(event))

    @on(FleetProgress)
    def progress(self, message: FleetProgress) -> None:
        event, table = message.event, self.table
        context_of = getattr(event, "context", None) or getattr(getattr(event, "result", None), "context", None)
        if context_of is not None and context_of not in self.shown_contexts():
            return  # filtered out: drawn from the results when the filter lets it through
        if isinstance(event, ClusterStarted):
            for s in SYMPTOMS:
                table.update_cell(event.context, s.id, self.cell(*RUNNING))
            table.update_cell(event.context, STATE_COLUMN, Text("running", style="dim"))
            context: str | None = event.context
        elif isinstance(event, ClusterProgress) and isinstance(event.event, SymptomFinished):
            result = event.event.result
            table.update_cell(event.context, result.id, self.cell(*cell_symbol(result)))
            context = None
        elif isinstance(event, ClusterFinished):
            self.finished(event.result)
            context = event.result.context
        else:
            context = None
        if context is not None and context == self.highlighted():
            self.show_detail()

    def finished_cells(self, result: FleetCluster) -> list[Text]:
        """The state, then one cell per symptom."""
        by_id = {s.id: s for s in result.diagnosis.symptoms}
        symbol, words, style = cluster_state_short(result)
        cells = [Text(f"{symbol} {words}", style="" if self.plain else style)]
        for s in SYMPTOMS:
            cells.append(self.cell(*cell_symbol(by_id.get(s.id))))
        return cells

    def finished(self, result: FleetCluster) -> None:
        table = self.table
        state, *cells = self.finished_cells(result)
        for s, cell in zip(SYMPTOMS, cells):
            table.update_cell(result.context, s.id, cell)
        table.update_cell(result.context, STATE_COLUMN, state)
        if self.sorted_by is not None:
            self.apply_sort()

    # --- the highlighted cluster ----------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#fleet-table")
    def row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        context = self.highlighted()
        detail = self.query_one("#fleet-detail", Static)
        if context is None:
            return
        result = self.fleet.results.get(context)
        if context in self.running or result is None:
            detail.update(shown_text(f"{context}: checks are running…", "dim"))
            return
        redact = self.app.redactor().text
        text = Text.assemble((printable(context), "bold"), printable(f"  cluster {result.cluster_id or 'unknown'}") + "\n")
        for symptom_result in result.diagnosis.symptoms:
            confirmed = [c.id for c in symptom_result.causes if c.verdict is CauseVerdict.CONFIRMED]
            if confirmed:
                text.append(f"✗ {symptom_result.id}: {', '.join(confirmed)}\n", style="" if self.plain else "red")
            elif symptom_result.verdict is SymptomVerdict.PROBLEM:
                text.append(f"✗ {symptom_result.id}: no cause confirmed\n", style="" if self.plain else "red")
            latent = [c.id for c in symptom_result.causes if c.verdict is CauseVerdict.LATENT]
            if latent:
                text.append(f"! {symptom_result.id}: latent {', '.join(latent)}\n", style="" if self.plain else "dark_orange")
        if result.error:
            text.append(f"? could not check: {printable(redact(result.error))}\n", style="" if self.plain else "yellow")
        if not result.diagnosis.confirmed() and not result.error:
            text.append("✓ nothing confirmed\n", style="" if self.plain else "green")
        key = self.app.key_for
        text.append(f"{key('fleet.open')}: triage of this cluster   {key('fleet.rerun-row')}: re-run it   "
                    f"{key('fleet.rerun-all')}: re-run all", style="dim")
        detail.update(text)

    # --- actions --------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#fleet-table")
    def row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        context = self.highlighted()
        if context is not None:
            self.app.open_cluster(context)

    def action_rerun_row(self) -> None:
        context = self.highlighted()
        if context is None:
            return
        if context in self.running:
            self.notify(f"{context} is still running.", markup=False)
            return
        self.run_row(context)

    def action_rerun_all(self) -> None:
        if self.running:
            self.notify("Clusters are still running; R again once they finish.", markup=False)
            return
        self.run_all()

    def action_close(self) -> None:
        """escape clears the filter; it never quits (pressing it to close a modal must not lose the fleet's results)."""
        field = self.query_one("#fleet-filter", Input)
        if field.display:
            field.value = ""
            field.display = False
            self.table.focus()
            return
        self.notify(f"{self.app.key_for('app.back')} quits castui.", timeout=3)

    def action_back(self) -> None:
        self.app.request_quit(self.exit_code())

    def exit_code(self) -> int:
        from castui.engine.fleet import fleet_exit_code

        return fleet_exit_code(self.fleet.results.values())
