"""The command palette (ctrl+p): every symptom, and the actions of the current screen with
their keys, so the palette teaches the keyboard."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from castui.sanitise import printable
from castui.screens.home_screen import digit_of
from castui.tree import SYMPTOMS

if TYPE_CHECKING:
    from castui.app import CastuiApp


class CastuiCommands(Provider):
    contexts: list[str] = []

    @property
    def castui_app(self) -> "CastuiApp":
        """The app this palette belongs to (CastuiApp's COMMANDS); Textual types it as any App."""
        return cast("CastuiApp", self.app)

    async def startup(self) -> None:
        """The kubeconfig's contexts, read off the UI thread before the palette lists them."""
        self.contexts = await self.castui_app.kube_contexts()

    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.castui_app
        found: list[tuple[str, str, Callable[[], object]]] = [
            ("Run every check", "every symptom at once, problems first", partial(app.open_triage, None)),
        ]
        for position, symptom in enumerate(SYMPTOMS):
            key = digit_of(position)
            help_text = f"{symptom.title} (home: {app.key_for(f'home.pick-{key}')})" if key else symptom.title
            found.append((f"Diagnose {symptom.id}", help_text, partial(app.open_triage, [symptom.id])))
        current = app.session.target().context
        for context in self.contexts:
            if context != current:
                found.append((f"Switch to context {printable(context)}", "reopen castui on it (also `:` then ctx NAME)",
                              partial(switch_context, app, context)))
        for row, action, namespace in app.screen_actions(self.screen):
            found.append((row.description, f"{row.keys}  ·  {row.action_id}", partial(app.run_bound_action, action, namespace)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, callback in self.commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.commands():
            score = max(matcher.match(title), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


def switch_context(app: "CastuiApp", context: str) -> None:
    """Reopen castui on `context`, in the worker group `:` uses (a newer switch cancels this one)."""
    app.run_worker(app.switch_context(context), group="switch-context", exclusive=True, exit_on_error=False)
