"""Enter a CAST AI API key: masked, kept in memory only, never shown or copied."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from castui.screens.base import CastuiModalScreen


class ApiKeyScreen(CastuiModalScreen[str | None]):
    CSS_PATH = "api_key_screen.tcss"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="key.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="key-box"):
            yield Static(Text("CAST AI API key", style="bold"))
            yield Static(Text("castui keeps it in memory for this session only: it is never written to disk, "
                              "shown, or copied. Create one in the console: API → API Access Keys.", style="dim"))
            yield Input(password=True, placeholder="paste the key and press enter", id="key-input")

    def on_mount(self) -> None:
        self.query_one("#key-input", Input).focus()

    @on(Input.Submitted, "#key-input")
    def submitted(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        event.input.value = ""  # the widget forgets it at once
        self.dismiss(key or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
