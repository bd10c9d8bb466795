"""The home screen's direct keys: a digit picks one symptom, whatever the number of symptoms."""

from __future__ import annotations

from castui.screens.home_screen import DIGITS, HomeScreen, digit_of
from castui.tree import SYMPTOMS


def test_digits_pick_the_first_ten_symptoms_and_no_digit_picks_two() -> None:
    assert [digit_of(i) for i in range(12)] == [*"1234567890", None, None]  # an eleventh symptom gets no wrapped "1"
    picks = [b for b in HomeScreen.BINDINGS if b.id and b.id.startswith("home.pick-")]
    assert [b.key for b in picks] == list(DIGITS[: len(SYMPTOMS)])
    assert [b.action for b in picks] == [f"pick({i})" for i in range(len(picks))]
    ids = [b.id for b in HomeScreen.BINDINGS]
    assert len(ids) == len(set(ids))
