"""A command run in-process (as the fleet and CLI tests do) returns its exit code: castui's idle
Kubernetes threads, left from the run, are not mistaken for stalled reads that force the process out."""

from __future__ import annotations

import json
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


def test_the_command_ends_at_once_with_its_output_whole_and_exit_handlers_run(tmp_path: Path) -> None:
    # as the `castui` script calls it (argv from the command line): the process leaves without the
    # interpreter's teardown, so what must happen at a normal exit has to happen first
    code = textwrap.dedent("""
        import atexit, sys
        atexit.register(lambda: print("EXIT HANDLER RAN", file=sys.stderr))
        sys.argv = ["castui", "diagnose", "--lab", "demo", "--format", "json"]
        from castui.cli import main
        raise SystemExit(main())
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state"),
                               "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)})
    assert done.returncode == 1, done.stderr[-2000:]  # the demo lab confirms causes
    assert json.loads(done.stdout)["symptoms"], done.stdout[-500:]  # stdout flushed to its last byte
    assert "EXIT HANDLER RAN" in done.stderr
