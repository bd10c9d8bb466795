"""`scripts/screenshots.py`, run as the README says (the venv's python, the `screenshots` extra): it writes
the PNGs asked for and nothing else into the output directory (no stray SVG)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_screenshots_script_writes_only_the_pngs(tmp_path: Path) -> None:
    pytest.importorskip("cairosvg", reason="the `screenshots` extra is not installed")
    out = tmp_path / "shots"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out", str(out), "--size", "80x24",
                             "home"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["home.png"]
    assert (out / "home.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_picture_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out", str(tmp_path), "nope"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2 and "no picture called nope" in result.stderr and not any(tmp_path.iterdir())
