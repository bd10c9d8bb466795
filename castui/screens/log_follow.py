"""Follow mode for the log a screen's evidence pane shows (`F`, like `kubectl logs -f`).

While on, a timer asks, every EVERY_S, for the newest lines of that container's log: a worker reads
them through the session (the same gateway, timeout and errors as the checks' reads) and the pane
appends only the lines after those it shows. A read is skipped while another screen covers this one,
or while the last read is still going; a failed read is said in the pane and follow goes on. The
timer belongs to the screen, so it ends with it; `F` again, or other evidence shown, stops it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from castui.diagnosis import LogSource
from castui.engine.log_follow import FOLLOW_TAIL, LogTail

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from castui.widgets.evidence_pane import EvidencePane

#: seconds between two reads of a followed log
EVERY_S = 2.0


class LogFollower:
    """One screen's follow: at most one log at a time, the one its evidence pane shows."""

    def __init__(self, screen: "Screen[Any]", pane: "EvidencePane") -> None:
        self.screen = screen
        self.pane = pane
        self.source: LogSource | None = None
        self.timer: Timer | None = None
        self._tail = LogTail()
        self._reading = False

    @property
    def running(self) -> bool:
        return self.timer is not None

    def start(self, source: LogSource | None, lines: Sequence[str]) -> None:
        """Follow `source`'s log (`lines`: what the pane shows of it), or tell the pane why it cannot be."""
        self.stop()
        why = self.screen.app.session.follow_unavailable(source)  # type: ignore[attr-defined]
        if why is not None or source is None:
            self.pane.follow_refused(why or "castui does not know which pod this log came from")
            return
        self.source, self._tail = source, LogTail.of(lines)
        self.pane.follow_started(source)
        self.timer = self.screen.set_interval(EVERY_S, self._tick)
        self._tick()  # the first read now: "following" shows an answer at once

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.stop()
        self.timer, self.source = None, None

    def _tick(self) -> None:
        source = self.source
        if source is None or self._reading or not self.screen.is_current:
            return
        self._reading = True
        self.screen.run_worker(self._read(source, self._tail), group="log-follow", exit_on_error=False)

    async def _read(self, source: LogSource, tail: LogTail) -> None:
        from castui.engine.runner import describe

        try:
            session = await self.screen.app.ready_session()  # type: ignore[attr-defined]
            text = await session.read_log(source, tail=FOLLOW_TAIL)
        except Exception as error:  # noqa: BLE001 - a failed read is shown, never a crash; the next may work
            if source == self.source:
                self.pane.follow_failed(source, describe(error), at=datetime.now())
            return
        finally:
            self._reading = False
        if source == self.source and tail is self._tail:
            fresh, gap = tail.advance(text)
            self.pane.follow_read(source, fresh, gap=gap, at=datetime.now())
