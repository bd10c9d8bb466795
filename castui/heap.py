"""The app's long-lived heap, kept out of the garbage collector's full passes.

Once the first results are drawn, what is alive (Textual, the clients, the session, the
screens) lives as long as the app. Each full pass of the cyclic collector rescans all of
it: measured, 96–132 ms at a time, landing in most re-runs as a visible stall. Collected
once while the user reads the first results, then frozen: later passes scan only what
was made after. Reference counting still frees frozen objects that are let go; only a
cycle among them would stay, and the app's long-lived objects do not churn.
"""

from __future__ import annotations

import gc

_settled = False
#: (gen0, gen1, gen2) once settled; Python's default (700, 10, 10) collects young objects every 700
#: allocations, and a run allocates ~10^5 (its answers' dicts and lists, freed by reference counting):
#: full passes then came every few re-runs, 25 ms each
APP_GC_THRESHOLD = (20_000, 10, 10)


def settle_once() -> None:
    """Collect, then freeze what survives; the first call only (a second freeze would keep re-runs'
    results, which are replaced, out of the collector's reach)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*APP_GC_THRESHOLD)
