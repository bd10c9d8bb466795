"""The README documents every public id; a canary API key never reaches any output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from castui.lab import start_lab
from castui.lab.scenarios import build
from castui.tree import SYMPTOMS
from tests.conftest import CANARY_KEY
from tests.core.helpers import castui

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_readme_lists_every_symptom_and_cause_id() -> None:
    for symptom in SYMPTOMS:
        assert f"`{symptom.id}`" in README
        for cause in symptom.causes:
            assert f"`{cause.id}`" in README


def test_readme_opens_with_the_two_commands() -> None:
    head = README.split("---")[0]
    assert "./scripts/setup && .venv/bin/castui --lab" in head and "./scripts/test" in head


@pytest.mark.parametrize("accepted", [True, False])
def test_canary_key_never_appears_in_any_format(accepted: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cluster = build("demo")
    # the canary is castui's own key: accepted by the lab, or rejected with 401
    cluster.state.castai.api_keys[CANARY_KEY] = {"status": 200 if accepted else 401}
    with start_lab("demo", cluster=cluster) as lab:
        for fmt in ("text", "markdown", "json"):
            result = castui("diagnose", "--format", fmt, "--kubeconfig", str(lab.kubeconfig), "--context", "castui-lab",
                            "--api-url", lab.url, "--helm-repo-url", f"{lab.url}/helm-charts", "--status-url", f"{lab.url}/status",
                            env={"CASTAI_API_KEY": CANARY_KEY})
            assert result.returncode in (1, 3), result.stderr
            assert CANARY_KEY not in result.stdout and CANARY_KEY not in result.stderr
            if fmt == "json":
                json.loads(result.stdout)
    assert CANARY_KEY not in caplog.text
