"""A command run in-process (as the fleet and CLI tests do) returns its exit code: castui's idle
Kubernetes threads, left from the run, are not mistaken for stalled reads that force the process out."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_in_process_returns_and_the_caller_goes_on(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import sys
        from castui.cli import main
        first = main(["diagnose", "--lab", "demo", "--format", "json"])
        second = main(["diagnose", "--lab", "healthy", "--format", "json"])  # a fresh pool after the first's end
        print("STILL HERE", first, second, file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state"),
                               "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)})
    assert "STILL HERE 1 0" in done.stderr, done.stderr[-2000:]
