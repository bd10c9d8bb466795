"""The app's long-lived heap, kept out of the garbage collector's full passes while the app runs.

Once the first results are drawn, what is alive (Textual, the clients, the session, the
screens) lives as long as the app. Each full pass of the cyclic collector rescans all of
it: measured, 96–132 ms at a time, landing in most re-runs as a visible stall. Collected
once while the user reads the first results, then frozen: later passes scan only what
was made after. Reference counting still frees frozen objects that are let go; only a
cycle among them would stay, and the app's long-lived objects do not churn. When the app
ends the collector is given back as it was (a process that runs the app and goes on, as a
test run does, keeps Python's own collection).
"""

from __future__ import annotations

import gc

#: (gen0, gen1, gen2) while settled; Python's default (700, 10, 10) collects young objects every 700
#: allocations, and a run allocates ~10^5 (its answers' dicts and lists, freed by reference counting):
#: full passes then came every few re-runs, 25 ms each
APP_GC_THRESHOLD = (20_000, 10, 10)


class SettledHeap:
    """One app's hold on the collector: `settle()` once its first results are drawn, `release()` at its end."""

    def __init__(self) -> None:
        self._before: tuple[int, int, int] | None = None

    def settle(self) -> None:
        """Collect, freeze what survives, collect young objects less often; the first call only (a second
        freeze would keep re-runs' results, which are replaced, out of the collector's reach)."""
        if self._before is not None:
            return
        self._before = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*APP_GC_THRESHOLD)

    def release(self) -> None:
        if self._before is None:
            return
        gc.unfreeze()
        gc.set_threshold(*self._before)
        self._before = None
