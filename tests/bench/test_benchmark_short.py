"""The benchmark's short mode, end to end, so it cannot rot: it runs against the real lab, prints
every target of issue 18 with its ratio, min and median, and writes a result with every section.
Timings are the benchmark's business, not the test's: this checks what it printed and the shape of
what it wrote, and the one promise that is not a timing (the CLI's help imports neither kubernetes
nor textual)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
TARGETS = ("cold-0ms", "cold-50ms", "rerun-50ms", "scale", "fleet")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, str]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, str(RUN), "--short", "--out", str(out)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "latest.json").read_text()), (out / "latest.md").read_text(), done.stdout


def test_every_target_is_printed_with_its_ratio_min_and_median(short_run: tuple[dict, str, str]) -> None:
    results, _, printed = short_run
    assert [t["id"] for t in results["targets"]] == list(TARGETS)
    lines = [line for line in printed.splitlines() if line.strip().startswith("[")]
    assert len(lines) == len(TARGETS)
    for line in lines:
        assert "MET]" in line and "goal" in line and "min" in line and "median" in line
    assert sum("faster (median)" in line for line in lines) == 3  # the runbook comparisons are speed-ups
    assert "load average" in printed.splitlines()[0]


def test_comparisons_are_interleaved_samples_after_a_warm_up(short_run: tuple[dict, str, str]) -> None:
    results, _, _ = short_run
    assert results["schema"] == "castui.benchmark/v2" and results["mode"] == "short" and results["samples"] == 2
    assert {"nproc", "ram_gb", "python", "platform", "load_average_at_start", "load_average_at_end"} <= set(results["machine"])
    assert [r["latency_s"] for r in results["diagnose"]] == [0.0, 0.05]
    for run in results["diagnose"]:
        for side in ("castui_cli", "castui_rerun", "castui_rerun_app", "runbook"):
            assert len(run[side]["samples"]) == 2 and run[side]["min"] <= run[side]["median"]
        assert run["castui_cli"]["requests"] > 0 and run["runbook"]["commands"]
        assert run["same_verdicts"], "the CLI, the session and the app disagree"
        assert run["castui_cli"]["confirmed"], "the demo lab confirms causes"
        assert {"before", "after"} == set(run["load_average"])
        assert run["floor"]["floor_s"] > 0 and isinstance(run["floor_holds"], bool)
        # the bound any castui has: Python importing its libraries alone, in the same interleaved run
        for floor in run["import_floors"].values():
            assert len(floor["samples"]) == 2 and floor["runbook_over_it"]["median"] > 0
    big = results["big_cluster"]
    assert big["objects"]["pods"] >= 1000 and len(big["runs"]) == 2 and big["first_on_fresh_lab"] == big["runs"][0]
    fleet = results["fleet"]
    assert fleet["clusters"] == 3 and fleet["fleet"]["clusters_reported"] == 3 and fleet["fleet"]["flags"] == "(none)"
    assert len(fleet["fleet"]["samples"]) == len(fleet["one cluster"]["samples"]) == 2
    assert fleet["fleet"]["cpu_s"]["median"] > 0 and fleet["fleet"]["lab_cpu_s"]["median"] > 0
    assert len(results["app_start"]) == 2
    assert {"lines", "rows"} <= set(results["ui_load"]) or "skipped" in results["ui_load"]


def test_help_imports_neither_kubernetes_nor_textual(short_run: tuple[dict, str, str]) -> None:
    imports = short_run[0]["imports"]
    assert imports["imports_kubernetes"] is False and imports["imports_textual"] is False


def test_markdown_has_the_targets_tables_and_the_machine(short_run: tuple[dict, str, str]) -> None:
    markdown = short_run[1]
    assert "## Targets" in markdown and "| target | goal | result | met |" in markdown
    assert "CPUs" in markdown and "Python" in markdown and "load average" in markdown
    assert "## Fleet" in markdown and "## App start" in markdown and "## A big cluster" in markdown
