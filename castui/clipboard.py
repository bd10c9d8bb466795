"""Copying a command: always through the terminal (Textual's OSC 52), and through the
system clipboard (pyperclip) when this machine has one. The caller tells the user which
took it. Copied text is exactly what was given: the shell-quoted command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class CopyOutcome:
    terminal: bool
    system: bool
    system_problem: str | None = None

    def describe(self) -> str:
        if self.system:
            return "Copied to the system clipboard and through the terminal (OSC 52)."
        return ("Copied through the terminal (OSC 52); the system clipboard is not available here"
                + (f" ({self.system_problem})." if self.system_problem else "."))


def _system_copy(text: str) -> str | None:
    """None when pyperclip took it; else why not, in a few words."""
    try:
        import pyperclip
    except ImportError:
        return "pyperclip is not installed"
    try:
        pyperclip.copy(text)
    except pyperclip.PyperclipException:
        return "no clipboard program such as xclip, xsel or wl-copy with a display"
    except Exception as error:  # noqa: BLE001 - a clipboard failure must never break the app
        return f"{type(error).__name__}"
    return None


async def copy_text(app: "App[object]", text: str) -> CopyOutcome:
    """Copy `text`; pyperclip runs in a thread (it shells out to xclip and may be slow)."""
    app.copy_to_clipboard(text)
    problem = await asyncio.to_thread(_system_copy, text)
    return CopyOutcome(terminal=True, system=problem is None, system_problem=problem)
