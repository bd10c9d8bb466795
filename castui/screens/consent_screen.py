"""Asks before an active check: it creates something in the cluster (a temporary pod)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from castui.screens.base import CastuiModalScreen
from castui.tree.model import Check


class ConsentScreen(CastuiModalScreen[bool]):
    CSS_PATH = "consent_screen.tcss"

    BINDINGS = [
        Binding("y", "answer(True)", "Allow", id="consent.yes"),
        Binding("n,escape", "answer(False)", "Skip", id="consent.no"),
    ]

    def __init__(self, check: Check, *, production: bool = False) -> None:
        super().__init__()
        self.check = check
        self.production = production

    def compose(self) -> ComposeResult:
        with Vertical(id="consent-box"):
            yield Static(Text("This check changes the cluster", style="bold"))
            yield Static(Text.assemble((self.check.title, "bold"), f"\n({self.check.id}) creates a temporary pod, "
                                       "waits for its answer, and deletes it."))
            if self.production:
                yield Static(Text.assemble((" ⚠ PRODUCTION ", "bold reverse"), " this is a production cluster"),
                             id="consent-production")
            yield Static(Text("Allow it for this run? Skipping marks it as skipped; the other checks go on.", style="dim"))
            with Horizontal(id="consent-buttons"):
                key = self.app.key_for
                yield Button(f"Allow ({key('consent.yes')})", variant="warning", id="consent-yes")
                yield Button(f"Skip ({key('consent.no')})", id="consent-no")

    def on_mount(self) -> None:
        self.query_one("#consent-no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "consent-yes")

    def action_answer(self, allow: bool) -> None:
        self.dismiss(allow)
