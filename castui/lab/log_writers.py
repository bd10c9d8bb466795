"""Container logs that grow while a lab runs, as real components' logs do.

A scenario builds each log as it stands at its `now`: start lines, then a few cycles of what the
component repeats (a delta every 15 s, a poll and its errors, a storm of drains). A real component
never rewrites those lines: it writes its next cycle when the time comes, and `kubectl logs -f` (or
castui's follow) shows just that. So the lab's clock (castui/lab/clock.py) leaves a current log's lines
as they were served and, for each log a scenario gave a `LogWriter`, appends the lines of its cycle
again, stamped a period later each time, up to the lab's time, while the container runs. A waiting
(crash-looping) or finished container writes nothing; neither does one the scenario gave no writer
(it logged once and has nothing more to say). The kubelet keeps a log under a size
(`LabState.log_max_bytes`): the oldest lines go.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from castui.lab.clock import restamped

if TYPE_CHECKING:
    from castui.lab.state import LabState

LogKey = tuple[str, str, str, bool]
#: the kubelet rotates a container's log at containerLogMaxSize (default 10Mi); `kubectl logs` reads the newest file
MAX_LOG_BYTES = 10 * 1024 * 1024
#: the time a line was written: its first timestamp (logrus `time="…"`, klog, JSON alike)
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")


def line_time(line: str) -> datetime | None:
    match = _TIME.search(line, 0, 200)
    return datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc) if match else None


def line_times(lines: Sequence[str]) -> list[datetime | None]:
    """Each line's time; a line without one (a continuation, a raw line) was written with the line before it."""
    times: list[datetime | None] = []
    last: datetime | None = None
    for line in lines:
        last = line_time(line) or last
        times.append(last)
    return times


@dataclass
class LogWriter:
    """What a running container writes again and again: `lines`, one `period`'s worth, as last written."""

    lines: list[str]
    times: list[datetime]
    period: timedelta
    #: the log as this writer last left it: a log replaced since (a restart) is no longer this writer's
    written: str | bytes
    #: the log's size as built: a scenario that built it beyond the kubelet's limit keeps that size
    built: int
    #: the next line to write: `lines[index]`, `cycle` periods after it was first written
    cycle: int = 1
    index: int = 0

    @classmethod
    def of(cls, lines: Sequence[str], every: timedelta, text: str | bytes) -> LogWriter | None:
        """The writer of a log built as `lines` whose last `every` repeats; None when no line has a time."""
        times = line_times(lines)
        if not lines or times[-1] is None or every <= timedelta(0):
            return None
        end = times[-1]
        start = len(lines)
        while start > 0 and (when := times[start - 1]) is not None and end - every < when <= end:
            start -= 1
        return cls(list(lines[start:]), [t for t in times[start:] if t is not None], every, text, len(text))

    def due(self, until: datetime, limit: int) -> list[str]:
        """The lines written after the last ones up to `until`, in the order of a cycle (a log holds `limit`)."""
        self._skip_what_would_be_dropped(until, limit)
        written: list[str] = []
        while self.times[self.index] + self.cycle * self.period <= until:
            start, cycle = self.index, self.cycle
            while self.index < len(self.lines) and self.times[self.index] + cycle * self.period <= until:
                self.index += 1
            written += restamped(self.lines[start:self.index], cycle * self.period)
            if self.index == len(self.lines):
                self.cycle, self.index = self.cycle + 1, 0
        return written

    def _skip_what_would_be_dropped(self, until: datetime, limit: int) -> None:
        """A lab left alone for days writes only the cycles its log can hold, not all of them to drop them."""
        behind = int((until - max(self.times)) / self.period) - self.cycle
        keep = limit // max(1, sum(len(line) + 1 for line in self.lines)) + 1
        if behind > keep:
            self.cycle, self.index = self.cycle + behind - keep, 0


def still_writing(log: str | bytes | None, written: str | bytes) -> bool:
    """The log is the one the writer left, or that one grown (a test's `append_log`); not a new one."""
    if log is written:
        return True
    if isinstance(log, str) and isinstance(written, str):
        return log.startswith(written)
    if isinstance(log, bytes) and isinstance(written, bytes):
        return log.startswith(written)
    return False


def running(state: "LabState", key: LogKey) -> bool:
    """The container runs now (only a running container writes)."""
    namespace, pod_name, container, _ = key
    pod = state.find("pods", namespace, pod_name)
    status = (pod or {}).get("status") or {}
    if status.get("phase") != "Running":
        return False
    for entry in status.get("containerStatuses") or []:
        if entry.get("name") == container:
            return "running" in (entry.get("state") or {})
    return False


def bounded(log: str | bytes, limit: int) -> str | bytes:
    """The log without its oldest lines beyond `limit` (whole lines go)."""
    excess = len(log) - limit
    if excess <= 0:
        return log
    cut = log.find("\n", excess - 1) if isinstance(log, str) else log.find(b"\n", excess - 1)
    return log[cut + 1:] if cut >= 0 else log[:0]


def grow(state: "LabState", until: datetime) -> None:
    """Every writer's lines due by `until`, appended to its log (call under `state.lock`)."""
    for key, writer in list(state.log_writers.items()):
        log = state.logs.get(key)
        if not still_writing(log, writer.written):
            del state.log_writers[key]  # the log was replaced (a restart): its lines are no longer this writer's
            continue
        assert log is not None
        limit = max(state.log_max_bytes, writer.built)
        lines = writer.due(until, limit)
        if not lines or not running(state, key):
            continue
        text = "".join(f"{line}\n" for line in lines)
        grown = bounded(log + text if isinstance(log, str) else log + text.encode(), limit)
        state.logs[key] = writer.written = grown
