"""Copying a command: through the terminal (Textual's OSC 52) and through the system clipboard
(pyperclip) when this machine has one. The caller tells the user which took it, and when
neither did, shows the text to select by hand. Copied text is exactly what was given.

OSC 52 cannot be confirmed by the terminal, but inside tmux it can be known not to land: tmux
passes an application's OSC 52 on only with `set-clipboard on`; its default `external` (and
`off`) drop it silently. So castui asks tmux.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

#: how long `tmux show` may take before castui assumes the worst
TMUX_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class CopyOutcome:
    terminal: bool
    system: bool
    system_problem: str | None = None
    #: why OSC 52 will not land (tmux says so); None when it may
    terminal_problem: str | None = None
    #: the text, shown for manual selection when nothing took it
    text: str = ""

    @property
    def copied(self) -> bool:
        return self.terminal or self.system

    def describe(self, *, show_text: bool = True) -> str:
        """What happened; when nothing took the text, it is appended for selecting by hand
        (`show_text=False` when the screen already shows it)."""
        if self.system and self.terminal:
            return "Copied to the system clipboard and through the terminal (OSC 52)."
        if self.system:
            return f"Copied to the system clipboard ({self.terminal_problem or 'the terminal copy did not apply'})."
        if self.terminal:
            return ("Copied through the terminal (OSC 52); the system clipboard is not available here"
                    + (f" ({self.system_problem})." if self.system_problem else "."))
        return (f"Not copied: {self.terminal_problem or 'the terminal cannot take it'}, and there is no local "
                f"clipboard ({self.system_problem or 'unavailable'}). "
                + (f"Select it by hand: {self.text}" if show_text else "Select it on screen to copy it by hand."))


def tmux_clipboard_problem(env: dict[str, str] | None = None) -> str | None:
    """Inside tmux, why an application's OSC 52 will not reach the clipboard; None outside tmux or when it will."""
    env = dict(os.environ) if env is None else env
    if not env.get("TMUX"):
        return None
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if tmux is None:
        return None  # cannot ask; OSC 52 may still land
    try:
        answer = subprocess.run([tmux, "show", "-s", "set-clipboard"], capture_output=True, text=True,
                                timeout=TMUX_TIMEOUT_S, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = answer.stdout.split()[-1] if answer.returncode == 0 and answer.stdout.split() else ""
    if value == "on":
        return None
    if value in ("external", "off"):
        return f"tmux has set-clipboard {value}, which drops OSC 52 from applications (`tmux set -s set-clipboard on`)"
    return None


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


async def copy_text(app: "App[Any]", text: str) -> CopyOutcome:
    """Copy `text`; pyperclip and tmux run in threads (they shell out and may be slow)."""
    app.copy_to_clipboard(text)
    terminal_problem, problem = await asyncio.gather(
        asyncio.to_thread(tmux_clipboard_problem), asyncio.to_thread(_system_copy, text)
    )
    return CopyOutcome(terminal=terminal_problem is None, system=problem is None, system_problem=problem,
                       terminal_problem=terminal_problem, text=text)
