"""JSON evidence: pretty text with syntax colours and the line of `Evidence.path` marked ▶,
or (`t`) a collapsible tree opened down to that path. Keys and values from the cluster
are data: every label is a `rich.text.Text`, never markup."""

from __future__ import annotations

import json
from typing import Any

from rich.highlighter import ReprHighlighter
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Static, Tree
from textual.widgets.tree import TreeNode

from castui.sanitise import printable
from castui.widgets.styles import styles_beside
from castui.words import json_path_line


def pretty_json(document: Any) -> tuple[list[str], dict[str, int]]:
    """`json.dumps(indent=2)`-style lines, and the line where each dotted path starts."""
    lines: list[str] = []
    where: dict[str, int] = {}

    def emit(value: Any, path: str, indent: int, prefix: str, suffix: str) -> None:
        pad = "  " * indent
        if path:
            where.setdefault(path, len(lines))
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{prefix}{{")
            items = list(value.items())
            for i, (key, item) in enumerate(items):
                child = f"{path}.{key}" if path else str(key)
                emit(item, child, indent + 1, json.dumps(str(key), ensure_ascii=False) + ": ", "," if i < len(items) - 1 else "")
            lines.append(f"{pad}}}{suffix}")
        elif isinstance(value, list) and value:
            lines.append(f"{pad}{prefix}[")
            for i, item in enumerate(value):
                emit(item, f"{path}.{i}" if path else str(i), indent + 1, "", "," if i < len(value) - 1 else "")
            lines.append(f"{pad}]{suffix}")
        else:
            lines.append(f"{pad}{prefix}{json.dumps(value, ensure_ascii=False, default=str)}{suffix}")

    emit(document, "", 0, "", "")
    return lines, where


def json_text(lines: list[str], marked: int | None, *, plain: bool, dark: bool = True) -> Text:
    # json.dumps escapes C0 controls, not C1 (U+009B is CSI) nor bidi controls: each line is made printable
    code = "\n".join(printable(line) for line in lines)
    if plain:
        body = Text(code)
    else:
        body = Syntax(code, "json", theme="ansi_dark" if dark else "ansi_light").highlight(code)
        body.rstrip()
    width = len(str(len(lines)))
    out = Text()
    for number, line in enumerate(body.split("\n", allow_blank=True)):
        is_marked = number == marked
        out.append(str(number + 1).rjust(width), "dim")
        out.append(" ▶ " if is_marked else "   ", "bold")
        if is_marked:
            line.stylize("bold reverse" if plain else "bold on #5f3f00")
        out.append_text(line)
        out.append("\n")
    out.rstrip()
    return out


def fill_tree(tree: Tree[str], document: Any, open_path: str | None) -> TreeNode[str] | None:
    """Build the tree; expand the nodes on the way to `open_path` and return its node."""
    highlighter = ReprHighlighter()
    target: TreeNode[str] | None = None
    wanted = open_path.split(".") if open_path else []

    def add(node: TreeNode[str], name: str, value: Any, path: list[str]) -> None:
        nonlocal target
        on_way = path == wanted[: len(path)]
        if path == wanted and wanted:
            target = node
        if isinstance(value, (dict, list)):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            brackets = "{}" if isinstance(value, dict) else "[]"
            node.set_label(Text.assemble((brackets + " ", "dim"), (printable(name), "bold"), (f" ({len(value)})", "dim")))
            for key, item in items:
                add(node.add("", data=".".join([*path, str(key)])), str(key), item, [*path, str(key)])
            if on_way:
                node.expand()
        else:
            node.allow_expand = False
            shown = printable(json.dumps(value, ensure_ascii=False, default=str))
            node.set_label(Text.assemble((printable(name), "bold"), " = ", highlighter(Text(shown))))

    tree.clear()
    tree.root.data = ""
    add(tree.root, "document", document, [])
    tree.root.expand()
    return target


class JsonView(Vertical):
    """Pretty JSON or its tree; `t` switches."""
    DEFAULT_CSS = styles_beside(__file__)

    BINDINGS = [Binding("t", "toggle_tree", "Tree/text", id="json.toggle-tree")]

    def __init__(self, *, plain: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._plain = plain
        self._document: Any = None
        self._path: str | None = None
        self._marked_line: int | None = None
        self._path_node: TreeNode[str] | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="json-text"):
            with VerticalScroll(id="json-text"):
                yield Static(id="json-body")
            yield Tree("document", id="json-tree")

    def load(self, document: Any, path: str | None) -> None:
        self._document, self._path = document, path
        lines, where = pretty_json(document)
        self._marked_line = where.get(path) if path else None
        dark = getattr(self.app, "current_theme", None) is None or self.app.current_theme.dark
        self.query_one("#json-body", Static).update(json_text(lines, self._marked_line, plain=self._plain, dark=dark))
        tree: Tree[str] = self.query_one("#json-tree", Tree)
        self._path_node = fill_tree(tree, document, path)
        scroll = self.query_one("#json-text", VerticalScroll)
        scroll.call_after_refresh(scroll.scroll_to, y=max(0, (self._marked_line or 0) - 2), animate=False)

    @property
    def marked_line(self) -> int | None:
        """The line (0-based) of the evidence's path, marked ▶; None when there is no path."""
        return self._marked_line

    @property
    def showing_tree(self) -> bool:
        return self.query_one(ContentSwitcher).current == "json-tree"

    def action_toggle_tree(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "json-text" if self.showing_tree else "json-tree"
        self.query_one(f"#{switcher.current}").focus()
        if self.showing_tree and self._path_node is not None:
            tree: Tree[str] = self.query_one("#json-tree", Tree)
            # the tree lays out its lines once shown: land on the path then
            tree.call_after_refresh(self._land, tree, self._path_node)

    @staticmethod
    def _land(tree: Tree[str], node: TreeNode[str]) -> None:
        tree.move_cursor(node)
        tree.scroll_to_node(node, animate=False)

    def current_line(self) -> str | None:
        """`path = value` of the tree's cursor, or of the marked path; else the first line of the text."""
        path = self._path
        if self.showing_tree:
            tree: Tree[str] = self.query_one("#json-tree", Tree)
            path = tree.cursor_node.data if tree.cursor_node is not None and tree.cursor_node.data else path
        if path and (found := json_path_line(self._document, path)):
            return found
        lines, _ = pretty_json(self._document)
        return lines[0] if lines else None

    def focus_body(self) -> None:
        self.query_one(f"#{self.query_one(ContentSwitcher).current}").focus()
