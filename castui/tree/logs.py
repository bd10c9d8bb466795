"""Logs as CAST AI's components write them, and when a failure line is evidence.

The agent and cluster-controller log with logrus `TextFormatter{FullTimestamp: true}`:
`time="…" level=info msg="…" key=value …`, fields sorted after the message
(castai/k8s-agent@27ed376 `cmd/agent/run.go`). Guide v2, conventions › Logs: a failure
line is evidence only if it persists (newer than the newest matching success and spanning
at least two 15 s cycles) or the process exited with it; `failed sending delta request:`
is a warning logged on each of 3 retries, also before a success (k8s-agent
`pkg/castai/castai.go`): never evidence alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from castui.tree.reading import parse_time

#: both agent loops (config poll, deltas) run every 15 s (k8s-agent `internal/config/config.go`)
CYCLE = timedelta(seconds=15)
_PAIR = re.compile(r'(?P<key>[A-Za-z0-9_.\-]+)=(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>\S*))')


@dataclass(frozen=True)
class LogLine:
    raw: str
    time: datetime | None = None
    level: str | None = None
    msg: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What patterns match: the message and its fields (a raw line when not logrus)."""
        return self.raw


@functools.lru_cache(maxsize=8192)  # the same log is read by several judges of several symptoms
def parse_line(raw: str) -> LogLine:
    """A logrus text line; anything else keeps its raw text and no fields."""
    values: dict[str, str] = {}
    for match in _PAIR.finditer(raw[:4096]):
        quoted = match.group("quoted")
        value = quoted.replace('\\"', '"').replace("\\\\", "\\") if quoted is not None else match.group("bare") or ""
        values.setdefault(match.group("key"), value)
    if "msg" not in values and "level" not in values:
        return LogLine(raw=raw, msg=raw)
    msg = values.pop("msg", "")
    level = values.pop("level", None)
    moment = parse_time(values.pop("time", None))
    return LogLine(raw=raw, time=moment, level=level, msg=msg, fields=values)


def parse_lines(lines: Sequence[str]) -> list[LogLine]:
    return [parse_line(line) for line in lines]


def persistent(lines: Sequence[LogLine], failure: re.Pattern[str], success: re.Pattern[str] | None = None, *,
               exited: bool = False, cycle: timedelta = CYCLE) -> list[int]:
    """Indexes of the failure lines that are evidence: those after the newest success, when they
    span at least two cycles; or, when the process `exited`, a failure that is its last line
    of consequence. Empty when the failure is transient (one retry, or a later success)."""
    last_success = max((i for i, line in enumerate(lines) if success and success.search(line.raw)), default=-1)
    hits = [i for i, line in enumerate(lines) if i > last_success and failure.search(line.raw)]
    if not hits:
        return []
    if exited and _is_last_word(lines, hits[-1]):
        return hits
    times = [lines[i].time for i in hits if lines[i].time is not None]
    if len(times) >= 2:
        return hits if max(times) - min(times) >= cycle else []
    # no timestamps: repetition is the only sign of persistence
    return hits if len(hits) >= 3 else []


def _is_last_word(lines: Sequence[LogLine], index: int) -> bool:
    """Nothing but info lines after it: the process ended with this error."""
    return all((line.level or "info") in ("info", "debug", "trace") for line in lines[index + 1:])
