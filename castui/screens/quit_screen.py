"""Asks before quitting when the session has results: they would be lost (the default is stay)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from castui.screens.base import CastuiModalScreen


class QuitScreen(CastuiModalScreen[bool]):
    CSS_PATH = "quit_screen.tcss"

    BINDINGS = [
        Binding("y", "answer(True)", "Quit", id="quit.yes"),
        Binding("n,escape", "answer(False)", "Stay", id="quit.no"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Static(Text("Quit castui?", style="bold"))
            yield Static(Text(f"This session has {self.what}; quitting loses them "
                              "(castui diagnose or a bundle keeps them)."), id="quit-what")
            with Horizontal(id="quit-buttons"):
                key = self.app.key_for
                yield Button(f"Quit ({key('quit.yes')})", variant="warning", id="quit-yes")
                yield Button(f"Stay ({key('quit.no')})", id="quit-no")

    def on_mount(self) -> None:
        self.query_one("#quit-no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "quit-yes")

    def action_answer(self, leave: bool) -> None:
        self.dismiss(leave)
