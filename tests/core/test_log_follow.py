"""Follow reads the newest lines of a log again and again: each read overlaps what is shown, and only the
lines after it are new; nothing is shown twice, a line still being written waits, a jump is said."""

from __future__ import annotations

from castui.engine.log_follow import OVERLAP, LogTail, complete_lines, fresh_lines


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
