"""The JSON castui prints (`diagnose --format json`, the fleet's) is what `json.dumps(indent=2)` writes:
scripts that compare or diff it see no change, and outside text stays escaped for a terminal."""

from __future__ import annotations

import json

from castui.report.json_document import indented

HOSTILE = {
    "title": "caf\u00e9 \u009b31m \u001b]52;c;cm0gLXJmIC8=\u0007 \u2028 \u202e",
    "quotes": '"q" \\ /',
    "empty": {"list": [], "map": {}, "nested": [[], {}]},
    "numbers": [0, -1, 1.5e-7, 10**20, 0.1, True, False, None],
    "keys": {"\u00fc\u00df\u0000": 1},
}


def test_indented_json_is_the_standard_librarys_text() -> None:
    assert indented(HOSTILE) == json.dumps(HOSTILE, indent=2) + "\n"


def test_indented_json_escapes_everything_outside_ascii() -> None:
    text = indented(HOSTILE)
    assert text.isascii()
    assert "\x1b" not in text and "\u009b" not in text
    assert json.loads(text) == HOSTILE
