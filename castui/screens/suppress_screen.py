"""Suppress a confirmed cause from the app: why (required) and until when (optional, not in the past).
The screen only asks; the triage screen stores it (castui.suppressions) in a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from castui.screens.base import CastuiModalScreen
from castui.suppressions import parse_until


@dataclass(frozen=True)
class SuppressRequest:
    reason: str
    until: date | None


class SuppressScreen(CastuiModalScreen[SuppressRequest | None]):
    CSS_PATH = "suppress_screen.tcss"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="suppress.cancel")]

    def __init__(self, cause_id: str, cluster: str | None, *, today: date) -> None:
        super().__init__()
        self.cause_id = cause_id
        self.cluster = cluster
        self.today = today

    def compose(self) -> ComposeResult:
        with Vertical(id="suppress-box"):
            yield Static(Text.assemble(("Suppress ", "bold"), (self.cause_id, "bold"),
                                       f" on cluster {self.cluster or 'any'}"))
            yield Static(Text("It stays on every screen and report (\"suppressed: why, until when\"); it no longer sets "
                              "the exit code. castui suppress --list shows it; S on it again removes it.", style="dim"))
            yield Input(placeholder="why is this accepted? (required)", id="suppress-reason")
            yield Input(placeholder="until YYYY-MM-DD (empty: no end)", id="suppress-until")
            yield Static(id="suppress-error")

    def on_mount(self) -> None:
        self.query_one("#suppress-reason", Input).focus()

    @on(Input.Submitted, "#suppress-reason")
    def reason_done(self) -> None:
        self.query_one("#suppress-until", Input).focus()

    @on(Input.Submitted, "#suppress-until")
    def until_done(self) -> None:
        reason = self.query_one("#suppress-reason", Input).value.strip()
        if not reason:
            self.say("Say why this cause is accepted: a suppression needs a reason.")
            self.query_one("#suppress-reason", Input).focus()
            return
        try:
            until = parse_until(self.query_one("#suppress-until", Input).value, self.today)
        except ValueError as why:
            self.say(f"until: {why}")
            return
        self.dismiss(SuppressRequest(reason, until))

    def say(self, message: str) -> None:
        self.query_one("#suppress-error", Static).update(Text("✗ " + message, style="bold"))

    def action_cancel(self) -> None:
        self.dismiss(None)
