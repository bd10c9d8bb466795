"""End to end in a real terminal: the installed `castui --lab heartbeat-failing` in tmux,
driven with send-keys to the confirmed cause and its fix; the copy lands in tmux's
buffer through OSC 52. Reading the pane is polled with a deadline (the one place
polling the screen text is right: there is no app object to ask)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

SOCKET = "castui-test"
CASTUI = Path(sys.executable).parent / "castui"
COMMAND = "kubectl rollout restart deployment/castai-agent -n castai-agent"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True, timeout=10).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", "castui")


class PaneOutput:
    """What castui writes to its terminal, through `tmux pipe-pane` into a FIFO: reading it
    blocks until the app draws something, so waits wake on real output, not on a timer."""

    def __init__(self, fifo: Path) -> None:
        os.mkfifo(fifo)
        self.fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.closed = False

    def wait(self, seconds: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], max(seconds, 0))
        if ready and not os.read(self.fd, 1 << 16):
            self.closed = True  # the pane's writer went away: castui exited

    def close(self) -> None:
        os.close(self.fd)


OUTPUT: PaneOutput | None = None


def wait_for_text(*needles: str, timeout: float = 30.0) -> str:
    assert OUTPUT is not None
    deadline = time.monotonic() + timeout
    text = screen()
    while not all(n in text for n in needles):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {needles!r}; the pane shows:\n{text}")
        OUTPUT.wait(deadline - time.monotonic())
        text = screen()
    return text


@pytest.fixture
def session(tmp_path: Path) -> Iterator[None]:
    if shutil.which("tmux") is None or not CASTUI.exists():
        pytest.skip("needs tmux and the installed castui")
    env = {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "TERM": "tmux-256color",
    }
    command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), str(CASTUI), "--lab", "heartbeat-failing"]
    subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
    global OUTPUT
    OUTPUT = PaneOutput(tmp_path / "pane-output")
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "castui", "-x", "120", "-y", "40", " ".join(command))
    tmux("set", "-s", "set-clipboard", "on")
    tmux("pipe-pane", "-t", "castui", f"cat > {tmp_path / 'pane-output'}")
    try:
        yield
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        OUTPUT.close()
        OUTPUT = None


def test_from_symptom_to_fix_in_a_real_terminal(session: None) -> None:
    wait_for_text("Pick a symptom", "cluster ✓ answers", "lab scenario heartbeat-failing")
    tmux("send-keys", "-t", "castui", "2")
    wait_for_text("Allow it for this run?")
    tmux("send-keys", "-t", "castui", "n")
    text = wait_for_text("cause(s) confirmed", "heartbeat-failing")
    assert "✗ confirmed  heartbeat-failing" in text

    tmux("send-keys", "-t", "castui", "f")
    wait_for_text("Fix: Restart the agent", COMMAND)
    tmux("send-keys", "-t", "castui", "c")
    wait_for_text("Copied through the terminal (OSC 52)")
    assert tmux("show-buffer").strip() == COMMAND

    tmux("send-keys", "-t", "castui", "q")
    wait_for_text("cause(s) confirmed")
    tmux("send-keys", "-t", "castui", "q")
    wait_for_text("Pick a symptom")
    tmux("send-keys", "-t", "castui", "q")
    assert OUTPUT is not None
    deadline = time.monotonic() + 10
    while not OUTPUT.closed and time.monotonic() < deadline:
        OUTPUT.wait(deadline - time.monotonic())
    alive = subprocess.run(["tmux", "-L", SOCKET, "has-session", "-t", "castui"], capture_output=True).returncode == 0
    assert OUTPUT.closed and not alive, "q on the home screen quits"
