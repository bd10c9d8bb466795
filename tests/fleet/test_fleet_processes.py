"""`castui diagnose` spreads a fleet over worker processes: the same document as one process,
the account-wide answers still read once, and a worker that dies leaves its clusters unknown
with the reason instead of a hang or a traceback.

The workers are forked, which castui only does from a single-threaded process: here the lab's
threads live in the test process, so the command runs as a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from castui import aio
from castui.config import load_settings
from castui.engine.fleet import Fleet
from castui.engine.fleet_processes import _collect, _finished, default_processes
from castui.lab.fleet import RunningFleet
from castui.lab.server import LabServer
from tests.fleet.conftest import GONE, HUNG
from tests.fleet.test_fleet import run_cli, shared_flags, without_volatile


def castui_subprocess(fleet: RunningFleet, *argv: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **fleet.environment()}
    return subprocess.run([sys.executable, *python_flags, "-m", "castui", *argv], capture_output=True, text=True, env=env,
                          timeout=120)


def api_requests(api: LabServer, path: str) -> int:
    with api.state.lock:
        return sum(1 for _, seen in api.state.request_log if seen == path)


def test_worker_processes_give_the_document_one_process_gives(fleet_env: RunningFleet, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    flags = shared_flags(fleet_env, tmp_path)
    lists_before = api_requests(fleet_env.api, "/v1/kubernetes/external-clusters")
    done = castui_subprocess(fleet_env, "diagnose", "--all-contexts", "--processes", "3", "--format", "json", *flags)
    assert done.returncode == 1, done.stderr  # demo and invalid-api-key confirm causes
    assert "Traceback" not in done.stderr
    in_workers = json.loads(done.stdout)
    # castui's own key lists the clusters once for the whole fleet (the agent key tests are other requests)
    lists = api_requests(fleet_env.api, "/v1/kubernetes/external-clusters") - lists_before
    in_one_code, out = run_cli(capsys, "diagnose", "--all-contexts", "--processes", "1", "--format", "json", *flags)
    in_one = json.loads(out)
    assert in_one_code == done.returncode
    assert [c["context"] for c in in_workers["clusters"]] == [c["context"] for c in in_one["clusters"]]
    assert (in_workers.pop("processes"), in_one.pop("processes")) == (3, 1)
    assert without_volatile(in_workers) == without_volatile(in_one)
    lists_in_one = api_requests(fleet_env.api, "/v1/kubernetes/external-clusters") - lists_before - lists
    assert lists == lists_in_one  # workers read the shared answers no more often than one process does


def test_a_key_a_worker_read_is_redacted_from_the_report(tmp_path: Path) -> None:
    """The agent's key, read by a worker from its Secret, turns up raw in the agent's log: the report,
    which the parent renders, hides it as one process does (the parent learns what its workers read)."""
    import base64

    from castui.lab.fleet import start_fleet
    from castui.lab.scenarios import NS

    with start_fleet(("healthy", "demo", "invalid-api-key-rotated")) as fleet:
        member = fleet.lab("lab-invalid-api-key-rotated")
        state = member.cluster.state
        secret = state.find("secrets", NS, "castai-agent")
        assert secret is not None
        key = base64.b64decode(secret["data"]["API_KEY"]).decode().strip()
        for pod in state.items("pods"):
            if pod["metadata"]["name"].startswith("castai-agent-") and pod["metadata"].get("namespace") == NS:
                state.append_log(NS, pod["metadata"]["name"], "agent", f'time="{member.cluster.now:%Y-%m-%dT%H:%M:%SZ}" '
                                 f'level=error msg="startup: using {key} for the API"')
        for processes in ("2", "1"):
            done = castui_subprocess(fleet, "diagnose", "--all-contexts", "--processes", processes, "--format", "json",
                                     *shared_flags(fleet, tmp_path))
            assert done.returncode == 1, done.stderr
            assert json.loads(done.stdout)["processes"] == int(processes)
            assert key not in done.stdout
            assert "startup: using [REDACTED] for the API" in done.stdout  # the line is shown, the key is not


def test_in_workers_an_unreachable_context_is_unknown_with_its_reason(fleet_env: RunningFleet, broken_kubeconfig: Path,
                                                                     tmp_path: Path) -> None:
    done = castui_subprocess(fleet_env, "diagnose", "--all-contexts", "--kubeconfig", str(broken_kubeconfig), "--timeout", "3",
                             "--processes", "2", "--format", "json", *shared_flags(fleet_env, tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stderr  # a confirmed cause outranks the unknowns
    report = json.loads(done.stdout)
    assert report["processes"] == 2
    clusters = {c["context"]: c for c in report["clusters"]}
    assert "connection refused" in clusters[GONE]["error"]
    assert "answer within" in clusters[HUNG]["error"]
    assert all(clusters[c]["diagnosis"]["exit_code"] == 3 for c in (GONE, HUNG))
    assert all(clusters[lab.context]["error"] is None for lab in fleet_env.labs)


def test_workers_are_used_only_where_they_pay_off() -> None:
    assert default_processes(1) == 1
    assert default_processes(3) == 1  # a small fleet stays in one process
    assert default_processes(40) == min(len(os.sched_getaffinity(0)), 8)


def test_a_worker_that_dies_leaves_its_clusters_unknown_with_why(fleet_env: RunningFleet) -> None:
    import multiprocessing

    contexts = [lab.context for lab in fleet_env.labs]
    fleet = Fleet(load_settings({}), contexts)
    aio.run(fleet.open())
    aio.run(fleet.close())
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=os._exit, args=(7,))  # dies before it reports anything
    process.start()
    send.close()
    results = _collect({receive: (process, contexts[:2])}, on_event=lambda event: None)
    cluster = _finished(fleet, contexts[0], None, results.get(contexts[0]))
    assert cluster.error == "the worker process checking it exited (code 7)"
    assert cluster.diagnosis.exit_code == 3
    assert all(c.verdict == "unknown" for s in cluster.diagnosis.symptoms for c in s.causes)
    assert contexts[2] not in results  # another worker's clusters are not touched


def test_a_fleet_of_token_kubeconfigs_never_imports_the_kubernetes_package(fleet_env: RunningFleet, tmp_path: Path) -> None:
    # its import (~0.3 s of CPU, before the workers fork) is for exec plugins and in-cluster credentials only
    done = castui_subprocess(fleet_env, "diagnose", "--all-contexts", "--processes", "2", "--format", "json",
                             *shared_flags(fleet_env, tmp_path), python_flags=("-X", "importtime"))
    assert done.returncode == 1, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "castui.engine.fleet_processes" in imported  # the workers ran
    assert "kubernetes" not in imported
