"""`castui diagnose` starts the cluster's first reads before it has imported its checks
(castui.engine.first_round): every one of them is a read the diagnosis makes anyway, taken by
the check that asks for it, so the cluster sees no extra request and the verdicts do not change."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from castui.lab import start_lab
from tests.core.helpers import castui, confirmed_ids, diagnose


@pytest.mark.parametrize("scenario", ["demo", "healthy"])
def test_reads_ahead_are_the_diagnosis_own_reads_and_change_no_verdict(scenario: str, tmp_path: Path) -> None:
    with start_lab(scenario) as lab:  # in this process: the session alone, nothing read ahead
        expected = confirmed_ids(diagnose(lab))
        alone = Counter(lab.server.state.request_log)
    with start_lab(scenario) as lab:  # the command, as a user runs it, against a fresh lab of the same scenario
        env = {**lab.environment(), "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}
        flags = ["--helm-repo-url", f"{lab.url}/helm-charts", "--status-url", f"{lab.url}/status",
                 "--terraform-dir", str(lab.terraform_dir), "--context", lab.cluster.context]
        done = castui("diagnose", "--format", "json", *flags, env=env)
        commanded = Counter(lab.server.state.request_log)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    document = json.loads(done.stdout)
    assert {c["id"] for s in document["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"} == expected
    assert commanded == alone  # no read ahead went untaken, none was made twice


def test_the_first_reads_wait_for_neither_httpx_asyncio_nor_the_checks() -> None:
    """What `castui diagnose` imports before it sends its first reads (its entry point, the settings, the
    Kubernetes transport and the list of reads) leaves httpx, asyncio and the decision tree for later: at a
    real cluster's latency (100 ms and more), every import before the first read is time added to
    the run; they are ~60 ms of CPU that now overlap the first round trips."""
    import subprocess
    import sys

    code = ("import json, sys; import castui.cli, castui.config, castui.clients.kube, castui.clients.kube_wire, "
            "castui.engine.first_round; print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout))
    assert "castui.engine.first_round" in loaded
    assert "httpx" not in loaded and "asyncio" not in loaded
    assert not {m for m in loaded if m == "castui.tree" or m.startswith("castui.tree.")}
