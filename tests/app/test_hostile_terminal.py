"""Hostile text from the cluster and the API never acts on the operator's terminal.

A lab with OSC 52 (clipboard), OSC 0 (title), SGR, CSI, C1 and bidi sequences plus markup
in every external field (`castui.lab.hostile`) is opened in a real terminal (tmux): the
header, the triage tree, every piece of evidence, the escalation screen. Afterwards tmux's
clipboard is empty, the pane title is untouched, no cell carries the planted attributes,
and none of the planted sequences is among the bytes castui wrote; each field shows as
visible escapes (`\\x1b]52…`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.lab import start_lab
from castui.lab.hostile import CLIPBOARD_PAYLOAD, TITLE_PAYLOAD, build_hostile
from tests.app.test_tmux import castui_in_tmux, screen, send, tmux, wait_for_text, wait_until

pytestmark = pytest.mark.tmux

#: what the payload looks like once shown as text: the ESC of OSC 52 as four visible characters
SHOWN = "\\x1b]52;c;"
#: an SGR parameter list (castui's own colours come as 38;2;r;g;b / 48;5;n, never blink or strike)
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def planted_attributes(raw: str) -> list[str]:
    """SGR sequences that switch on blink (5) or strike-through (9), or the planted colour 1,2,3."""
    found = []
    for match in SGR.finditer(raw):
        params = [p for p in re.split("[;:]", match[1]) if p != ""]
        i = 0
        while i < len(params):
            if params[i] in ("38", "48", "58"):  # an extended colour: skip its arguments
                if params[i + 1:i + 2] == ["2"] and params[i + 2:i + 5] == ["1", "2", "3"]:
                    found.append(match[0])
                i += 5 if params[i + 1:i + 2] == ["2"] else 3
                continue
            if params[i] in ("5", "9"):
                found.append(match[0])
            i += 1
    return found


def pane_title() -> str:
    return tmux("display-message", "-p", "-t", "castui", "#{pane_title}").strip()


def walk_tree(limit: int = 80) -> None:
    """Down through every visible row of the triage tree, each piece of a cause's evidence too;
    each step waits for the evidence pane to show the next item (the end is when nothing changes)."""
    text = screen()
    for _ in range(limit):
        while (counter := re.search(r"\((\d+) of (\d+); \[ \] switch\)", text)) and counter[1] != counter[2]:
            send("]")
            text = wait_for_text(f"({int(counter[1]) + 1} of {counter[2]};")
        before = text
        send("Down")
        try:
            text = wait_until(lambda now: now != before, "the next row", timeout=3)
        except AssertionError:
            return  # the last row


@pytest.fixture
def hostile_lab(request: pytest.FixtureRequest) -> Iterator[object]:
    lab = start_lab(request.param, cluster=build_hostile(request.param))
    try:
        yield lab
    finally:
        lab.stop()


@pytest.mark.parametrize("hostile_lab", ["demo", "heartbeat-failing"], indirect=True)
def test_escape_sequences_from_outside_never_act_on_the_terminal(hostile_lab: object, tmp_path: Path) -> None:
    lab = hostile_lab
    flags = [f"--{name.replace('_', '-')}={value}" for name, value in lab.settings_overrides().items()]  # type: ignore[attr-defined]
    with castui_in_tmux(tmp_path, *flags, env={"CASTAI_API_KEY": lab.api_key}):  # type: ignore[attr-defined]
        title = pane_title()
        # the CAST AI cluster name in the header: before any key
        wait_for_text("Pick a symptom", "cluster ✓ answers", "lab-eks" + SHOWN)
        send("a")
        wait_for_text("Allow it for this run?")
        send("n")
        wait_until(lambda text: re.search(r"\d+ causes? confirmed|cause\(s\) confirmed", text) is not None, "the run to finish")
        walk_tree()
        send("Home")
        send("e")
        wait_for_text("status-description" + SHOWN, "incident" + SHOWN)  # the status page
        raw = (tmp_path / "pane-raw").read_text(errors="replace")
        shown = screen()
        buffers = tmux("list-buffers")
        assert pane_title() == title and TITLE_PAYLOAD not in pane_title()
    assert buffers.strip() == "", "nothing reached tmux's clipboard"
    assert "\x1b]52" not in raw and CLIPBOARD_PAYLOAD not in raw.replace("\\x1b]52;c;" + CLIPBOARD_PAYLOAD, "")
    assert "\x1b]0;" not in raw and "\x1b[2J" not in raw
    assert not planted_attributes(raw)
    for char in ("\x9b", "\u202e", "\u2066"):  # (Textual ends its own OSC 22 with BEL)
        assert char not in raw
    assert "[bold red]MARKUP[/]" in raw or "MARKUP" in shown
