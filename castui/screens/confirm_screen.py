"""The one confirmation before anything changes: the exact argv (or API call and its diff),
whether it mutates, and where it lands. On a production target the user types the
context name; elsewhere `y` confirms and the focused default is Cancel."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Static

from castui.diagnosis import ApiCall
from castui.sanitise import printable, shown_text
from castui.screens.base import CastuiModalScreen
from castui.widgets.policy_diff import PolicyDiff


@dataclass(frozen=True)
class ConfirmRequest:
    title: str
    mutates: bool
    context: str | None
    cluster: str | None
    production: bool
    argv: tuple[str, ...] | None = None
    api_call: ApiCall | None = None
    dry_run: bool = False
    stdin: str | None = None
    #: the key goes to the command in a 0600 file (`--set-file`), not in its argv
    key_in_file: bool = False

    @property
    def typed_word(self) -> str:
        """What the user must type on production: the context name."""
        return self.context or self.cluster or "production"


class ConfirmScreen(CastuiModalScreen[bool]):
    CSS_PATH = "confirm_screen.tcss"

    BINDINGS = [
        Binding("y", "confirm", "Run it", id="confirm.yes"),
        Binding("n,escape", "cancel", "Cancel", id="confirm.no"),
    ]

    def __init__(self, request: ConfirmRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        r = self.request
        plain = self.app.settings.plain
        with Vertical(id="confirm-box"):
            yield Static(shown_text(r.title, "bold"), id="confirm-title")
            with VerticalScroll(id="confirm-what"):
                if r.argv is not None:
                    yield Static(Text("This runs exactly this argv (no shell)" + (
                        "; the API key goes in through a 0600 file, never in the argv:" if r.key_in_file else ":"),
                        style="bold"))
                    yield Static(shown_text(json.dumps(list(r.argv), ensure_ascii=False)), id="confirm-argv")
                    if r.stdin:
                        yield Static(shown_text("with this on standard input:\n" + r.stdin.rstrip("\n"), lines=True),
                                     id="confirm-stdin")
                if r.api_call is not None:
                    call = printable(f"{r.api_call.method} {r.api_call.path}")
                    yield Static(Text.assemble(("This calls the CAST AI API: ", "bold"), call))
                    yield PolicyDiff(r.api_call, plain=plain, id="confirm-diff")
            yield Static(Text.assemble(("Changes the cluster: ", "bold"),
                                       "yes" if r.mutates and not r.dry_run else "no (server-side dry run)" if r.dry_run else "no"),
                         id="confirm-mutates")
            target = printable(f"context {r.context or '(current)'} · cluster {r.cluster or 'unknown'}")
            yield Static(Text.assemble(("Target: ", "bold"), target),
                         id="confirm-target")
            if r.production:
                yield Static(Text.assemble((" ⚠ PRODUCTION ", "bold reverse"),
                                           f"  type the context name “{printable(r.typed_word)}” to confirm"), id="confirm-production")
                yield Input(placeholder=printable(r.typed_word), id="confirm-typed")
                yield Static(id="confirm-typed-error")
            with Horizontal(id="confirm-buttons"):
                key = self.app.key_for
                yield Button(f"Run ({key('confirm.yes')})" if not r.production else "Run", variant="error", id="confirm-run",
                             disabled=r.production)
                yield Button(f"Cancel ({key('confirm.no')})", id="confirm-cancel")

    def on_mount(self) -> None:
        if self.request.production:
            self.query_one("#confirm-typed", Input).focus()
        else:
            self.query_one("#confirm-cancel", Button).focus()

    def typed_ok(self) -> bool:
        if not self.request.production:
            return True
        return self.query_one("#confirm-typed", Input).value.strip() == self.request.typed_word

    @on(Input.Changed, "#confirm-typed")
    def typed(self) -> None:
        self.query_one("#confirm-run", Button).disabled = not self.typed_ok()
        self.query_one("#confirm-typed-error", Static).update("")

    @on(Input.Submitted, "#confirm-typed")
    def submitted(self) -> None:
        if self.typed_ok():
            self.dismiss(True)
        else:
            self.wrong_name(f"That is not “{self.request.typed_word}”: nothing was run. Type the context name exactly.")

    def wrong_name(self, message: str) -> None:
        """Said in the dialog itself, next to the field, where the eyes are."""
        self.query_one("#confirm-typed-error", Static).update(Text("✗ " + message, style="bold"))

    @on(Button.Pressed, "#confirm-run")
    def run_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#confirm-cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    def action_confirm(self) -> None:
        if self.typed_ok():
            self.dismiss(True)
        else:
            self.wrong_name(f"Type “{self.request.typed_word}” first: nothing was run.")

    def action_cancel(self) -> None:
        self.dismiss(False)
