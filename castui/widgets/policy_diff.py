"""The JSON diff of a CAST AI API change: each changed field, before → after."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from castui.diagnosis import ApiCall
from castui.sanitise import printable


def value_text(value: Any) -> str:
    return printable(json.dumps(value, ensure_ascii=False, default=str)) if value is not None else "(unset)"


def diff_table(call: ApiCall, *, plain: bool = False) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
    table.add_column("field")
    table.add_column("before")
    table.add_column("")
    table.add_column("after")
    for path, (before, after) in call.changes.items():
        table.add_row(Text(printable(path)), Text("- " + value_text(before), style="" if plain else "red"), Text("→"),
                      Text("+ " + value_text(after), style="bold" if plain else "bold green"))
    return table


class PolicyDiff(Static):
    """What a policies PUT changes; the words before/after and -/+ carry the meaning, not the colour."""

    def __init__(self, call: ApiCall, *, plain: bool = False, id: str | None = None) -> None:
        super().__init__(diff_table(call, plain=plain), id=id)
