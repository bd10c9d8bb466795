"""What the terminal castui runs in can do: a TTY for the app, colour, and the characters its
encoding can show. Output that the stream cannot encode degrades to ASCII, never to a crash
(UnicodeEncodeError) or to literal `\\u2713` escapes."""

from __future__ import annotations

import codecs
import os
import sys
import unicodedata
from typing import IO, Any

ERRORS = "castui-ascii"

#: the non-ASCII characters castui writes itself, and what they become in ASCII
ASCII = {
    "✓": "+", "✗": "x", "…": "...", "·": ".", "→": "->", "←": "<-", "↑": "^", "↓": "v", "—": "--", "–": "-",
    "×": "x", "÷": "/", "•": "*", "≥": ">=", "≤": "<=", "≈": "~", "“": '"', "”": '"', "‘": "'", "’": "'",
    "▶": ">", "▸": ">", "▼": "v", "▾": "v", "●": "*", "○": "o", "⚠": "!", "�": "?", "\u00a0": " ",
}


def _ascii_for(char: str) -> str:
    if char in ASCII:
        return ASCII[char]
    code = ord(char)
    if 0x2500 <= code <= 0x257F:  # box drawing: the app's borders and tree guides
        name = unicodedata.name(char, "")
        if "HORIZONTAL" in name and "VERTICAL" not in name:
            return "-"
        if "VERTICAL" in name and "HORIZONTAL" not in name:
            return "|"
        return "+"
    if 0x2580 <= code <= 0x259F:  # block elements: scroll bars, progress
        return "#"
    decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return decomposed or "?"


def _handler(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    # the target may still take some of these (latin-1 has "×" and "·"): keep what it can show
    out = []
    for char in text:
        try:
            char.encode(error.encoding)
            out.append(char)
        except (UnicodeEncodeError, LookupError):
            out.append(_ascii_for(char))
    return "".join(out), error.end


codecs.register_error(ERRORS, _handler)


def degrade_unencodable(*streams: IO[str] | Any) -> None:
    """Make `streams` (default stdout and stderr) write ASCII stand-ins for what their encoding lacks."""
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if reconfigure is not None and encoding not in ("utf-8", "utf8", "utf-16", "utf-32"):
            reconfigure(errors=ERRORS)


def is_dumb(env: dict[str, str] | None = None) -> bool:
    env = os.environ if env is None else env  # type: ignore[assignment]
    return (env.get("TERM") or "").strip().lower() == "dumb"


def app_refusal(stdin: Any = None, stdout: Any = None, env: dict[str, str] | None = None,
                stderr: Any = None) -> str | None:
    """Why the full-screen app cannot run here (None: it can), in words for the user.

    Textual draws on standard error: with it redirected, the app would be drawn into that file."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    missing = [name for name, stream in (("standard input", stdin), ("standard output", stdout),
                                         ("standard error", stderr))
               if not (hasattr(stream, "isatty") and stream.isatty())]
    if missing:
        return (f"the app needs a terminal, and {', '.join(missing[:-1]) + ' and ' if len(missing) > 1 else ''}{missing[-1]} "
                f"{'is' if len(missing) == 1 else 'are'} not one; "
                "for scripts, cron and CI use `castui diagnose` (text, --format markdown or json)")
    if is_dumb(env):
        return ("TERM=dumb cannot show the full-screen app; use `castui diagnose`, "
                "or run the app from a terminal that sets TERM (e.g. xterm-256color)")
    return None
