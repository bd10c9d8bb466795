"""The base of every castui screen: `self.app` is the `CastuiApp` (its session, settings,
redactor and keymap), as Textual's `getters.app` types it, so screens need no type-ignores.

Only the type checker sees `CastuiApp` here: at run time the app imports the screens, never
the other way round (the layers of the house)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen, Screen, ScreenResultType

if TYPE_CHECKING:
    from textual import getters
    from textual.worker import Worker

    from castui.app import CastuiApp


class CastuiScreen(Screen[ScreenResultType]):
    """A full screen of the castui app."""

    if TYPE_CHECKING:
        app = getters.app(CastuiApp)

    def key(self, action_id: str) -> str:
        """The key the user presses for a binding id now (after the keymap), as the footer shows it."""
        return self.app.key_for(action_id)


class CastuiModalScreen(ModalScreen[ScreenResultType]):
    """A dialog over a castui screen."""

    if TYPE_CHECKING:
        app = getters.app(CastuiApp)

    def key(self, action_id: str) -> str:
        """The key the user presses for a binding id now (after the keymap), as the footer shows it."""
        return self.app.key_for(action_id)


def worker_failure(worker: "Worker[Any]") -> str:
    """Why a worker failed, in words for a person (the one place: `engine.runner.describe`)."""
    from castui.engine.runner import describe

    return describe(worker.error) if worker.error is not None else "it stopped without saying why"
