"""Every run ends: a Kubernetes read that trickles a byte a second, or a credential plugin that
never returns, cannot keep `castui diagnose` alive past its deadline (3 × --timeout). It prints
what it found, says what it could not finish, exits 3, and leaves no plugin running."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from castui.diagnosis import SymptomVerdict
from castui.engine.deadline import diagnose_within, run_deadline
from castui.engine.session import Session
from castui.lab import RunningLab, start_lab
from castui.lab.state import Fault
from tests.core.helpers import lab_settings

TIMEOUT = 3
#: the run's deadline, and the slack the issue allows past it
DEADLINE = run_deadline(TIMEOUT)
SLACK = 5


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    with start_lab("healthy") as running:
        yield running


def diagnose_cli(lab: RunningLab, tmp_path: Path, kubeconfig: Path | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    flags = {**lab.settings_overrides(), **({"kubeconfig": str(kubeconfig)} if kubeconfig else {})}
    env = {**os.environ, "CASTAI_API_KEY": str(lab.api_key), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-m", "castui", "diagnose", "--timeout", str(TIMEOUT),
                                 *(f"--{k.replace('_', '-')}={v}" for k, v in flags.items())],
                                capture_output=True, text=True, env=env, timeout=DEADLINE + SLACK + 30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"castui diagnose --timeout {TIMEOUT} was still running {DEADLINE + SLACK + 30:g}s later")
    return result, time.monotonic() - started


def test_a_read_that_trickles_forever_does_not_hold_the_run(lab: RunningLab, tmp_path: Path) -> None:
    lab.server.state.faults.append(Fault("trickle", path=r"/pods$"))
    result, took = diagnose_cli(lab, tmp_path)
    assert took < DEADLINE + SLACK, f"ended after {took:.1f}s"
    assert result.returncode == 3, result.stderr
    assert f"no answer within {TIMEOUT}s" in result.stdout and "(exit 3)" in result.stdout  # the results, printed
    assert "Traceback" not in result.stderr


def test_a_credential_plugin_that_never_returns_does_not_hold_the_run(lab: RunningLab, tmp_path: Path) -> None:
    plugin = tmp_path / "hanging-credential-plugin"
    plugin.write_text("#!/bin/sh\nexec sleep 600\n")
    plugin.chmod(0o755)
    doc = yaml.safe_load(lab.kubeconfig.read_text())
    doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin),
                                        "interactiveMode": "Never"}}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(doc))
    result, took = diagnose_cli(lab, tmp_path, kubeconfig)
    assert took < DEADLINE + SLACK, f"ended after {took:.1f}s"
    assert result.returncode == 3, result.stderr
    assert "could not check" in result.stdout and "(exit 3)" in result.stdout
    left = subprocess.run(["pgrep", "-f", str(plugin)], capture_output=True, text=True).stdout.split()
    assert not left, "the plugin outlived castui"


def test_what_finished_by_the_deadline_is_kept_and_the_rest_named(lab: RunningLab) -> None:
    lab.server.state.faults.append(Fault("latency", path=r"/pods$", seconds=1.0))

    async def run() -> tuple[object, list[str]]:
        async with Session(lab_settings(lab, timeout=5)) as session:
            return await diagnose_within(session, ["api-unauthorized", "agent-crashloop"], 0.6)

    diagnosis, missing = asyncio.run(run())
    by_id = {s.id: s for s in diagnosis.symptoms}  # type: ignore[attr-defined]
    assert missing == ["agent-crashloop"]  # it lists the agent's pods, which answer after a second
    assert by_id["api-unauthorized"].verdict is SymptomVerdict.HEALTHY
    assert by_id["agent-crashloop"].verdict is SymptomVerdict.UNKNOWN and "deadline" in by_id["agent-crashloop"].summary
    assert diagnosis.exit_code == 3  # type: ignore[attr-defined]
