"""Each widget's styles live in a .tcss file beside its module and become its DEFAULT_CSS, so the
widget carries them into any app or screen that uses it (and an app's own CSS still wins)."""

from __future__ import annotations

from pathlib import Path


def styles_beside(module_file: str) -> str:
    """The `.tcss` file next to `module_file` (a widget module's `__file__`)."""
    return Path(module_file).with_suffix(".tcss").read_text(encoding="utf-8")
