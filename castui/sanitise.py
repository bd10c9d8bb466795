"""The one sanitiser for text from outside (cluster objects, API answers, logs, files, plugin output).

A terminal acts on some characters instead of showing them: ESC starts colour, title (OSC 0),
clipboard (OSC 52) and cursor (CSI) sequences; C1 controls (U+0080–U+009F, CSI is U+009B) do
the same on many terminals; bidirectional overrides reorder what is shown; a lone surrogate
cannot be encoded at all. Every such character is shown as its escape (`\\x1b`, `\\u202e`), so
hostile text stays visible and inert. Rich/Textual markup is made inert by building `Text`
(never parsing markup) from the result: `shown_text` is how a widget takes outside text.
"""

from __future__ import annotations

import re

from rich.text import Text

#: characters a terminal acts on instead of showing: C0/C1 controls, line and paragraph separators,
#: the bidirectional marks, embeddings, overrides and isolates, and lone surrogates
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: in a block of lines, newlines stay and tabs become spaces; every other control is escaped
_LINES_KEEP = {"\n": "\n", "\t": "    "}


def _escape(char: str, keep: dict[str, str]) -> str:
    if char in keep:
        return keep[char]
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """One line of outside text, safe on a terminal: every control character (newline and tab too)
    is shown as its escape, so names cannot colour, clear, retitle, copy or fake lines."""
    return UNPRINTABLE.sub(lambda m: _escape(m[0], {}), text)


def printable_lines(text: str) -> str:
    """Several lines of outside text: newlines stay, tabs become four spaces, `\\r\\n` ends a line;
    every other control character is shown as its escape."""
    return UNPRINTABLE.sub(lambda m: _escape(m[0], _LINES_KEEP), text.replace("\r\n", "\n"))


def shown_text(text: object, style: str = "", *, lines: bool = False) -> Text:
    """Outside text for a widget: escapes visible and markup inert (a `Text` is never parsed)."""
    value = "" if text is None else str(text)
    return Text(printable_lines(value) if lines else printable(value), style=style)


_MARKDOWN = re.compile(r"([\\`*_\[\]|~#!])")


def markdown_text(text: object) -> str:
    """Outside text inside Markdown (a ticket): printable, HTML inert (`<img>` stays text), and the
    characters that make emphasis, code, links, tables and headings backslash-escaped."""
    value = printable("" if text is None else str(text))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", value)


def code_fence(lines: list[str]) -> str:
    """A fence longer than any run of backticks in `lines`, so nothing inside can close it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)
