"""Verdicts as Rich text: a symbol and a word beside the colour, so nothing depends on colour alone.

In plain mode the colour goes and the symbol and word stay.
"""

from __future__ import annotations

from rich.text import Text

from castui.diagnosis import CauseResult, CheckResult, SymptomResult
from castui.report.symbols import CHECK, SYMPTOM, cause_badge

Badge = tuple[str, str, str]


def badge(entry: Badge, *, plain: bool = False, width: int = 0) -> Text:
    symbol, word, colour = entry
    label = f"{symbol} {word}".ljust(width)
    return Text(label, style="bold" if plain else f"bold {colour}")


def symptom_badge(result: SymptomResult, *, plain: bool = False) -> Text:
    return badge(SYMPTOM[result.verdict], plain=plain)


def cause_text(cause: CauseResult, *, plain: bool = False) -> Text:
    return badge(cause_badge(cause), plain=plain)


def check_badge(result: CheckResult, *, plain: bool = False) -> Text:
    return badge(CHECK[result.status], plain=plain)


def duration_text(milliseconds: float | None) -> str:
    """Rounded to a tenth of a second: a stable, readable figure."""
    if milliseconds is None:
        return ""
    return f"{milliseconds / 1000:.1f} s"
