"""A production run never loads the lab: `castui diagnose` on a kubeconfig imports no `castui.lab`."""

from __future__ import annotations

import json
import subprocess
import sys

from castui.lab import start_lab
from castui.lab.scenarios import SCENARIOS


def test_diagnose_on_a_kubeconfig_never_imports_the_lab() -> None:
    with start_lab("demo") as lab:  # started here, not by --lab: the run sees only a kubeconfig and URLs
        flags = [f"--{name.replace('_', '-')}={value}" for name, value in lab.settings_overrides().items()]
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "castui", "diagnose", "--format", "json", *flags],
            capture_output=True, text=True, timeout=120,
            env={**_clean_env(), "CASTAI_API_KEY": lab.api_key or ""},
        )
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert "castui.engine.session" in imported, result.stderr[-2000:]  # the run did load production code
    assert [name for name in imported if name == "castui.lab" or name.startswith("castui.lab.")] == []
    confirmed = {c["id"] for s in json.loads(result.stdout)["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"}
    assert result.returncode == 1 and confirmed == set(SCENARIOS["demo"].confirms)


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("CASTAI_", "KUBECONFIG"))}
