"""`castui diagnose` and friends as a script or a bot uses them: formats, exit codes, help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from castui.lab.scenarios import SCENARIOS
from castui.tree import SYMPTOMS
from tests.core.helpers import castui


def test_help_is_quick_and_imports_neither_kubernetes_nor_textual() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import castui.cli as c; c.build_parser().format_help();"
        "print(time.perf_counter() - t, 'kubernetes' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["False", "False"]


def test_help_explains_the_commands_and_the_key_variable() -> None:
    result = castui("--help")
    assert result.returncode == 0
    for word in ("diagnose", "lab", "bundle", "CASTAI_API_KEY", "exit codes"):
        assert word in result.stdout
    assert castui("diagnose", "--help").returncode == 0
    assert castui("--version").stdout.startswith("castui ")


def test_json_output_is_the_documented_contract() -> None:
    result = castui("diagnose", "--lab", "demo", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "castui.diagnosis/v2"
    assert len(document["symptoms"]) == len(SYMPTOMS)
    for symptom in document["symptoms"]:
        assert symptom["verdict"] in {"problem", "healthy", "unknown"}
        for cause in symptom["causes"]:
            assert cause["verdict"] in {"confirmed", "latent", "ruled_out", "unknown"}
            assert isinstance(cause["reason"], str) and isinstance(cause["evidence"], list)
            if cause["fix"] is not None:
                assert all(isinstance(argv, list) and all(isinstance(a, str) for a in argv) for argv in cause["fix"]["commands"])
                assert isinstance(cause["fix"]["mutates"], bool)
    confirmed = {c["id"] for s in document["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"}
    assert confirmed == set(SCENARIOS["demo"].confirms)


def test_one_symptom_only_and_markdown() -> None:
    result = castui("diagnose", "--lab", "heartbeat-failing", "--symptom", "agent-disconnected", "--format", "markdown")
    assert result.returncode == 1
    assert result.stdout.startswith("# castui diagnosis")
    assert "`heartbeat-failing`" in result.stdout and "```sh" in result.stdout
    assert "kubectl --context castui-lab --kubeconfig " in result.stdout  # pinned to the diagnosed cluster
    assert " rollout restart deployment/castai-agent -n castai-agent" in result.stdout
    assert "no-scale-up" not in result.stdout


def test_text_output_puts_problems_first_and_shows_the_fix() -> None:
    result = castui("diagnose", "--lab", "unschedulable-pods-disabled")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    first_symptom = next(line for line in lines if line.startswith(("✗", "?", "✓")))
    assert first_symptom.startswith("✗ PROBLEM: no-scale-up")
    assert "✗ confirmed: unschedulable-pods-disabled" in result.stdout
    assert '"X-API-Key: $CASTAI_API_KEY"' in result.stdout  # read by the fix's own shell, never pasted in
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_no_color_and_plain_leave_no_escape_sequences() -> None:
    result = castui("diagnose", "--lab", "demo", "--plain", env={"NO_COLOR": "1"})
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr


def test_unknown_symptom_is_a_usage_error() -> None:
    result = castui("diagnose", "--lab", "healthy", "--symptom", "nope")
    assert result.returncode == 2
    assert "unknown symptom 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_unknown_lab_scenario_is_a_usage_error() -> None:
    result = castui("diagnose", "--lab", "no-such-scenario")
    assert result.returncode == 2
    assert "castui lab list" in result.stderr and "Traceback" not in result.stderr


def test_exit_code_3_when_nothing_is_confirmed_but_something_could_not_be_checked() -> None:
    # the API is a closed port: every API check is unknown, nothing is confirmed
    result = castui("diagnose", "--lab", "healthy", "--format", "json", "--symptom", "no-scale-down",
                    "--api-url", "http://127.0.0.1:9", "--timeout", "3")
    # flags given after --lab override the lab's own
    document = json.loads(result.stdout)
    assert result.returncode == 3
    reasons = [c["reason"] for s in document["symptoms"] for c in s["causes"] if c["verdict"] == "unknown"]
    assert reasons and all("connection refused" in r for r in reasons), reasons


def test_without_terraform_the_drift_check_is_unknown_until_the_user_says_there_is_none(tmp_path: Path) -> None:
    """No state where castui looked is "could not check" (exit 3), with a hint; --no-terraform makes it not applicable."""
    args = ("diagnose", "--lab", "healthy", "--format", "json", "--symptom", "terraform-drift", "--terraform-dir", str(tmp_path))
    looked = castui(*args)
    assert looked.returncode == 3, looked.stderr
    cause = json.loads(looked.stdout)["symptoms"][0]["causes"][0]
    assert cause["verdict"] == "unknown" and "--no-terraform" in cause["reason"]
    told = castui(*args, "--no-terraform")
    assert told.returncode == 0, told.stderr
    cause = json.loads(told.stdout)["symptoms"][0]["causes"][0]
    assert cause["verdict"] == "ruled_out" and "not applicable" in cause["reason"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_lab_list(fmt: str) -> None:
    result = castui("lab", "list", "--format", fmt)
    assert result.returncode == 0
    if fmt == "json":
        listed = {s["name"]: set(s["confirms"]) for s in json.loads(result.stdout)}
        assert listed == {name: set(s.confirms) for name, s in SCENARIOS.items()}
    else:
        assert "healthy" in result.stdout and "confirms:" in result.stdout


def test_no_key_in_a_run_of_every_check_is_castuis_configuration_not_a_cast_ai_fault() -> None:
    """Guide v2 §3: the API checks are unknown ("no API key") and the run exits 3, never 1."""
    everything = castui("diagnose", "--lab", "api-key-missing", "--format", "json")
    assert everything.returncode == 3, everything.stderr
    causes = {c["id"]: c for s in json.loads(everything.stdout)["symptoms"] for c in s["causes"]}
    assert causes["api-key-missing"]["verdict"] == "unknown" and "no API key" in causes["api-key-missing"]["reason"]
    named = castui("diagnose", "--lab", "api-key-missing", "--symptom", "api-unauthorized", "--format", "json")
    assert named.returncode == 1
    causes = {c["id"]: c for s in json.loads(named.stdout)["symptoms"] for c in s["causes"]}
    assert causes["api-key-missing"]["verdict"] == "confirmed" and causes["api-key-missing"]["evidence"]
