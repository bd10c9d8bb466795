"""Switch the kube context without leaving castui (k9s's `:ctx`): type `ctx NAME` or part of a name;
enter reopens castui on it. The contexts come from the kubeconfig the app already read."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from castui.sanitise import printable
from castui.screens.base import CastuiModalScreen


def wanted_name(typed: str) -> str:
    """`ctx prod-eu`, `:ctx prod-eu`, `context prod-eu` or just `prod-eu` → `prod-eu`."""
    words = typed.strip().lstrip(":").split()
    if words and words[0] in ("ctx", "context"):
        words = words[1:]
    return " ".join(words)


class ContextScreen(CastuiModalScreen[str | None]):
    CSS_PATH = "context_screen.tcss"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="context.cancel")]

    def __init__(self, contexts: list[str], current: str | None) -> None:
        super().__init__()
        self.contexts = contexts
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="context-box"):
            yield Static(Text.assemble(("Switch context", "bold"), ("   now: ", "dim"), printable(self.current or "none")))
            yield Input(placeholder="ctx NAME (part of a name is enough; enter switches)", id="context-input")
            yield OptionList(id="context-list")
            yield Static(id="context-error")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one("#context-input", Input).focus()

    def matching(self, typed: str) -> list[str]:
        name = wanted_name(typed).lower()
        return [c for c in self.contexts if name in c.lower()]

    def fill(self, typed: str) -> None:
        options = self.query_one("#context-list", OptionList)
        options.clear_options()
        for context in self.matching(typed):
            label = Text(printable(context), style="bold" if context == self.current else "")
            if context == self.current:
                label.append("  (now)", style="dim")
            options.add_option(Option(label, id=context))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#context-input")
    def typed(self, event: Input.Changed) -> None:
        self.query_one("#context-error", Static).update("")
        self.fill(event.value)

    @on(Input.Submitted, "#context-input")
    def submitted(self, event: Input.Submitted) -> None:
        name = wanted_name(event.value)
        found = self.matching(event.value)
        if name in self.contexts:
            self.dismiss(name)
        elif len(found) == 1:
            self.dismiss(found[0])
        elif not found:
            self.query_one("#context-error", Static).update(Text.assemble(
                ("✗ ", "bold"), f"no context matches {printable(name)!r}; the kubeconfig has: ",
                printable(", ".join(self.contexts) or "none")))
        else:
            options = self.query_one("#context-list", OptionList)
            highlighted = options.highlighted_option
            self.dismiss(str(highlighted.id) if highlighted is not None else found[0])

    @on(OptionList.OptionSelected, "#context-list")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
