"""Follow reads the newest lines of a log again and again: each read overlaps what is shown, and only the
lines after it are new; nothing is shown twice, a line still being written waits, a jump is said."""

from __future__ import annotations

import asyncio

import pytest

from castui.clients.errors import CastuiError
from castui.engine.log_follow import FOLLOW_TAIL, OVERLAP, LogTail, complete_lines, fresh_lines
from castui.engine.session import Session
from castui.lab import start_lab
from tests.core.helpers import diagnose, lab_settings


def log(first: int, last: int) -> list[str]:
    return [f"2025-03-14T09:{i // 60:02d}:{i % 60:02d}Z line {i}" for i in range(first, last)]


def text(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def test_a_read_overlapping_the_shown_lines_gives_only_what_follows() -> None:
    shown = log(0, 50)
    assert fresh_lines(shown, log(0, 53)) == (log(50, 53), False)
    assert fresh_lines(shown, log(40, 60)) == (log(50, 60), False), "a tail starting inside what is shown"
    assert fresh_lines(shown, log(0, 50)) == ([], False), "nothing new"
    assert fresh_lines([], log(0, 3)) == (log(0, 3), False)


def test_repeated_lines_are_placed_by_the_lines_before_them() -> None:
    shown = ["start", "tick", "tick"]
    assert fresh_lines(shown, ["start", "tick", "tick", "tick"]) == (["tick"], False)
    assert fresh_lines(["a", "tick"], ["a", "tick", "b", "tick"]) == (["b", "tick"], False)


def test_no_overlap_means_lines_may_be_missing() -> None:
    assert fresh_lines(log(0, 10), log(100, 110)) == (log(100, 110), True)
    assert fresh_lines(log(0, 10), []) == ([], False), "an empty read (a new container with no output yet)"


def test_a_line_still_being_written_comes_with_a_later_read() -> None:
    assert complete_lines("one\ntwo\nthr") == ["one", "two"]
    tail = LogTail.of(["one"])
    assert tail.advance("one\ntwo\nthr") == (["two"], False)
    assert tail.advance("one\ntwo\nthree\n") == (["three"], False)


def test_the_tail_remembers_only_what_placing_a_read_needs() -> None:
    tail = LogTail.of(log(0, 500))
    assert len(tail.recent) == OVERLAP
    for end in range(510, 610, 10):
        assert tail.advance(text(log(end - 500, end))) == (log(end - 10, end), False)
    assert tail.recent == log(600 - OVERLAP, 600)


def test_the_session_reads_a_followed_log_now_and_refuses_what_cannot_grow() -> None:
    """Against the lab over HTTP: each read asks the cluster again (a line written meanwhile is in the next);
    an exited container's log (or one castui cannot place) is refused with the reason; a pod that is gone says which."""
    with start_lab("heartbeat-failing") as lab:
        diagnosis = diagnose(lab, ["agent-disconnected"])
        current = next(e.source for _, c in diagnosis.confirmed() for e in c.evidence if e.kind == "log" and e.source)
        previous = current.model_copy(update={"previous": True})

        async def run() -> None:
            async with Session(lab_settings(lab), lab=lab.scenario) as session:
                first = complete_lines(await session.read_log(current, tail=FOLLOW_TAIL))
                lab.append_log(current.pod, "written meanwhile", container="agent")
                again = complete_lines(await session.read_log(current, tail=FOLLOW_TAIL))
                assert again == [*first, "written meanwhile"]
                assert session.follow_unavailable(current) is None
                assert session.follow_unavailable(previous) == "this is the previous container's log: that container has exited"
                assert session.follow_unavailable(None) == "castui does not know which pod this log came from"
                with pytest.raises(CastuiError, match="previous container"):
                    await session.read_log(previous, tail=10)
                with pytest.raises(CastuiError, match="castai-agent/gone"):
                    await session.read_log(current.model_copy(update={"pod": "gone"}), tail=10)

        async def without_a_cluster() -> None:
            async with Session(lab_settings(lab, context="no-such-context"), lab=lab.scenario) as session:
                why = session.follow_unavailable(current)
                assert why is not None and why.startswith("no cluster to read from: ") and "no-such-context" in why

        asyncio.run(run())
        asyncio.run(without_a_cluster())
