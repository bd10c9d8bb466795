"""What castui writes is whole and never lands on something else by accident: suppressions
survive concurrent writers, a bundle does not overwrite a file without --force, `lab serve --dir`
does not write into a directory that holds files, and Markdown carries no raw HTML or markup
from outside."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from castui.lab import start_lab
from castui.lab.scenarios import build
from castui.report.markdown import render_markdown
from castui.report.redact import Redactor
from tests.core.helpers import diagnose

HTML = '<img src=x onerror="alert(1)">'


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_two_dozen_concurrent_suppressions_keep_every_record(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runs = [subprocess.Popen([sys.executable, "-m", "castui", "suppress", "chart-outdated", "--cluster", f"cluster-{i}",
                              "--reason", f"accepted {i}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for i in range(24)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
    records = json.loads((tmp_path / "state" / "castui" / "suppressions.json").read_text())
    assert sorted(r["cluster"] for r in records) == sorted(f"cluster-{i}" for i in range(24))
    assert not [p for p in (tmp_path / "state" / "castui").iterdir() if p.name.endswith(".partial")]


def test_a_bundle_does_not_overwrite_a_file_without_force(tmp_path: Path) -> None:
    existing = tmp_path / "notes.tar.gz"
    existing.write_text("my notes")
    run = subprocess.run([sys.executable, "-m", "castui", "bundle", "--lab", "healthy", "-o", str(existing)],
                         capture_output=True, text=True, env=env_for(tmp_path), timeout=120)
    assert run.returncode == 2 and "exists; use --force" in run.stderr
    assert existing.read_text() == "my notes"
    forced = subprocess.run([sys.executable, "-m", "castui", "bundle", "--lab", "healthy", "-o", str(existing), "--force"],
                            capture_output=True, text=True, env=env_for(tmp_path), timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert existing.read_bytes()[:2] == b"\x1f\x8b"  # now the bundle


def test_lab_serve_does_not_write_into_a_directory_with_files(tmp_path: Path) -> None:
    mine = tmp_path / "work"
    mine.mkdir()
    (mine / "kubeconfig").write_text("my own kubeconfig")
    run = subprocess.run([sys.executable, "-m", "castui", "lab", "serve", "healthy", "--dir", str(mine)],
                         capture_output=True, text=True, env=env_for(tmp_path), timeout=60)
    assert run.returncode == 2 and "not an empty directory" in run.stderr
    assert (mine / "kubeconfig").read_text() == "my own kubeconfig" and not (mine / "terraform").exists()


def test_markdown_escapes_everything_from_outside() -> None:
    cluster = build("unschedulable-pods-disabled")
    cluster.cluster["name"] = f"lab-eks {HTML} **bold** [link](https://evil.example) `code`"
    with start_lab("unschedulable-pods-disabled", cluster=cluster) as lab:
        text = render_markdown(diagnose(lab), Redactor())
    assert "<img" not in text and "&lt;img src=x" in text
    assert "\\*\\*bold\\*\\*" in text and "\\[link\\](https://evil.example)" in text
