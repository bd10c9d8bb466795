"""Small helpers for words on screen and in reports: "1 pod is", "2 pods are"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """`word` or its plural (`many`, else word + "s") for `count`."""
    return word if count == 1 else (many or word + "s")


def counted(count: int, word: str, many: str | None = None) -> str:
    """"1 problem", "3 problems"."""
    return f"{count} {plural(count, word, many)}"
