"""Helpers for the trust tests: run castui in-process against a lab (and keep the
run's facts), read the checks of a diagnosis, measure peak memory, stand-in commands."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from castui.config import Settings, load_settings
from castui.diagnosis import CheckResult, Diagnosis
from castui.engine.facts import Facts
from castui.engine.session import Session
from castui.lab import RunningLab
from tests.conftest import CANARY_KEY
from tests.core.helpers import lab_settings

#: the fix that hands a new key to the agent's release: `${CASTAI_API_KEY}` must reach helm only as a file
HELM_UPGRADE = ["helm", "upgrade", "castai-agent", "castai-helm/castai-agent", "-n", "castai-agent", "--reuse-values",
                "--set", "apiKey=${CASTAI_API_KEY}"]

T = TypeVar("T")


def diagnose_with_facts(lab: RunningLab, **flags: Any) -> tuple[Diagnosis, Facts]:
    """A diagnosis of every symptom, and the facts it was made of (raw answers included)."""

    async def run() -> tuple[Diagnosis, Facts]:
        async with Session(lab_settings(lab, **flags), lab=lab.scenario) as session:
            diagnosis = await session.diagnose()
            assert session.last_facts is not None
            return diagnosis, session.last_facts

    return asyncio.run(run())


def checks_of(diagnosis: Diagnosis) -> dict[str, CheckResult]:
    """Every check, as "symptom/check"."""
    return {f"{s.id}/{c.id}": c for s in diagnosis.symptoms for c in s.checks}


def failed_checks(diagnosis: Diagnosis) -> dict[str, str]:
    return {key: check.reason or "" for key, check in checks_of(diagnosis).items() if check.reason}


def agent_log_text(facts: Facts) -> str:
    """The agent log the run read (the first current log in the raw answers)."""
    for key, value in facts.raw.items():
        if key.startswith('["logs"') and '"castai-agent-' in key and isinstance(value, str):
            return value
    raise AssertionError(f"no agent log was read; raw keys: {sorted(facts.raw)}")


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert match, f"{field} not in /proc/self/status"
    return int(match.group(1))


def peak_rss_growth_mib(action: Callable[[], T]) -> tuple[T, float]:
    """Run `action`; return its result and how far the process's peak RSS rose above the
    RSS before it (Linux: writing 5 to /proc/self/clear_refs resets the peak)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    result = action()
    return result, (_status_kib("VmHWM") - before) / 1024


def lab_flags(lab: RunningLab) -> list[str]:
    """`castui` options that point it at a running lab (as `castui lab serve` tells a user)."""
    return [f"--{flag.replace('_', '-')}={value}" for flag, value in lab.settings_overrides().items()]


# --- stand-in commands (the `standins` fixture puts their directory first on PATH) ----------------


def standin(bin_dir: Path, name: str, body: str) -> Path:
    script = bin_dir / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def recording_helm(bin_dir: Path, out: Path, *, block_on: Path | None = None, started: Path | None = None) -> None:
    """A `helm` that writes its argv, its environment, and the contents of any --set-file file, then
    (with `block_on`, a FIFO) says so into the `started` FIFO and waits until the test lets it finish."""
    wait = f'echo started > "{started}"\nread line < "{block_on}"\n' if block_on else ""
    standin(bin_dir, "helm", f"""
printf '%s\\n' "$@" > "{out}/argv"
env > "{out}/env"
for arg in "$@"; do
  case "$arg" in *=/*) cat "${{arg#*=}}" > "{out}/set-file" 2>/dev/null; ls -l "${{arg#*=}}" > "{out}/set-file-mode";; esac
done
{wait}echo "Release castai-agent has been upgraded."
""")


def settings_for(tmp_path: Path, **flags: object) -> Settings:
    """Settings for running commands (no cluster is contacted), with the canary as the API key."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    settings = load_settings({"kubeconfig": str(kubeconfig), "context": "prod-eu", **flags}, env={})
    settings.api_key = SecretStr(CANARY_KEY)
    return settings


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that never reaps it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


async def fifo_message(path: Path, timeout: float = 10.0) -> str:
    """What a stand-in command writes into the FIFO at `path`: the wait ends on that event, not a timer."""
    loop = asyncio.get_running_loop()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    data = b""
    try:
        while not data.endswith(b"\n"):
            readable = loop.create_future()
            loop.add_reader(fd, lambda ready=readable: ready.done() or ready.set_result(None))
            try:
                await asyncio.wait_for(readable, timeout)
            finally:
                loop.remove_reader(fd)
            chunk = os.read(fd, 4096)
            if not chunk:
                break  # the writer closed without a newline
            data += chunk
    finally:
        os.close(fd)
    return data.decode()


async def process_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait for a process to end, woken by the kernel (a pidfd becomes readable when it exits)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited = loop.create_future()
    loop.add_reader(pidfd, lambda: exited.done() or exited.set_result(None))
    try:
        await asyncio.wait_for(exited, timeout)
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


def processes_showing(secret: str) -> list[str]:
    """Pids whose command line contains `secret` (what `ps` shows every user)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if secret.encode() in (proc / "cmdline").read_bytes():
                    found.append(proc.name)
            except OSError:
                continue  # gone meanwhile
    return found
