"""Events and tables from the cluster in a DataTable; `s` sorts by the cursor's column
(again: reversed). Cells are `Text`, so a pod named `[red]x` stays a pod name."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from castui.sanitise import shown_text
from castui.widgets.styles import styles_beside

NUMBER = re.compile(r"^-?\d+(\.\d+)?")


def sort_key(cell: Any) -> tuple[int, float, str]:
    """Numbers (and number-led values like `12m`) by value, before words; words case-blind."""
    plain = cell.plain if isinstance(cell, Text) else str(cell)
    match = NUMBER.match(plain.strip())
    if match:
        return (0, float(match.group(0)), plain.lower())
    return (1, 0.0, plain.lower())


class EvidenceTable(DataTable[Text]):
    DEFAULT_CSS = styles_beside(__file__)

    BINDINGS = [Binding("s", "sort_column", "Sort", id="table.sort")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="cell")
        self._sorted: tuple[int, bool] | None = None

    def load(self, rows: list[list[Any]], redact: Callable[[str], str]) -> None:
        self.clear(columns=True)
        self._sorted = None
        if not rows:
            self.add_column("(no rows)")
            return
        header, *body = rows
        for index, name in enumerate(header):
            self.add_column(shown_text(redact(str(name)), "bold"), key=str(index))
        for row in body:
            cells = [shown_text(redact("" if cell is None else str(cell))) for cell in row]
            cells += [Text("")] * (len(header) - len(cells))
            self.add_row(*cells[: len(header)])

    def action_sort_column(self) -> None:
        if not self.columns:
            return
        column = self.cursor_column
        reverse = self._sorted == (column, False)
        self.sort(str(column), key=sort_key, reverse=reverse)
        self._sorted = (column, reverse)
        label = self.ordered_columns[column].label.plain
        self.notify(f"sorted by {label}" + (" (descending)" if reverse else ""), timeout=2, markup=False)
