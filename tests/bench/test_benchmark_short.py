"""The benchmark's short mode, end to end, so it cannot rot: it runs against the real lab and
writes a result with every section. Timings are the benchmark's business, not the test's:
this checks the shape of what it wrote, and the one promise that is not a timing (the CLI's
help imports neither kubernetes nor textual)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, str(RUN), "--short", "--out", str(out)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "latest.json").read_text()), (out / "latest.md").read_text()


def test_short_mode_measures_every_section(short_run: tuple[dict, str]) -> None:
    results, _ = short_run
    assert results["schema"] == "castui.benchmark/v1" and results["mode"] == "short"
    assert {"nproc", "ram_gb", "python", "platform"} <= set(results["machine"])
    assert {"imports", "diagnose", "app_start", "ui_load", "fleet", "duration_s"} <= set(results)
    assert [(r["size"], r["latency_s"]) for r in results["diagnose"]] == [("small", 0.0), ("small", 0.05)]
    for run in results["diagnose"]:
        assert {"castui_in_process", "castui_cli", "baseline", "lower_bound", "ratios", "same_verdicts"} <= set(run)
        assert {"wall_s", "requests", "peak_rss_mb", "confirmed"} <= set(run["castui_in_process"])
        assert {"wall_s", "requests", "peak_rss_mb", "confirmed", "exit_code"} <= set(run["castui_cli"])
        assert {"wall_s", "commands", "skipped", "failed"} <= set(run["baseline"])
        assert {"cli_vs_baseline", "in_process_vs_baseline", "in_process_vs_lower_bound"} <= set(run["ratios"])
        assert run["castui_in_process"]["requests"] > 0 and run["baseline"]["commands"]
        assert run["same_verdicts"], "the CLI and the session disagree"
        assert run["castui_cli"]["confirmed"], "the demo lab confirms causes"
    assert len(results["app_start"]) == 2
    assert {"lines", "rows"} <= set(results["ui_load"]) or "skipped" in results["ui_load"]
    fleet = results["fleet"]
    assert {"one cluster", "all at once", "default (--parallel 8)", "all at once, one process"} == set(fleet["runs"])
    for label, run in fleet["runs"].items():
        if label != "one cluster":
            assert run["clusters_reported"] == fleet["clusters"] == 3 and run["vs_one"]
    assert fleet["runs"]["all at once, one process"]["processes"] == 1
    assert fleet["fleet_vs_one"] == fleet["runs"]["all at once"]["vs_one"]


def test_help_imports_neither_kubernetes_nor_textual(short_run: tuple[dict, str]) -> None:
    imports = short_run[0]["imports"]
    assert imports["imports_kubernetes"] is False and imports["imports_textual"] is False


def test_markdown_has_the_tables_and_the_machine(short_run: tuple[dict, str]) -> None:
    markdown = short_run[1]
    assert "| lab | latency | in-process |" in markdown
    assert "CPUs" in markdown and "Python" in markdown
    assert "## Fleet" in markdown and "## App start" in markdown
