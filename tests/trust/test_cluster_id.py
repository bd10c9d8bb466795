"""The cluster id is outside text (an environment variable, a ConfigMap in the cluster): trimmed,
checked, and escaped into one path segment, so it can never name another API endpoint."""

from __future__ import annotations

import asyncio
import os
import sys
import subprocess
from pathlib import Path

import pytest

from castui.clients.castai import checked_cluster_id
from castui.engine.session import Session
from castui.errors import ConfigurationError
from castui.lab import start_lab
from castui.lab.scenarios import CLUSTER_ID, NS
from tests.core.helpers import lab_settings

TRAVERSAL = "a/../../auth/tokens"


def run_cli(lab: object, tmp_path: Path, cluster_id: str) -> subprocess.CompletedProcess[str]:
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in lab.settings_overrides().items()]  # type: ignore[attr-defined]
    env = {**os.environ, "CASTAI_API_KEY": str(lab.api_key), "CASTAI_CLUSTER_ID": cluster_id,  # type: ignore[attr-defined]
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run([sys.executable, "-m", "castui", "diagnose", "-s", "no-scale-up", "-f", "json", *flags],
                          capture_output=True, text=True, env=env, timeout=120)


def test_an_id_that_is_a_path_is_refused_before_any_request(tmp_path: Path) -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        result = run_cli(lab, tmp_path, TRAVERSAL)
        paths = [path for _, path in lab.server.state.request_log]
    assert result.returncode == 2 and "is not a CAST AI cluster id" in result.stderr and "Traceback" not in result.stderr
    assert not any("auth/tokens" in p or ".." in p for p in paths)


def test_an_id_with_spaces_around_it_is_trimmed(tmp_path: Path) -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        result = run_cli(lab, tmp_path, f"  {CLUSTER_ID}\n")
    assert result.returncode == 1, result.stderr  # the cause is found: the id worked
    assert f'"cluster_id": "{CLUSTER_ID}"' in result.stdout


def test_an_id_from_a_configmap_that_is_a_path_is_never_requested() -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        lab.cluster.get("configmaps", NS, "castai-agent-metadata")["data"]["CLUSTER_ID"] = TRAVERSAL

        async def run() -> object:
            async with Session(lab_settings(lab, cluster_id=None)) as session:
                return await session.diagnose(["no-scale-up"])

        asyncio.run(run())
        paths = [path for _, path in lab.server.state.request_log]
    assert not any("auth/tokens" in p or ".." in p or "%2F" in p for p in paths)


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "..", "a..b", "x" * 200, "id?x=1", "id#frag", "é"])
def test_what_is_not_an_id(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        checked_cluster_id(bad)
    assert checked_cluster_id(f" {CLUSTER_ID} ") == CLUSTER_ID
