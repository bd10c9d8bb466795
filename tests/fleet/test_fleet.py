"""The journey of someone with several clusters: one command checks them all, each cluster gets
exactly the verdicts it gets alone, and a cluster that cannot be reached says why without
holding the others back. Everything over real HTTP against lab clusters on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from castui.cli import main
from castui.clients.errors import ConfigurationError
from castui.config import load_settings
from castui.diagnosis import SCHEMA as DIAGNOSIS_SCHEMA
from castui.diagnosis import Diagnosis
from castui.engine.fleet import SCHEMA, ClusterFinished, Fleet, FleetEvent
from castui.lab.fleet import RunningFleet, context_name, start_fleet
from castui.lab.scenarios import SCENARIOS as ALL_SCENARIOS
from tests.fleet.conftest import GONE, HUNG, SCENARIOS

#: what changes from one run to the next however alike they are
VOLATILE = {"duration_ms", "generated_at"}


def shared_flags(fleet: RunningFleet, tmp_path: Path) -> list[str]:
    overrides = fleet.settings_overrides()
    # a Terraform directory that manages no CAST AI resources: drift is ruled out, not unknown (no state at all)
    empty = tmp_path / "no-castai-terraform"
    empty.mkdir(exist_ok=True)
    (empty / "terraform.tfstate").write_text('{"version": 4, "terraform_version": "1.11.4", "serial": 1, "resources": []}')
    return ["--helm-repo-url", overrides["helm_repo_url"], "--status-url", overrides["status_url"],
            "--terraform-dir", str(empty)]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def confirmed_in(doc: dict[str, Any]) -> set[str]:
    return {c["id"] for s in doc["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"}


# --- the same verdicts as alone ------------------------------------------------------------------


def test_each_cluster_gets_the_verdicts_it_gets_alone(fleet_env: RunningFleet, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    flags = shared_flags(fleet_env, tmp_path)
    code, out = run_cli(capsys, "diagnose", "--all-contexts", "--format", "json", *flags)
    report = json.loads(out)
    assert [c["context"] for c in report["clusters"]] == [context_name(s) for s in SCENARIOS]
    for cluster in report["clusters"]:
        alone_code, alone = run_cli(capsys, "diagnose", "--context", cluster["context"], "--format", "json", *flags)
        assert without_volatile(cluster["diagnosis"]) == without_volatile(json.loads(alone))
        assert cluster["diagnosis"]["exit_code"] == alone_code
        scenario = cluster["context"].removeprefix("lab-")
        assert confirmed_in(cluster["diagnosis"]) == set(ALL_SCENARIOS[scenario].confirms)
    assert code == 1  # demo and invalid-api-key confirm causes


def test_named_contexts_only(fleet_env: RunningFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "diagnose", "--context", "lab-healthy", "--context", "lab-demo", "--format", "json",
                        *shared_flags(fleet_env, tmp_path))
    report = json.loads(out)
    assert [c["context"] for c in report["clusters"]] == ["lab-healthy", "lab-demo"]
    assert report["summary"]["pdb-blocking-eviction"] == ["lab-demo"]
    assert code == 1


def test_a_healthy_fleet_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with start_fleet(["healthy", "empty-nodes-delay-high", "chart-outdated"]) as fleet:
        for key, value in fleet.environment().items():
            monkeypatch.setenv(key, value)
        code, out = run_cli(capsys, "diagnose", "--context", "lab-healthy", "--context", "lab-healthy", "--format", "json",
                            *shared_flags(fleet, tmp_path))
    report = json.loads(out)
    assert [c["context"] for c in report["clusters"]] == ["lab-healthy"]  # named twice, checked once
    assert report["summary"] == {}
    assert code == 0


# --- the document -----------------------------------------------------------------------------------


def test_fleet_json_schema(fleet_env: RunningFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run_cli(capsys, "diagnose", "--all-contexts", "--format", "json", *shared_flags(fleet_env, tmp_path))
    report = json.loads(out)
    assert report["schema"] == SCHEMA == "castui.fleet/v2"
    assert {"schema", "clusters", "summary", "exit_code", "symptoms"} <= set(report)
    ids = {lab.context: lab.cluster_id for lab in fleet_env.labs}
    for cluster in report["clusters"]:
        assert set(cluster) == {"context", "cluster_id", "error", "diagnosis"}
        assert cluster["cluster_id"] == ids[cluster["context"]]  # each lab cluster is its own CAST AI cluster
        assert cluster["diagnosis"]["schema"] == DIAGNOSIS_SCHEMA
        Diagnosis.model_validate(cluster["diagnosis"])
        assert cluster["diagnosis"]["target"]["context"] == cluster["context"]
    assert len(set(ids.values())) == len(ids)
    expected: dict[str, list[str]] = {}
    for cluster in report["clusters"]:
        for cause in sorted(confirmed_in(cluster["diagnosis"])):
            expected.setdefault(cause, []).append(cluster["context"])
    assert {k: sorted(v) for k, v in report["summary"].items()} == {k: sorted(v) for k, v in expected.items()}
    assert report["summary"]["invalid-api-key"] == ["lab-invalid-api-key"]  # cause ids are never redacted


def test_text_and_markdown_show_the_matrix(fleet_env: RunningFleet, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    flags = shared_flags(fleet_env, tmp_path)
    code, text = run_cli(capsys, "diagnose", "--all-contexts", *flags)
    assert code == 1
    rows = {line.split()[1]: line for line in text.splitlines() if line[:2] in ("✓ ", "✗ ", "? ")}
    assert set(rows) == {"lab-healthy", "lab-demo", "lab-invalid-api-key"}
    assert "all clear" in rows["lab-healthy"] and f"{len(ALL_SCENARIOS['demo'].confirms)} confirmed" in rows["lab-demo"]
    assert "1 agent-crashloop" in text and "10 workload-autoscaler" in text
    assert "✗ agent-crashloop: invalid-api-key" in text
    assert "pdb-blocking-eviction" in text and "CAST AI status page: All Systems Operational" in text
    assert all(len(line) <= 100 for line in text.splitlines())  # a terminal's width, not a spreadsheet's
    _, markdown = run_cli(capsys, "diagnose", "--all-contexts", "--format", "markdown", *flags)
    assert "| Cluster | `agent-crashloop` |" in markdown
    demo_row = next(line for line in markdown.splitlines() if line.startswith("| ✗ `lab-demo`"))
    assert "`unschedulable-pods-disabled`" in demo_row and "`pdb-blocking-eviction`" in demo_row
    assert "| `invalid-api-key` | `lab-invalid-api-key` |" in markdown


# --- clusters that cannot be read ------------------------------------------------------------------


def test_unreachable_contexts_are_unknown_with_their_reason(fleet_env: RunningFleet, broken_kubeconfig: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # the timeout is generous for the clusters that answer (a busy machine), and bounds the one that hangs
    code, out = run_cli(capsys, "diagnose", "--all-contexts", "--kubeconfig", str(broken_kubeconfig), "--timeout", "3",
                        "--format", "json", *shared_flags(fleet_env, tmp_path))
    clusters = {c["context"]: c for c in json.loads(out)["clusters"]}
    assert "connection refused" in clusters[GONE]["error"]
    assert "answer within" in clusters[HUNG]["error"]  # its version read, or its whole run, ran out of time
    for context in (GONE, HUNG):
        assert clusters[context]["cluster_id"] is None
        assert clusters[context]["diagnosis"]["exit_code"] == 3
        assert not confirmed_in(clusters[context]["diagnosis"])
    for scenario in SCENARIOS:  # the others are complete and unaffected
        cluster = clusters[context_name(scenario)]
        assert cluster["error"] is None
        assert confirmed_in(cluster["diagnosis"]) == set(ALL_SCENARIOS[scenario].confirms)
    assert code == 1  # a confirmed cause outranks the unknowns
    code, _ = run_cli(capsys, "diagnose", "--context", GONE, "--context", HUNG, "--kubeconfig", str(broken_kubeconfig),
                      "--timeout", "1", "--format", "json", *shared_flags(fleet_env, tmp_path))
    assert code == 3


def test_a_hanging_cluster_does_not_hold_the_others_back(fleet: RunningFleet, broken_kubeconfig: Path) -> None:
    """The reachable clusters finish (complete) before the hanging one gives up at its own timeout."""
    settings = load_settings({**fleet.settings_overrides(), "kubeconfig": str(broken_kubeconfig), "timeout": 3}, env={})
    settings.api_key = SecretStr(fleet.api_key)
    finished: list[str] = []

    def on_event(event: FleetEvent) -> None:
        if isinstance(event, ClusterFinished):
            finished.append(event.result.context)

    async def run() -> Any:
        async with Fleet(settings, [HUNG, *fleet.contexts, GONE], parallel=8) as running:
            return await running.run(on_event=on_event)

    report = asyncio.run(run())
    assert finished[-1] == HUNG
    assert set(finished[:-1]) == {*fleet.contexts, GONE}
    assert {c.context: c.error is None for c in report.clusters} == {HUNG: False, GONE: False, **{c: True for c in fleet.contexts}}


# --- usage -------------------------------------------------------------------------------------------


def test_usage_errors(fleet_env: RunningFleet, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "--all-contexts", "--context", "lab-demo"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["diagnose", "--all-contexts", "--lab"]) == 2
    assert "castui lab serve --fleet" in capsys.readouterr().err
    assert main(["diagnose", "--all-contexts", "--parallel", "0"]) == 2
    assert main(["diagnose", "--all-contexts", "--symptom", "nope"]) == 2


def test_lab_fleet_refuses_what_it_cannot_serve() -> None:
    with pytest.raises(ConfigurationError, match="3 to 20"):
        start_fleet(["healthy", "demo"])
    with pytest.raises(ConfigurationError, match="different scenario"):
        start_fleet(["healthy", "healthy", "demo"])
    with pytest.raises(ConfigurationError, match="share castui's one API key"):
        start_fleet(["healthy", "demo", "api-key-invalid"])
