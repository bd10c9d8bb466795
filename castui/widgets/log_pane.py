"""A log view with its search input and a status line (line n of N, matches), and the time window
(`T`: the last 5, 15 or 60 minutes before the newest line)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from castui.widgets.keys import key_of
from castui.widgets.log_view import LogView
from castui.widgets.styles import styles_beside


class FindInput(Input):
    """The search input; escape closes it (and only it: the screen's escape stays "back")."""

    BINDINGS = [Binding("escape", "close", "Close search", id="log.close-search")]

    def action_close(self) -> None:
        self.post_message(self.Closed())

    class Closed(Message):
        pass


#: while following, at most this many lines are kept: the oldest go first (the status line says how many)
MAX_FOLLOWED_LINES = 10_000
#: put where a read did not continue the lines shown (the log grew by more than a read holds, or started again)
GAP = "⋯ castui: lines may be missing here (the log grew by more than one read holds, or the container started again) ⋯"

#: `T` cycles these windows (minutes before the newest timestamp); None: every line
WINDOWS: tuple[int | None, ...] = (None, 5, 15, 60)
TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})")


def in_window(lines: Sequence[str], minutes: int) -> list[int]:
    """Indexes of the lines within `minutes` of the newest timestamp; a line without one goes with the line
    before it (a stack trace stays with its message). No timestamp at all: every line."""
    stamps: list[datetime | None] = []
    last: datetime | None = None
    for line in lines:
        found = TIMESTAMP.search(line)
        if found:
            try:
                last = datetime.fromisoformat(f"{found[1]}T{found[2]}")
            except ValueError:
                pass
        stamps.append(last)
    newest = max((t for t in stamps if t is not None), default=None)
    if newest is None:
        return list(range(len(lines)))
    since = newest - timedelta(minutes=minutes)
    return [i for i, t in enumerate(stamps) if t is None or t >= since]


class LogPane(Vertical):
    DEFAULT_CSS = styles_beside(__file__)

    def __init__(self, *, plain: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._plain = plain
        self._all: Sequence[str] = ()
        self._marked: Sequence[int] = ()
        self._redact: Callable[[str], str] = lambda line: line
        self.window: int | None = None
        #: the lines once follow added to them: a copy (the evidence's own lines stay as the run saw them)
        self._grown: list[str] | None = None
        #: lines dropped from the start while following (bounded memory)
        self.dropped = 0
        self.max_lines = MAX_FOLLOWED_LINES

    def compose(self) -> ComposeResult:
        yield LogView(plain=self._plain, id="log-lines")
        yield FindInput(placeholder=f"search the log (enter: find, {key_of(self, 'log.close-search', 'escape')}: close)",
                        id="log-find")
        yield Static(id="log-status")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def load(self, lines: Sequence[str], marked: Sequence[int], redact: Callable[[str], str]) -> None:
        self._all, self._marked, self._redact = lines, marked, redact
        self._grown, self.dropped = None, 0
        self.view.dropped = 0
        if self.window is None:
            self.view.window = ""
            self.view.load(lines, marked, redact=redact)
        else:
            self.narrow(self.window)

    def append(self, lines: Sequence[str], *, gap: bool = False) -> None:
        """Lines the log gained (follow), after those shown; `gap`: some may be missing before them.
        Beyond `max_lines` the oldest are dropped (marked lines with them)."""
        added = [GAP] * (gap and bool(self._all)) + list(lines)
        if not added:
            return
        grown = self._grown if self._grown is not None else list(self._all)
        grown.extend(added)
        excess = max(0, len(grown) - self.max_lines)
        marked = list(self._marked)
        if excess:
            del grown[:excess]
            marked = [i - excess for i in marked if i >= excess]
            self.dropped += excess
        self._all, self._grown, self._marked = grown, grown, marked
        view = self.view
        view.dropped = self.dropped
        if self.window is None:
            view.grew(grown, marked, new=len(added), dropped=excess, numbers=self._numbers())
        else:
            self.narrow(self.window)

    @on(LogView.SinceRequested)
    def next_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        if self.window is None:
            self.view.window = ""
            self.view.load(self._all, self._marked, redact=self._redact, numbers=self._numbers())
        else:
            self.narrow(self.window)

    def _numbers(self) -> Sequence[int] | None:
        """The log's own line numbers once follow dropped its first lines."""
        return range(self.dropped, self.dropped + len(self._all)) if self.dropped else None

    @work(thread=True, exclusive=True, group="log-window")
    def narrow(self, minutes: int) -> None:
        """The lines of the window, found off the UI thread (a log can be a million lines)."""
        kept = in_window(self._all, minutes)
        self.app.call_from_thread(self._show_window, minutes, kept)

    def _show_window(self, minutes: int, kept: list[int]) -> None:
        if minutes != self.window:
            return
        position = {index: row for row, index in enumerate(kept)}
        lines = [self._all[i] for i in kept]
        marked = [position[i] for i in self._marked if i in position]
        self.view.window = f"last {minutes} min: {len(kept)} of {len(self._all)} lines"
        numbers = [self.dropped + i for i in kept] if self.dropped else kept
        self.view.load(lines, marked, redact=self._redact, numbers=numbers)

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
