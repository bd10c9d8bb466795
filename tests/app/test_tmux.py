"""End to end in a real terminal: the installed castui in tmux, driven with send-keys.

`castui --lab heartbeat-failing` to the confirmed cause and its fix, the copy landing in
tmux's buffer through OSC 52; `castui --bundle FILE` (a bundle made in-process) to the
same cause, read-only; `castui --all-contexts` on a lab fleet, one row per cluster, `enter`
opening one cluster's triage. Reading the pane is polled with a deadline (the one place
polling the screen text is right: there is no app object to ask)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from castui.lab.fleet import start_fleet
from tests.app.conftest import bundle_on_fixed_clock, lab_on_fixed_clock

pytestmark = pytest.mark.tmux

#: one tmux server per test process: runs side by side (several checkouts on one machine) never kill each other's
SOCKET = f"castui-test-{os.getpid()}"
CASTUI = Path(sys.executable).parent / "castui"
COMMAND = "kubectl rollout restart deployment/castai-agent -n castai-agent"
PINNED = "kubectl --context castui-lab"
#: a fleet table row: the context, a cell per symptom (ten), the cluster's state
TABLE_ROW = re.compile(
    r"^ *(?P<context>lab-[\w-]+) +(?P<state>[✓✗?] [\w ]+?|waiting|running)(?P<cells>(?: +[✓✗?…·]){10}) *$", re.M)


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


def wait_until(ready: Callable[[str], bool], what: str, *, timeout: float = 30.0) -> str:
    """The pane's text once `ready(text)`; woken by castui's own output, never by a timer."""
    assert OUTPUT is not None
    deadline = time.monotonic() + timeout
    text = screen()
    while not ready(text):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the pane shows:\n{text}")
        OUTPUT.wait(deadline - time.monotonic())
        text = screen()
    return text


def wait_for_text(*needles: str, timeout: float = 30.0) -> str:
    return wait_until(lambda text: all(n in text for n in needles), repr(needles), timeout=timeout)


@contextlib.contextmanager
def castui_in_tmux(tmp_path: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Iterator[None]:
    """`castui ARGS` alone in a 120×40 tmux pane, with only the environment given (and its own HOME and XDG dirs)."""
    if shutil.which("tmux") is None or not CASTUI.exists():
        pytest.skip("needs tmux and the installed castui")
    environment = {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "TERM": "tmux-256color",
        **(env or {}),
    }
    command = ["env", "-i", *(f"{k}={v}" for k, v in environment.items()), str(CASTUI), *args]
    subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
    global OUTPUT
    OUTPUT = PaneOutput(tmp_path / "pane-output")
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "castui", "-x", "120", "-y", "40", "-c", str(cwd or tmp_path),
         " ".join(command))
    tmux("set", "-s", "set-clipboard", "on")
    # every byte castui writes is also kept in `pane-raw`, for tests that look for sequences it must never send
    tmux("pipe-pane", "-t", "castui", f"tee {tmp_path / 'pane-raw'} > {tmp_path / 'pane-output'}")
    try:
        yield
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        OUTPUT.close()
        OUTPUT = None


def fleet_rows(text: str) -> dict[str, tuple[str, str]]:
    return {m["context"]: ("".join(m["cells"].split()), m["state"]) for m in TABLE_ROW.finditer(text)}


def send(*keys: str) -> None:
    tmux("send-keys", "-t", "castui", *keys)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[None]:
    with castui_in_tmux(tmp_path, "--lab", "heartbeat-failing"):
        yield


def test_from_symptom_to_fix_in_a_real_terminal(session: None) -> None:
    wait_for_text("Pick a symptom", "cluster ✓ answers", "lab scenario heartbeat-failing")
    send("2")
    wait_for_text("Allow it for this run?")
    send("n")
    # the summary can draw before the tree row, and the cursor lands on the cause after a refresh: the evidence
    # pane's "(press f)" shows it is there, so f opens this cause's fix
    wait_for_text("cause confirmed", "✗ confirmed  heartbeat-failing", "Fix: Restart the agent (press f)")

    send("f")
    wait_for_text("Fix: Restart the agent", PINNED)
    send("c")
    wait_for_text("Copied through the terminal (OSC 52)")
    copied = tmux("show-buffer").strip()  # the command names the context (and kubeconfig) castui diagnosed
    assert copied.startswith(PINNED + " --kubeconfig ") and copied.endswith(COMMAND.removeprefix("kubectl"))

    send("q")
    wait_for_text("cause confirmed")
    send("q")
    wait_for_text("Pick a symptom")
    send("q")  # there are results: castui asks first
    wait_for_text("Quit castui?", "results for 1 symptom")
    send("y")
    assert OUTPUT is not None
    deadline = time.monotonic() + 10
    while not OUTPUT.closed and time.monotonic() < deadline:
        OUTPUT.wait(deadline - time.monotonic())
    alive = subprocess.run(["tmux", "-L", SOCKET, "has-session", "-t", "castui"], capture_output=True).returncode == 0
    assert OUTPUT.closed and not alive, "q on the home screen quits"


def test_a_replayed_bundle_to_its_fix_with_nothing_to_execute(tmp_path: Path) -> None:
    with lab_on_fixed_clock("heartbeat-failing") as lab:
        bundle = asyncio.run(bundle_on_fixed_clock(lab, tmp_path))

    with castui_in_tmux(tmp_path, "--bundle", bundle.name, cwd=bundle.parent):
        wait_for_text("Pick a symptom", "context castui-lab", "API replayed bundle", "captured 2025-03-14 09:26 UTC", "read-only",
                      "cluster ✓ recorded")
        send("2")  # read-only: no question about the active check, it is skipped
        # "(press f)" is drawn once the cursor is on the confirmed cause: f before that opens nothing
        text = wait_for_text("cause confirmed", "✗ confirmed  heartbeat-failing", "(press f)")
        assert "Allow it for this run?" not in text

        send("f")
        text = wait_for_text("Fix: Restart the agent", PINNED, "read-only mode", "captured 2025-03-14 09:26 UTC", "c Copy",
                             "Back / cancel")
        assert "Execute" not in text and "Dry run" not in text  # the footer offers copy and back only


def test_all_contexts_shows_one_row_per_cluster_and_opens_one(tmp_path: Path) -> None:
    with start_fleet(("healthy", "demo", "invalid-api-key"), workdir=tmp_path / "fleet") as fleet:
        api = fleet.api_url  # the flags `castui lab serve --fleet` prints
        empty = tmp_path / "no-castai-terraform"  # Terraform without CAST AI: terraform-drift is ruled out
        empty.mkdir()
        (empty / "terraform.tfstate").write_text('{"version": 4, "terraform_version": "1.11.4", "serial": 1, "resources": []}')
        flags = ["--all-contexts", "--helm-repo-url", f"{api}/helm-charts", "--status-url", f"{api}/status",
                 "--terraform-dir", str(empty)]
        expected, first_cause = fleet_verdicts(flags, fleet.environment(), tmp_path)
        with castui_in_tmux(tmp_path, *flags, env=fleet.environment()):
            text = wait_until(lambda text: fleet_rows(text) == expected, f"the rows castui diagnose gives: {expected}")
            assert list(fleet_rows(text)) == fleet.contexts and "castui fleet: 3 clusters" in text

            send("Down")
            wait_for_text("lab-demo  cluster", first_cause)
            send("Enter")
            wait_for_text("Allow it for this run?")
            send("n")
            count = expected["lab-demo"][1].split()[1]
            wait_for_text("context lab-demo", f"{count} causes confirmed", f"✗ confirmed  {first_cause}",
                          "cluster ✓ answers", "API ✓ answers")


def fleet_verdicts(flags: list[str], env: dict[str, str], tmp_path: Path) -> tuple[dict[str, tuple[str, str]], str]:
    """What `castui diagnose` says of the same fleet, as the screen's rows: (cells, state) per context; and
    lab-demo's first confirmed cause. The screen must agree with the CLI, whatever the lab's data."""
    import json

    from castui.diagnosis import SymptomVerdict
    from castui.tree import SYMPTOMS

    result = subprocess.run([str(CASTUI), "diagnose", "-f", "json", *flags], capture_output=True, text=True, timeout=120,
                            env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **env,
                                 "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    report = json.loads(result.stdout)
    symbol = {SymptomVerdict.PROBLEM.value: "✗", SymptomVerdict.HEALTHY.value: "✓", SymptomVerdict.UNKNOWN.value: "?"}
    rows: dict[str, tuple[str, str]] = {}
    first = ""
    for cluster in report["clusters"]:
        by_id = {s["id"]: s for s in cluster["diagnosis"]["symptoms"]}
        cells = "".join(symbol.get(by_id[s.id]["verdict"], "?") for s in SYMPTOMS)
        confirmed = [c["id"] for s in cluster["diagnosis"]["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"]
        state = f"✗ {len(confirmed)} cause{'' if len(confirmed) == 1 else 's'}" if confirmed else "✓ clear"
        rows[cluster["context"]] = (cells, state)
        if cluster["context"] == "lab-demo":
            first = confirmed[0]
    return rows, first
