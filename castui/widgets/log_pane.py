"""A log view with its search input and a status line (line n of N, matches)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from castui.widgets.keys import key_of
from castui.widgets.log_view import LogView


class FindInput(Input):
    """The search input; escape closes it (and only it: the screen's escape stays "back")."""

    BINDINGS = [Binding("escape", "close", "Close search", id="log.close-search")]

    def action_close(self) -> None:
        self.post_message(self.Closed())

    class Closed(Message):
        pass


class LogPane(Vertical):

    def __init__(self, *, plain: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._plain = plain

    def compose(self) -> ComposeResult:
        yield LogView(plain=self._plain, id="log-lines")
        yield FindInput(placeholder=f"search the log (enter: find, {key_of(self, 'log.close-search', 'escape')}: close)",
                        id="log-find")
        yield Static(id="log-status")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def load(self, lines: Sequence[str], marked: Sequence[int], redact: Callable[[str], str]) -> None:
        self.view.load(lines, marked, redact=redact)

    @on(LogView.FindRequested)
    def open_find(self) -> None:
        find = self.query_one("#log-find", Input)
        find.display = True
        find.value = self.view.query_text
        find.focus()

    @on(Input.Submitted, "#log-find")
    def run_find(self, event: Input.Submitted) -> None:
        event.stop()
        self.close_find()
        self.view.find(event.value.strip())

    @on(FindInput.Closed)
    def close_find(self) -> None:
        self.query_one("#log-find", Input).display = False
        self.view.focus()

    @on(LogView.StatusChanged)
    def show_status(self, event: LogView.StatusChanged) -> None:
        self.query_one("#log-status", Static).update(Text(event.status))
