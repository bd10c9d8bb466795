"""Small helpers for words on screen and in reports: "1 pod is", "2 pods are"."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castui.diagnosis import SymptomResult


def plural(count: int, word: str, many: str | None = None) -> str:
    """`word` or its plural (`many`, else word + "s") for `count`."""
    return word if count == 1 else (many or word + "s")


def counted(count: int, word: str, many: str | None = None) -> str:
    """"1 problem", "3 problems"."""
    return f"{count} {plural(count, word, many)}"


def symptom_summary(result: "SymptomResult") -> str:
    """A symptom's one line that agrees with its badge: a problem found through its causes (the symptom
    itself not seen) leads with those causes, not with an all-clear observation like "4 releases deployed"."""
    from castui.diagnosis import CauseVerdict, SymptomVerdict

    confirmed = [c.id for c in result.causes if c.verdict is CauseVerdict.CONFIRMED]
    if result.verdict is SymptomVerdict.PROBLEM and confirmed and not result.observed:
        return f"{', '.join(confirmed)} confirmed; {result.summary}"
    return result.summary


def json_path_line(document: Any, path: str) -> str | None:
    """`path = value` for a dotted path into a JSON document (what the evidence marks); None when it is absent."""
    value: Any = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    shown = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return f"{path} = {shown if len(shown) <= 200 else shown[:199] + '…'}"
