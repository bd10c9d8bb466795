"""Following a pod's log: each read is the newest lines of the log (a tail), and only what comes after
the lines already shown is new.

Reads are polled (`kubectl logs --tail`), not streamed, so a read overlaps what was shown: the newest
line already shown is looked for in the read, the latest place where the lines before it match too,
and what follows it is new. With no overlap the log grew by more than a read holds, or started again
(a restarted container): the whole read is new and lines may be missing before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: lines per read: a log growing faster than this between two reads shows a gap
FOLLOW_TAIL = 500
#: how many of the newest shown lines must match a read to place it (enough to tell repeated lines apart)
OVERLAP = 50


def complete_lines(text: str) -> list[str]:
    """The log's lines; a last line without its newline is still being written and comes with a later read."""
    lines = text.splitlines()
    if lines and not text.endswith(("\n", "\r")):
        lines.pop()
    return lines


def fresh_lines(recent: Sequence[str], read: Sequence[str]) -> tuple[list[str], bool]:
    """The lines of `read` after `recent` (the newest lines shown), and whether lines may be missing between."""
    if not recent:
        return list(read), False
    newest = recent[-1]
    for end in range(len(read), 0, -1):  # the latest match first: nothing shown twice
        if read[end - 1] != newest:
            continue
        size = min(len(recent), end, OVERLAP)
        if list(read[end - size:end]) == list(recent[-size:]):
            return list(read[end:]), False
    return list(read), bool(read)


@dataclass
class LogTail:
    """What follow has shown of one log: its newest lines, where the next read continues."""

    recent: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, lines: Sequence[str]) -> LogTail:
        return cls(list(lines[-OVERLAP:]))

    def advance(self, text: str) -> tuple[list[str], bool]:
        """The new lines of a read (its text), and whether some may be missing before them."""
        fresh, gap = fresh_lines(self.recent, complete_lines(text))
        self.recent = [*self.recent, *fresh][-OVERLAP:]
        return fresh, gap
