"""Running a fix is safe: read-only mode refuses every mutating path, kubectl fixes
can be tried server-side first, a cancelled command is gone (with its children),
and the API key never reaches a command's argv or environment, nor the process list.

Commands run for real, as argv, against stand-ins on PATH (a `helm` that records what
it was given, a long-running command) or the real kubectl against the lab.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.clients.errors import ReadOnlyMode
from castui.diagnosis import ApiCall, CauseVerdict, Fix
from castui.engine.active import in_cluster_api_status
from castui.engine.execute import (
    apply_api_call,
    audit_path,
    run_command,
    supports_server_dry_run,
)
from castui.engine.session import Session
from castui.lab import RunningLab, start_lab
from tests.conftest import CANARY_KEY
from tests.core.helpers import diagnose, lab_settings
from tests.trust.helpers import HELM_UPGRADE, alive, fifo_message, process_gone, recording_helm, settings_for, standin

# --- read-only mode -----------------------------------------------------------------------------


async def test_read_only_refuses_a_mutating_command_before_starting_it(standins: Path, tmp_path: Path) -> None:
    standin(standins, "kubectl", f'touch "{tmp_path}/ran"\n')
    fix = Fix(title="restart", commands=[["kubectl", "rollout", "restart", "deployment/castai-agent"]], mutates=True)
    with pytest.raises(ReadOnlyMode, match="read-only mode"):
        await run_command(settings_for(tmp_path, read_only=True), fix, fix.commands[0], target="test")
    assert not (tmp_path / "ran").exists()


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    with start_lab("unschedulable-pods-disabled") as running:
        yield running


async def test_read_only_refuses_an_api_change(lab: RunningLab) -> None:
    settings = lab_settings(lab, read_only=True)
    fix = Fix(title="enable", api_call=ApiCall(method="PUT", path="/v1/kubernetes/clusters/${CASTAI_CLUSTER_ID}/policies",
                                               body={"unschedulablePods": {"enabled": True}}))
    async with Session(settings, lab=lab.scenario) as session:
        await session.diagnose(["no-scale-up"])
        with pytest.raises(ReadOnlyMode):
            await apply_api_call(session, fix, target="test")
    assert not [r for r in lab.server.state.request_log if r[0] == "PUT"]
    assert lab.cluster.policies["unschedulablePods"]["enabled"] is False


async def test_read_only_refuses_the_connectivity_pod(lab: RunningLab) -> None:
    async with Session(lab_settings(lab, read_only=True), lab=lab.scenario) as session:
        with pytest.raises(ReadOnlyMode, match="connectivity test pod"):
            await in_cluster_api_status(session.new_facts())
    assert not [r for r in lab.server.state.request_log if r[0] == "POST"]


def test_read_only_with_active_checks_asked_for_still_creates_nothing(lab: RunningLab) -> None:
    diagnosis = diagnose(lab, ["agent-disconnected"], read_only=True, active=True)
    reasons = [c.reason or "" for s in diagnosis.symptoms for c in s.checks]
    assert any("refused to create the connectivity test pod: castui runs in read-only mode" in r for r in reasons)
    assert not [r for r in lab.server.state.request_log if r[0] != "GET"]


# --- server-side dry run --------------------------------------------------------------------------


async def test_a_kubectl_fix_runs_server_side_dry_run_first_and_that_changes_nothing(standins: Path) -> None:
    with start_lab("missing-annotation") as lab:
        settings = lab_settings(lab)
        async with Session(settings, lab=lab.scenario) as session:
            diagnosis = await session.diagnose(["workload-autoscaler"])
        cause = next(c for s in diagnosis.symptoms for c in s.causes if c.id == "missing-annotation")
        assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
        argv = cause.fix.commands[0]
        assert argv[0] == "kubectl" and "annotate" in argv and supports_server_dry_run(argv)
        state = lab.server.state

        def annotations() -> dict[str, str]:
            return (state.find("deployments", "shop", "api") or {}).get("metadata", {}).get("annotations") or {}

        tried = await run_command(settings, cause.fix, argv, target="lab", dry_run=True)
        assert tried.ok, tried.output
        assert tried.command.endswith("--dry-run=server")
        assert "(server dry run)" in " ".join(line for _, line in tried.output)
        assert "workloads.cast.ai/configuration" not in annotations()

        applied = await run_command(settings, cause.fix, argv, target="lab")
        assert applied.ok, applied.output
        assert "workloads.cast.ai/configuration" in annotations()


# --- cancelling ------------------------------------------------------------------------------------


async def test_cancelling_a_command_kills_it_and_its_children(standins: Path, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    os.mkfifo(pids)
    standin(standins, "slow-fix", f'sleep 300 &\necho "$$ $!" > "{pids}"\nwait\n')
    fix = Fix(title="slow", commands=[["slow-fix"]], mutates=False)
    cancel = asyncio.Event()
    started = time.monotonic()
    run = asyncio.ensure_future(run_command(settings_for(tmp_path), fix, fix.commands[0], target="test", cancel=cancel))
    shell, child = (int(p) for p in (await fifo_message(pids)).split())
    assert alive(shell) and alive(child)

    cancel.set()
    result = await asyncio.wait_for(run, timeout=10)
    assert result.cancelled and not result.ok
    await process_gone(shell)
    await process_gone(child)
    assert not alive(shell) and not alive(child)
    assert time.monotonic() - started < 15
    assert json.loads(audit_path().read_text().splitlines()[-1])["cancelled"] is True


# --- the API key and commands ------------------------------------------------------------------------


async def test_a_command_gets_the_key_only_through_a_private_file(standins: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASTAI_API_KEY", CANARY_KEY)  # as a user would have it exported
    out = tmp_path / "helm-saw"
    out.mkdir()
    recording_helm(standins, out)
    fix = Fix(title="new key", commands=[HELM_UPGRADE])
    result = await run_command(settings_for(tmp_path), fix, HELM_UPGRADE, target="test")
    assert result.ok, result

    argv = (out / "argv").read_text().splitlines()
    assert CANARY_KEY not in "\n".join(argv)
    # the context castui diagnosed (and the kubeconfig it read), not the current one
    assert argv[:2] == ["--kube-context", "prod-eu"] and argv[argv.index("--kubeconfig") + 2] == "upgrade"
    set_file = argv.index("--set-file")
    assert argv[set_file + 1].startswith("apiKey=/")
    assert CANARY_KEY not in (out / "env").read_text()
    assert "CASTAI_API_KEY" not in (out / "env").read_text()
    assert (out / "set-file").read_text() == CANARY_KEY
    assert (out / "set-file-mode").read_text().startswith("-rw-------")
    assert not Path(argv[set_file + 1].split("=", 1)[1]).exists()  # removed once the command ended
    assert CANARY_KEY not in result.command and "${CASTAI_API_KEY}" in result.command


async def test_a_command_that_would_show_the_key_is_refused(standins: Path, tmp_path: Path) -> None:
    standin(standins, "curl", f'touch "{tmp_path}/ran"\n')
    argv = ["curl", "-H", "X-API-Key: ${CASTAI_API_KEY}", "https://api.cast.ai/v1/kubernetes/external-clusters"]
    result = await run_command(settings_for(tmp_path), Fix(title="call", commands=[argv], mutates=False), argv, target="test")
    assert not result.ok and result.error and "process list" in result.error
    assert not (tmp_path / "ran").exists()


# While a fix runs no process shows the key in its command line: test_secrets_canary.py checks /proc.
