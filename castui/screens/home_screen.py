"""The symptom picker: every symptom with how to recognise each, and "run every check".

Arrows or j/k and enter; digits pick the first ten directly (1–9, 0 for the tenth); `/` filters;
`a` runs everything. After a run, each symptom shows its last verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from castui.screens.base import CastuiScreen
from castui.tree import SYMPTOMS
from castui.tree.model import Symptom
from castui.widgets.connection_header import ConnectionHeader
from castui.widgets.verdict_badge import symptom_badge

if TYPE_CHECKING:
    from castui.diagnosis import SymptomResult

ALL = "all"


#: the keys that pick a symptom directly, in order; symptoms past the tenth are picked by arrows or the filter
DIGITS = "1234567890"


def digit_of(position: int) -> str | None:
    """1–9, then 0 for the tenth; None past it (a digit never picks two symptoms)."""
    return DIGITS[position] if position < len(DIGITS) else None


def prompt(key: str, title: Text, detail: str) -> Table:
    """A key badge, then the title and the detail; wrapped lines stay indented under the title."""
    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(width=3, no_wrap=True)
    grid.add_column()
    grid.add_row(Text(f" {key} ", style="bold reverse"), Text.assemble(title, "\n", (detail, "dim")))
    return grid


def symptom_prompt(position: int, symptom: Symptom, last: SymptomResult | None, plain: bool) -> Table:
    title = Text.assemble((symptom.id, "bold"), f"  {symptom.title}")
    if last is not None:
        title.append("  ")
        title.append_text(symptom_badge(last, plain=plain))
    return prompt(digit_of(position) or " ", title, symptom.recognise)


def matches(symptom: Symptom, query: str) -> bool:
    query = query.lower().strip()
    return not query or any(query in field.lower() for field in (symptom.id, symptom.title, symptom.recognise))


class HomeScreen(CastuiScreen[None]):
    CSS_PATH = "home_screen.tcss"
    AUTO_FOCUS = "#symptoms"

    BINDINGS = [
        Binding("enter", "open", "Diagnose", id="home.open"),
        Binding("a", "run_all", "Run every check", id="home.run-all"),
        Binding("slash", "filter", "Filter", id="home.filter"),
        Binding("j", "cursor(1)", "Down", show=False, id="home.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="home.up"),
        Binding("escape", "close_filter", "Clear the filter", show=False, id="home.back"),
        *[Binding(digit, f"pick({i})", f"Symptom {digit}", show=False, id=f"home.pick-{digit}")
          for i, digit in enumerate(DIGITS[: len(SYMPTOMS)])],
    ]

    def compose(self) -> ComposeResult:
        yield ConnectionHeader()
        yield Static(id="home-intro")
        yield Input(id="home-filter")
        yield OptionList(id="symptoms")
        yield Footer()

    def on_mount(self) -> None:
        key = self.app.key_for
        self.query_one("#home-intro", Static).update(Text.assemble(
            ("What do you see? ", "bold"),
            (f"Pick a symptom (1–9, 0), or run every check ({key('home.run-all')}) to rank what is wrong.", "dim")))
        field = self.query_one("#home-filter", Input)
        field.placeholder = f"filter symptoms (enter: go to the list, {key('home.back')}: clear)"
        field.display = False
        self.fill()

    def on_screen_resume(self) -> None:
        self.fill()

    @property
    def plain(self) -> bool:
        return self.app.settings.plain

    def fill(self, query: str = "") -> None:
        options = self.query_one("#symptoms", OptionList)
        highlighted = options.highlighted_option.id if options.highlighted_option else None
        last = self.app.last_results
        items: list[Option] = []
        if not query.strip():
            items.append(Option(prompt(self.app.key_for("home.run-all"), Text("Run every check", style="bold"),
                                       "every symptom at once; what is wrong comes first"), id=ALL))
        for position, symptom in enumerate(SYMPTOMS):
            if matches(symptom, query):
                items.append(Option(symptom_prompt(position, symptom, last.get(symptom.id), self.plain), id=symptom.id))
        options.clear_options()
        options.add_options(items)
        if not items:
            options.add_option(Option(Text("no symptom matches the filter", style="dim"), id="none", disabled=True))
            return
        ids = [o.id for o in items]
        options.highlighted = ids.index(highlighted) if highlighted in ids else 0

    # --- actions --------------------------------------------------------------------------------

    def open(self, option_id: str | None) -> None:
        if option_id == ALL:
            self.app.open_triage(None)
        elif option_id and option_id != "none":
            self.app.open_triage([option_id])

    @on(OptionList.OptionSelected, "#symptoms")
    def selected(self, event: OptionList.OptionSelected) -> None:
        self.open(event.option.id)

    def action_open(self) -> None:
        options = self.query_one("#symptoms", OptionList)
        self.open(options.highlighted_option.id if options.highlighted_option else None)

    def action_run_all(self) -> None:
        self.open(ALL)

    def action_pick(self, position: int) -> None:
        self.open(SYMPTOMS[position].id)

    def action_cursor(self, step: int) -> None:
        options = self.query_one("#symptoms", OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def action_filter(self) -> None:
        field = self.query_one("#home-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#home-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    @on(Input.Submitted, "#home-filter")
    def filter_done(self) -> None:
        options = self.query_one("#symptoms", OptionList)
        found = [options.get_option_at_index(i).id for i in range(options.option_count)
                 if not options.get_option_at_index(i).disabled]
        if len(found) == 1:  # one match: enter opens it, no second enter
            self.open(found[0])
            return
        options.focus()

    def close_filter(self) -> bool:
        """Clear and hide the filter; False when it was not open."""
        field = self.query_one("#home-filter", Input)
        if not field.display:
            return False
        field.value = ""
        field.display = False
        self.fill()
        self.query_one("#symptoms", OptionList).focus()
        return True

    def action_close_filter(self) -> None:
        """escape closes and goes back, never quits: pressing it a few times to close a modal must not lose the results."""
        if not self.close_filter():
            self.notify(f"{self.app.key_for('app.back')} quits castui.", timeout=3)

    def action_back(self) -> None:
        """`q`: close the filter, else quit (the app asks first when there are results)."""
        if not self.close_filter():
            self.app.request_quit()
