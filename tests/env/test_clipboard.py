"""The copy notice tells the truth inside tmux: castui asks tmux whether an application's OSC 52
lands (only with `set-clipboard on`), and when nothing took the text, shows it for selecting."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.clipboard import CopyOutcome, tmux_clipboard_problem

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="no tmux")


@pytest.fixture
def tmux_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A private tmux server, and the environment a program inside it sees ($TMUX names its socket)."""
    sock = tmp_path / "tmux.sock"
    subprocess.run(["tmux", "-S", str(sock), "new-session", "-d", "-x", "80", "-y", "10"], check=True, timeout=10)
    pid = subprocess.run(["tmux", "-S", str(sock), "display", "-p", "#{pid}"], capture_output=True, text=True,
                         check=True, timeout=10).stdout.strip()
    try:
        yield {"TMUX": f"{sock},{pid},0", "PATH": os.environ["PATH"]}, sock
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], timeout=10)


@pytest.mark.parametrize("value", ["external", "off"])
def test_tmux_that_drops_osc52_is_named_and_the_text_offered_by_hand(
    tmux_env: tuple[dict[str, str], Path], value: str
) -> None:
    env, sock = tmux_env
    subprocess.run(["tmux", "-S", str(sock), "set", "-s", "set-clipboard", value], check=True, timeout=10)
    problem = tmux_clipboard_problem(env)
    assert problem is not None and f"set-clipboard {value}" in problem
    outcome = CopyOutcome(terminal=False, system=False, system_problem="no clipboard program", terminal_problem=problem,
                          text="kubectl rollout restart deployment/castai-agent -n castai-agent")
    said = outcome.describe()
    assert not outcome.copied and said.startswith("Not copied") and "Copied" not in said
    assert said.endswith("Select it by hand: kubectl rollout restart deployment/castai-agent -n castai-agent")


def test_tmux_with_set_clipboard_on_lets_osc52_through(tmux_env: tuple[dict[str, str], Path]) -> None:
    env, sock = tmux_env
    subprocess.run(["tmux", "-S", str(sock), "set", "-s", "set-clipboard", "on"], check=True, timeout=10)
    assert tmux_clipboard_problem(env) is None
    assert tmux_clipboard_problem({"PATH": os.environ["PATH"]}) is None  # outside tmux: OSC 52 may land
