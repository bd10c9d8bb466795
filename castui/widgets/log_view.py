"""A virtualised log view: only the lines on screen are redacted, styled and rendered.

Like toolong's log lines, it never builds a widget or Rich object for a line it is
not showing, so a million-line log scrolls as fast as a ten-line one. Lines that
matter (`Evidence.highlight`) carry a ▶ marker; errors, warnings and
heartbeat/connect lines are styled, and the words stay in the text for plain mode.
Search (`/`, `n`, `N`) scans in a thread.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from castui.sanitise import printable
from castui.widgets.keys import key_of
from castui.widgets.styles import styles_beside

#: wrapping lays out every line: beyond this many, search or the time window first
WRAP_LIMIT = 200_000
ERROR = re.compile(
    r"(?i)(level=(error|fatal)|\b(error|fatal|panic|failed|failure|refused|denied|forbidden|unauthorized)\b|status_code=[45]\d\d)"
)
WARNING = re.compile(r"(?i)(level=warn(ing)?|\bwarn(ing)?\b)")
TOPIC = re.compile(r"(?i)(heartbeat|snapshot|delta|connect\w*|registered)")
CACHE_LINES = 2_000


def clean(line: str) -> str:
    """Log text is data: tabs become spaces; control characters (escape sequences too) and bidi
    controls are shown as their escapes."""
    return printable(line.replace("\t", "    "))


class LogView(ScrollView, can_focus=True):
    """Lines with a cursor, marked lines and a search; redaction is applied as lines are drawn."""
    DEFAULT_CSS = styles_beside(__file__)

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="log.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="log.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="log.page-up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="log.page-down"),
        Binding("left,h", "sideways(-1)", "Left", show=False, id="log.left"),
        Binding("right,l", "sideways(1)", "Right", show=False, id="log.right"),
        Binding("home,g", "edge(0)", "First line", show=False, id="log.first"),
        Binding("end,G", "edge(1)", "Last line", show=False, id="log.last"),
        Binding("slash", "find", "Search", id="log.search"),
        Binding("n", "next_match(1)", "Next match", id="log.next"),
        Binding("N", "next_match(-1)", "Previous match", show=False, id="log.previous"),
        Binding("m", "next_marked", "Next marked", id="log.next-marked"),
        Binding("w", "toggle_wrap", "Wrap", id="log.wrap"),
        Binding("F", "toggle_follow", "Follow", show=False, id="log.follow"),
        Binding("T", "since", "Time window", show=False, id="log.since"),
    ]

    COMPONENT_CLASSES = {"logview--gutter", "logview--cursor", "logview--marked", "logview--match"}

    cursor: reactive[int] = reactive(0)

    class FindRequested(Message):
        """The user pressed `/`: the pane around the view shows its search input."""

    class SinceRequested(Message):
        """The user pressed `T`: the pane narrows the lines to a time window (it owns the full log)."""

    class StatusChanged(Message):
        def __init__(self, status: str) -> None:
            super().__init__()
            self.status = status

    class FollowToggled(Message):
        """The user pressed `F`: the owner of the log turns follow on (reading it again) or says why not."""

        def __init__(self, on: bool) -> None:
            super().__init__()
            self.on = on

    def __init__(self, *, redact: Callable[[str], str] | None = None, plain: bool = False,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: Sequence[str] = ()
        self._marked: list[int] = []
        self._marked_set: set[int] = set()
        self._redact = redact or (lambda line: line)
        self._plain = plain
        self._shown: OrderedDict[int, str] = OrderedDict()
        self.query_text = ""
        self.matches: list[int] = []
        self._gutter = 2
        #: long lines wrap instead of scrolling sideways: rows are (line, start column) then
        self.wrap = False
        self._rows: list[tuple[int, int]] = []
        self._first_row: list[int] = []
        #: follow: the log is read again as it grows (by the owner); the cursor stays on the newest line
        self.follow = False
        #: what follow is doing, for the status line ("following · updated 14:32:05", "could not read: …")
        self.follow_note = ""
        #: the oldest lines dropped to bound memory while following
        self.dropped = 0
        #: the numbers shown in the gutter when the lines are a part of the log (a time window)
        self._numbers: Sequence[int] | None = None
        #: a word for the status line about what the pane narrowed (e.g. "last 15 min")
        self.window = ""

    # --- loading --------------------------------------------------------------------------------

    def load(self, lines: Sequence[str], marked: Iterable[int] = (), *, redact: Callable[[str], str] | None = None,
             numbers: Sequence[int] | None = None) -> None:
        """Show `lines` (kept by reference, never copied); the cursor goes to the first marked line (the last one
        when following). `numbers`: the original line numbers (0-based) when `lines` are a part of the log."""
        self._lines = lines
        self._numbers = numbers
        self._marked = sorted(i for i in set(marked) if 0 <= i < len(lines))
        self._marked_set = set(self._marked)
        if redact is not None:
            self._redact = redact
        self._shown.clear()
        self.query_text, self.matches = "", []
        self._gutter = len(str((numbers[-1] + 1) if numbers else len(lines))) + 3
        self._layout()
        self.cursor = (len(lines) - 1 if self.follow and lines else self._marked[0] if self._marked else 0)
        self.scroll_to(x=0, y=0, animate=False, immediate=True)
        # the new virtual size is laid out on the next refresh; only then can we scroll to the cursor
        self.call_after_refresh(self._reveal, self.cursor)
        self.refresh()
        self._post_status()

    def grew(self, lines: Sequence[str], marked: Iterable[int], *, new: int, dropped: int = 0,
             numbers: Sequence[int] | None = None) -> None:
        """The log grew (follow): `lines` are those shown before, less the first `dropped`, then `new` more.
        Unlike `load`, the cursor, the scroll and the search stay; the cursor goes to the newest line when following."""
        self._lines, self._numbers = lines, numbers
        self._marked = sorted(i for i in set(marked) if 0 <= i < len(lines))
        self._marked_set = set(self._marked)
        if dropped:
            self._shown.clear()  # indexes moved
            self.matches = [i - dropped for i in self.matches if i >= dropped]
        if self.query_text:
            needle = self.query_text.lower()
            self.matches += [i for i in range(max(0, len(lines) - new), len(lines)) if needle in lines[i].lower()]
        gutter = len(str((numbers[-1] + 1) if numbers else len(lines))) + 3
        if gutter != self._gutter:  # wrapped rows depend on the text's width
            self._gutter = gutter
            self._layout()
        else:
            self._layout_grown(new, dropped)
        if self.follow and lines:
            self.cursor = len(lines) - 1
            self.call_after_refresh(self.go_to, len(lines) - 1)  # scrolled once the new size is laid out
        elif dropped:
            self.cursor = max(0, min(self.cursor - dropped, len(lines) - 1))
            self.call_after_refresh(self._reveal, self.cursor)  # the lines above moved up: keep the cursor's in view
        self.refresh()
        self._post_status()

    def _reveal(self, index: int) -> None:
        """Scroll so line `index` shows, with a little context above it when there is room."""
        context = min(2, max(0, self.size.height // 3))
        self.scroll_to(y=max(0, self.row_of(index) - context), animate=False, immediate=True)

    # --- wrapping -------------------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(10, self.size.width - self._gutter)

    def _layout(self) -> None:
        """The virtual size: one row per line, or (wrapped) as many rows as each line needs at this width."""
        lines = self._lines
        if not self.wrap:
            self._rows, self._first_row = [], []
            width = max(map(len, lines), default=0) + self._gutter
            self.virtual_size = Size(width, len(lines))
            return
        width = self._text_width()
        rows: list[tuple[int, int]] = []
        first: list[int] = []
        for index, line in enumerate(lines):
            first.append(len(rows))
            length = len(clean(self._redact(line)))
            rows.extend((index, start) for start in range(0, max(length, 1), width))
        self._rows, self._first_row = rows, first
        self.virtual_size = Size(self.size.width, len(rows))

    def _layout_grown(self, new: int, dropped: int) -> None:
        """`_layout` for the lines follow added (and dropped): only the new lines are measured, so a read
        costs its own lines, not the whole kept log's."""
        lines = self._lines
        fresh = range(max(0, len(lines) - new), len(lines))
        if not self.wrap:
            widest = max((len(lines[i]) for i in fresh), default=0) + self._gutter
            self.virtual_size = Size(max(self.virtual_size.width, widest), len(lines))
            return
        if dropped:
            cut = self._first_row[dropped] if dropped < len(self._first_row) else len(self._rows)
            self._rows = [(index - dropped, start) for index, start in self._rows[cut:]]
            self._first_row = [row - cut for row in self._first_row[dropped:]]
        width = self._text_width()
        for index in range(len(self._first_row), len(lines)):
            self._first_row.append(len(self._rows))
            length = len(clean(self._redact(lines[index])))
            self._rows.extend((index, start) for start in range(0, max(length, 1), width))
        self.virtual_size = Size(self.size.width, len(self._rows))

    def row_of(self, index: int) -> int:
        """The first row of line `index` on screen (the line itself when not wrapping)."""
        return self._first_row[index] if self.wrap and 0 <= index < len(self._first_row) else index

    def rows_of(self, index: int) -> int:
        if not self.wrap or not 0 <= index < len(self._first_row):
            return 1
        end = self._first_row[index + 1] if index + 1 < len(self._first_row) else len(self._rows)
        return end - self._first_row[index]

    def on_resize(self) -> None:
        if self.wrap:
            self._layout()
            self.refresh()

    def action_toggle_wrap(self) -> None:
        if not self.wrap and len(self._lines) > WRAP_LIMIT:
            self.notify(f"{len(self._lines):,} lines are too many to wrap; search (/) or the time window (T) narrows them.",
                        markup=False)
            return
        self.wrap = not self.wrap
        self._layout()
        self.scroll_to(x=0, animate=False, immediate=True)
        self.call_after_refresh(self._reveal, self.cursor)
        self.refresh()
        self._post_status()

    def action_toggle_follow(self) -> None:
        self.post_message(self.FollowToggled(not self.follow))

    def set_follow(self, on: bool, note: str = "") -> None:
        """Follow on (the cursor to the newest line) or off; `note` says what it is doing, or why it is off."""
        self.follow, self.follow_note = on, note
        if on and self._lines:
            self.go_to(len(self._lines) - 1)
        self._post_status()

    def set_follow_note(self, note: str) -> None:
        self.follow_note = note
        self._post_status()

    def action_since(self) -> None:
        self.post_message(self.SinceRequested())

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def shown_line(self, index: int) -> str:
        """The line as the screen shows it: cleaned and redacted (cached for the lines in view)."""
        text = self._shown.get(index)
        if text is None:
            text = clean(self._redact(self._lines[index]))
            self._shown[index] = text
            if len(self._shown) > CACHE_LINES:
                self._shown.popitem(last=False)
        else:
            self._shown.move_to_end(index)
        return text

    def visible_text(self) -> list[str]:
        """The text of the rows in view, as drawn (for tests and the screen reader in us all)."""
        top = round(self.scroll_offset.y)
        if self.wrap:
            width = self._text_width()
            return [self.shown_line(i)[start:start + width] for i, start in self._rows[top:top + self.size.height]]
        return [self.shown_line(i) for i in range(top, min(top + self.size.height, len(self._lines)))]

    # --- drawing --------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if self.wrap:
            row = y + scroll_y
            if row >= len(self._rows):
                return Strip.blank(width, base)
            index, start = self._rows[row]
            text = self._line_text(index, start, self._text_width())
            strip = Strip(list(text.render(self.app.console)), text.cell_len)
            return strip.crop_extend(0, width, base).simplify()
        index = y + scroll_y
        if index >= len(self._lines):
            return Strip.blank(width, base)
        text = self._line_text(index)
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        return strip.crop_extend(scroll_x, scroll_x + width, base).simplify()

    def _line_text(self, index: int, start: int = 0, width: int | None = None) -> Text:
        content = self.shown_line(index)
        if width is not None:
            content = content[start:start + width]
        marked = index in self._marked_set
        gutter_style = self.get_component_rich_style("logview--gutter", partial=True)
        shown_number = (self._numbers[index] if self._numbers is not None and index < len(self._numbers) else index) + 1
        number = (str(shown_number) if start == 0 else "").rjust(self._gutter - 3)
        marker = ("▶" if marked else " ") if start == 0 else "↪"
        text = Text.assemble((number, gutter_style), " ", (marker, "bold"), " ")
        line = Text(content)
        if marked:
            # the marker and the band say "this line matters"; level colours would fight the band
            line.stylize(self.get_component_rich_style("logview--marked", partial=True) + Style(bold=True))
        elif not self._plain:
            if ERROR.search(content):
                line.stylize("red")
            elif WARNING.search(content):
                line.stylize("yellow")
            line.highlight_regex(TOPIC, "cyan")
        if self.query_text:
            line.highlight_words([self.query_text], self.get_component_rich_style("logview--match", partial=True),
                                 case_sensitive=False)
        text.append_text(line)
        if index == self.cursor:
            text.stylize(self.get_component_rich_style("logview--cursor", partial=True) if self.has_focus else Style(underline=True))
        return text

    def watch_cursor(self, old: int, new: int) -> None:
        self._post_status()
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- moving ---------------------------------------------------------------------------------

    def go_to(self, index: int) -> None:
        if not self._lines:
            return
        self.cursor = max(0, min(index, len(self._lines) - 1))
        top = round(self.scroll_offset.y)
        height = max(1, self.size.height)
        first = self.row_of(self.cursor)
        last = first + self.rows_of(self.cursor) - 1
        if first < top:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif last >= top + height:
            self.scroll_to(y=max(first, last - height + 1) if last - first < height else first, animate=False, immediate=True)

    def action_move(self, delta: int) -> None:
        self.go_to(self.cursor + delta)

    def action_sideways(self, direction: int) -> None:
        self.scroll_to(x=max(0, self.scroll_offset.x + direction * max(8, self.size.width // 4)), animate=False)

    def action_page(self, direction: int) -> None:
        self.go_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_edge(self, end: int) -> None:
        self.go_to(len(self._lines) - 1 if end else 0)

    def action_next_marked(self) -> None:
        after = [i for i in self._marked if i > self.cursor]
        if after or self._marked:
            self.go_to((after or self._marked)[0])

    def action_find(self) -> None:
        self.post_message(self.FindRequested())

    # --- search ---------------------------------------------------------------------------------

    def find(self, query: str) -> None:
        """Search for `query` (case-insensitive) in a thread; the cursor jumps to the next match."""
        self.query_text = query
        self.matches = []
        self._shown_refresh()
        if query:
            self._scan(query)

    def _shown_refresh(self) -> None:
        self.refresh()
        self._post_status()

    @work(thread=True, exclusive=True, group="log-search")
    def _scan(self, query: str) -> None:
        needle = query.lower()
        lines = self._lines
        matches = [i for i, line in enumerate(lines) if needle in line.lower()]
        self.app.call_from_thread(self._found, query, matches)

    def _found(self, query: str, matches: list[int]) -> None:
        if query != self.query_text:
            return
        self.matches = matches
        self.action_next_match(1, include_current=True)
        self._shown_refresh()

    def action_next_match(self, direction: int, include_current: bool = False) -> None:
        if not self.matches:
            self._post_status()
            return

        needle = self.query_text.lower()
        position = self.cursor
        for _ in range(len(self.matches)):
            if direction > 0:
                i = bisect.bisect_left(self.matches, position) if include_current else bisect.bisect_right(self.matches, position)
                candidate = self.matches[i % len(self.matches)]
            else:
                i = bisect.bisect_left(self.matches, position) - 1
                candidate = self.matches[i % len(self.matches)]
            # a match inside a redacted secret is not one the user can see: skip it
            if needle in self.shown_line(candidate).lower():
                self.go_to(candidate)
                return
            position, include_current = candidate, False
        self._post_status()

    def status(self) -> str:
        if not self._lines:
            return "no lines"
        number = self._numbers[self.cursor] + 1 if self._numbers is not None and self.cursor < len(self._numbers) else self.cursor + 1
        total = self.dropped + len(self._lines)
        parts = [f"line {number} ({self.window})" if self.window else f"line {number} of {total}"]
        if self.dropped and not self.window:
            parts.append(f"first {self.dropped:,} dropped (the newest {len(self._lines):,} kept)")
        toggles = [word for word, on in (("wrap", self.wrap), ("follow", self.follow and not self.follow_note)) if on]
        if toggles:
            parts.append(" + ".join(toggles))
        if self.follow_note:
            parts.append(printable(self.follow_note))
        if self._marked:
            parts.append(f"{len(self._marked)} marked ▶ ({key_of(self, 'log.next-marked', 'm')}: next)")
        if self.query_text:
            if self.matches:

                at = bisect.bisect_left(self.matches, self.cursor)
                here = at + 1 if at < len(self.matches) and self.matches[at] == self.cursor else None
                found = f"match {here} of {len(self.matches)}" if here else f"{len(self.matches)} matches"
                parts.append(f"“{self.query_text}”: {found}")
            else:
                parts.append(f"“{self.query_text}”: no match")
        return " · ".join(parts)

    def _post_status(self) -> None:
        self.post_message(self.StatusChanged(self.status()))
