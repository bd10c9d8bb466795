"""The whole run's deadline: however the reads chain and stall, `castui diagnose` answers by it.

Each read is bounded by `--timeout`; reads that depend on each other (the cluster id, then the
policies) add up, and a stalled thread is not stopped by a timeout. The run as a whole gets
`DEADLINE_FACTOR × timeout` (the fleet's per-cluster deadline): what finished by then is kept,
every symptom that did not is `unknown`, saying so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from castui.diagnosis import CauseResult, CauseVerdict, Diagnosis, SymptomResult, SymptomVerdict
from castui.engine.runner import SymptomFinished
from castui.tree import SYMPTOMS, symptom

#: a run (and a fleet's cluster) ends after this many check timeouts (a check may wait on the cluster id first);
#: here, not in castui.engine.fleet, so that one cluster's diagnosis does not import the fleet
DEADLINE_FACTOR = 3

if TYPE_CHECKING:
    from castui.engine.session import Session


def run_deadline(timeout: float) -> float:
    return timeout * DEADLINE_FACTOR


def unfinished(symptom_id: str, reason: str) -> SymptomResult:
    """A symptom whose checks did not end: unknown, every cause unknown, with why."""
    s = symptom(symptom_id)
    return SymptomResult(id=s.id, title=s.title, verdict=SymptomVerdict.UNKNOWN, summary=f"could not observe: {reason}",
                         causes=[CauseResult(id=c.id, title=c.title, verdict=CauseVerdict.UNKNOWN, reason=f"could not check: {reason}")
                                 for c in s.causes])


async def diagnose_within(session: "Session", symptom_ids: Iterable[str] | None, seconds: float, *,
                          on_event: Callable[[Any], Any] | None = None, with_status_page: bool = False) -> tuple[Diagnosis, list[str]]:
    """The session's diagnosis by `seconds`; and the ids of the symptoms it could not finish."""
    ids = list(symptom_ids) if symptom_ids else [s.id for s in SYMPTOMS]
    finished: dict[str, SymptomResult] = {}

    def keep(event: Any) -> None:
        if isinstance(event, SymptomFinished):
            finished[event.result.id] = event.result
        if on_event is not None:
            on_event(event)

    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            return await session.diagnose(symptom_ids, on_event=keep, with_status_page=with_status_page), []
    except TimeoutError:
        reason = f"the run's deadline ({seconds:g}s, {DEADLINE_FACTOR}× --timeout) passed before it finished"
        results = [finished.get(i) or unfinished(i, reason) for i in ids]
        missing = [i for i in ids if i not in finished]
        return session.diagnosis_of(results, duration_ms=(time.perf_counter() - started) * 1000), missing
