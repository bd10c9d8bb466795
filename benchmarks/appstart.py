"""App start: `castui` launched in tmux (a real terminal), timed from launch to the first
interactive frame (the symptom picker), then `a` (run every check) to the first check
result and to the end of the run, by reading the screen tmux rendered.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from typing import Any

HOME_READY = "What do you see?"
FIRST_RESULT = re.compile(r"\b[1-9]\d*/\d+ checks\b|✓ HEALTHY|✗ PROBLEM|\? UNKNOWN")
RUN_DONE = re.compile(r"\bcauses? confirmed|cause\(s\) confirmed|nothing wrong found|no cause is confirmed|some checks could not run")
CONSENT = "This check changes the cluster"
POLL_S = 0.02


def _screen(socket: str) -> str:
    done = subprocess.run(["tmux", "-L", socket, "capture-pane", "-p", "-t", "bench"], capture_output=True, text=True)
    return done.stdout


_RUNS = iter(range(1_000_000))


def measure_app_start(argv: list[str], env: dict[str, str], *, timeout: float = 60) -> dict[str, Any]:
    if shutil.which("tmux") is None:
        return {"skipped": "tmux is not installed"}
    socket = f"castui-bench-{os.getpid()}-{next(_RUNS)}"  # a fresh tmux server each time: no race with the last one's exit
    command = " ".join(shlex.quote(a) for a in argv)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("CASTAI_", "KUBECONFIG", "XDG_")))
    result: dict[str, Any] = {"command": "castui " + " ".join(argv[1:])}
    started = time.perf_counter()
    launched = subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40",
                               f"env {exports} TERM=xterm-256color {command}"], capture_output=True, text=True)
    if launched.returncode != 0:
        return {**result, "skipped": f"tmux did not start: {launched.stderr.strip()}"}
    try:
        deadline = started + timeout
        answered_consent = False
        while time.perf_counter() < deadline:
            screen = _screen(socket)
            now = time.perf_counter() - started
            if "first_frame_s" not in result and HOME_READY in screen:
                result["first_frame_s"] = round(now, 3)
                subprocess.run(["tmux", "-L", socket, "send-keys", "-t", "bench", "a"], check=True)
            elif "first_frame_s" in result:
                if "first_check_result_s" not in result and FIRST_RESULT.search(screen):
                    result["first_check_result_s"] = round(now, 3)
                if CONSENT in screen and not answered_consent:
                    answered_consent = True  # the active probe asks first; skip it, as the CLI does
                    subprocess.run(["tmux", "-L", socket, "send-keys", "-t", "bench", "n"], check=True)
                if RUN_DONE.search(screen):
                    result["all_checks_s"] = round(now, 3)
                    break
            time.sleep(POLL_S)  # a benchmark polling a terminal, not a test waiting for luck
        else:
            result["timed_out"] = f"after {timeout:g}s; last screen: {_screen(socket)[-400:]!r}"
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    return result
