"""The one sanitiser (`castui.sanitise`): every character a terminal would act on is shown as
its escape, markup stays text, and everything else is left alone."""

from __future__ import annotations

import pytest
from rich.console import Console

from castui.sanitise import printable, printable_lines, shown_text


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]52;c;SElKQUNLRUQ=\x07", "\\x1b]52;c;SElKQUNLRUQ=\\x07"),      # OSC 52: write the clipboard
    ("\x1b]0;PWNED\x07", "\\x1b]0;PWNED\\x07"),                          # OSC 0: set the window title
    ("\x1b[5;41mred\x1b[0m", "\\x1b[5;41mred\\x1b[0m"),                  # SGR
    ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),                                # CSI: erase, move the cursor
    ("\x9b31m", "\\x9b31m"),                                             # C1 CSI
    ("\x00\x08\x7f", "\\x00\\x08\\x7f"),                                 # NUL, backspace, DEL
    ("a\u202eb", "a\\u202eb"),                                           # right-to-left override
    ("\u2066x\u2069", "\\u2066x\\u2069"),                                # bidi isolates
    ("\u200f\u061c", "\\u200f\\u061c"),                                  # bidi marks
    ("a\u2028b", "a\\u2028b"),                                           # line separator
    ("\ud800", "\\ud800"),                                               # a lone surrogate cannot be written at all
    ("a\nb\tc\r", "a\\nb\\tc\\r"),                                       # one line stays one line
])
def test_every_control_is_shown_as_its_escape(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_ordinary_text_is_left_alone() -> None:
    text = "ünïcødé 日本語 emoji 🙂 $(x) `y` 'z' [bold]"
    assert printable(text) == text == printable_lines(text)


def test_blocks_keep_their_lines_and_escape_the_rest() -> None:
    assert printable_lines("one\r\ntwo\tthree\n\x1b[31mfour\rfive") == "one\ntwo    three\n\\x1b[31mfour\\rfive"


def test_markup_is_inert_and_nothing_reaches_the_terminal() -> None:
    text = shown_text("[bold red]x[/] [link=https://evil.example]y[/link] \x1b]52;c;SElK\x07", "bold")
    assert text.plain == "[bold red]x[/] [link=https://evil.example]y[/link] \\x1b]52;c;SElK\\x07"
    console = Console(force_terminal=True, color_system="truecolor", width=200)
    with console.capture() as captured:
        console.print(text)
    out = captured.get()
    assert "\x1b]52" not in out and "\x1b]8" not in out  # no clipboard write, no hyperlink
    assert "[bold red]x[/]" in out


def test_none_and_objects_become_text() -> None:
    assert shown_text(None).plain == ""
    assert shown_text(12).plain == "12"
