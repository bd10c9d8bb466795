"""Target flags mean the same before and after the command, or castui refuses them: a script
never gets a clean bill of health for a cluster it did not name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from castui.lab.fleet import RunningFleet, start_fleet
from tests.core.helpers import castui

SCENARIOS = ("healthy", "demo", "heartbeat-failing")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningFleet]:
    with start_fleet(SCENARIOS, workdir=tmp_path_factory.mktemp("fleet")) as running:
        yield running


def run(fleet: RunningFleet, tmp_path: Path, *args: str) -> tuple[int, Any, str]:
    env = {**fleet.environment(), "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "CASTAI_CLUSTER_ID": ""}
    (tmp_path / "config" / "castui").mkdir(parents=True, exist_ok=True)  # the fleet's Helm index and status page
    (tmp_path / "config" / "castui" / "config.toml").write_text(
        f'helm_repo_url = "{fleet.api_url}/helm-charts"\nstatus_url = "{fleet.api_url}/status"\n')
    result = castui(*args, env=env)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout) if result.stdout.startswith("{") else None, result.stderr


def confirmed(diagnosis: dict[str, Any]) -> set[str]:
    return {c["id"] for s in diagnosis["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"}


def test_context_before_the_command_is_the_context_after_it(fleet: RunningFleet, tmp_path: Path) -> None:
    before = run(fleet, tmp_path, "--context", "lab-demo", "diagnose", "-f", "json")
    after = run(fleet, tmp_path, "diagnose", "--context", "lab-demo", "-f", "json")
    for code, document, _ in (before, after):
        assert code == 1 and document["target"]["context"] == "lab-demo"
    assert confirmed(before[1]) == confirmed(after[1]) != set()


def test_lab_and_all_contexts_before_the_command_apply(fleet: RunningFleet, tmp_path: Path) -> None:
    code, document, _ = run(fleet, tmp_path, "--lab", "healthy", "diagnose", "-f", "json")
    assert document["target"]["lab"] == "healthy" and document["target"]["context"] == "castui-lab"
    code, document, _ = run(fleet, tmp_path, "--all-contexts", "diagnose", "-f", "json", "--processes", "1")
    assert document["schema"].startswith("castui.fleet/") and [c["context"] for c in document["clusters"]] == fleet.contexts
    code, document, _ = run(fleet, tmp_path, "--context", "lab-healthy", "diagnose", "--context", "lab-demo", "-f", "json",
                            "--processes", "1")
    assert [c["context"] for c in document["clusters"]] == ["lab-healthy", "lab-demo"]  # repeatable flags add up


@pytest.mark.parametrize(("args", "words"), [
    (("--context", "lab-demo", "lab", "list"), "--context does not apply to `castui lab`"),
    (("--lab", "demo", "suppress", "--list"), "--lab does not apply to `castui suppress`"),
    (("--all-contexts", "bundle"), "`castui bundle` works on one cluster: --all-contexts"),
    (("--timeout", "3", "diagnose", "--timeout", "4"), "--timeout is given before and after the command"),
    (("--context", "lab-demo", "report", "--context", "lab-healthy"), "--context is given before and after the command"),
])
def test_a_flag_that_cannot_apply_is_refused(fleet: RunningFleet, tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    code, _, stderr = run(fleet, tmp_path, *args)
    assert code == 2 and words in stderr
