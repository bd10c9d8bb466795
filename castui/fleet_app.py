"""The castui app opened on a fleet (`castui --all-contexts`, `castui --context A --context B`):
the fleet screen first; a cluster opened from it is triaged on that cluster's own session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from castui.app import CastuiApp
from castui.engine.fleet import Fleet
from castui.screens.fleet_screen import FleetScreen

if TYPE_CHECKING:
    from castui.config import Settings


class FleetApp(CastuiApp):
    """The castui app opened on the fleet; a cluster's triage uses that cluster's session."""

    def __init__(self, settings: "Settings", contexts: list[str], *, parallel: int = 8) -> None:
        super().__init__(settings)
        self.fleet = Fleet(settings, contexts, parallel=parallel)

    async def start(self) -> None:
        await self.fleet.open()
        self.push_screen(FleetScreen(self.fleet))

    def quit_code(self) -> int:
        from castui.engine.fleet import fleet_exit_code

        return fleet_exit_code(self.fleet.results.values())

    def unsaved(self) -> str | None:
        count = len(self.fleet.results)
        return f"results for {count} cluster{'s' if count != 1 else ''}" if count else super().unsaved()

    async def on_unmount(self) -> None:
        await self.fleet.close()  # then the base app closes the session of the cluster last opened

    def open_cluster(self, context: str) -> None:
        self.run_worker(self._open_cluster(context), group="open-cluster", exclusive=True, exit_on_error=False)

    async def _open_cluster(self, context: str) -> None:
        """Point the app's session (which every screen asks) at this cluster, then triage it."""
        self.use_session(await self.fleet.session(context))
        self.open_triage(None)
        await self.check_connectivity()  # the header's "… checking" becomes whether this cluster answers
