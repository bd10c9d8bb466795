"""Hypothesis profiles for the property-based trust tests.

By default (and in CI) every property runs a fixed, derandomized set of examples, so
a run is reproducible and takes seconds. For a longer, random hunt locally:

    CASTUI_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/trust/test_parsers_fuzz.py

(the failing example Hypothesis prints is the thing to turn into a regular test).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_examples = os.environ.get("CASTUI_FUZZ_EXAMPLES")
settings.register_profile(
    "castui-fuzz",
    max_examples=int(_examples) if _examples else 50,
    derandomize=not _examples,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
FUZZ = settings.get_profile("castui-fuzz")


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bin directory first on PATH (then the venv's, for the pinned kubectl) for stand-in commands."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]))
    return bin_dir
