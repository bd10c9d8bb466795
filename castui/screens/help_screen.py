"""The keys of the screen underneath: current key (after the keymap), what it does, and its
stable action id (the name to use in the config file's [keymap])."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from castui.screens.base import CastuiModalScreen


@dataclass(frozen=True)
class HelpRow:
    keys: str
    description: str
    action_id: str


class HelpScreen(CastuiModalScreen[None]):
    CSS_PATH = "help_screen.tcss"

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, title: str, rows: list[HelpRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text.assemble(("Keys: ", "bold"), self.title_text), id="help-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            key = self.app.key_for
            yield Static(Text("Change a key in config.toml: [keymap] \"triage.rerun\" = \"R\".  "
                              f"{key('app.commands')} lists every command.  {key('help.close')} closes.", style="dim"),
                         id="help-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "action", "id")
        for row in self.rows:
            table.add_row(Text(row.keys, style="bold"), Text(row.description), Text(row.action_id, style="dim"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
