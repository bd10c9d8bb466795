"""`castui diagnose --format text` shows CAST AI's status page: operational, an incident, or "status page
unavailable" (HTML, 404, no answer) without the diagnosis failing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from castui import cli
from castui.lab import RunningLab, start_lab
from castui.lab.state import Fault

FLAGS = {"kubeconfig": "--kubeconfig", "context": "--context", "api_url": "--api-url", "helm_repo_url": "--helm-repo-url",
         "status_url": "--status-url", "terraform_dir": "--terraform-dir"}
MAJOR: dict[str, Any] = {
    "status": {"page": {"id": "castai"}, "status": {"indicator": "major", "description": "Partial System Outage"}},
    "incidents": {"page": {"id": "castai"}, "incidents": [
        {"id": "i1", "name": "Autoscaler actions delayed", "status": "identified", "impact": "major",
         "created_at": "2024-06-01T10:00:00Z", "shortlink": "https://stspg.io/abc"}]},
}


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningLab]:
    with start_lab("healthy") as running:
        monkeypatch.setenv("CASTAI_API_KEY", running.api_key or "")
        yield running


def diagnose_text(lab: RunningLab, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """`castui diagnose --format text` pointed at the lab the way a user points it at a cluster."""
    args = [arg for name, value in lab.settings_overrides().items() for arg in (FLAGS[name], str(value))]
    code = cli.main(["diagnose", "-s", "api-unauthorized", "--format", "text", *args, *extra])
    assert code == 0  # the status page never fails a diagnosis
    return capsys.readouterr().out


def status_line(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("CAST AI status page:"))
    return lines[start:start + 2]


def test_an_operational_page(lab: RunningLab, capsys: pytest.CaptureFixture[str]) -> None:
    assert status_line(diagnose_text(lab, capsys))[0] == "CAST AI status page: All Systems Operational"


def test_a_major_incident_is_shown_with_the_incident(lab: RunningLab, capsys: pytest.CaptureFixture[str]) -> None:
    lab.cluster.state.status_page = MAJOR
    first, second = status_line(diagnose_text(lab, capsys))
    assert first == "CAST AI status page: Partial System Outage"
    assert second == "  incident: Autoscaler actions delayed (identified, impact major)"


@pytest.mark.parametrize("page, why", [
    ({"html": "<!DOCTYPE html><html><body>CAST AI status</body></html>"}, "text/html instead of JSON"),
    (None, "404"),
])
def test_a_page_that_is_not_a_statuspage_is_unavailable(lab: RunningLab, capsys: pytest.CaptureFixture[str],
                                                       page: dict[str, Any] | None, why: str) -> None:
    lab.cluster.state.status_page = page
    line = status_line(diagnose_text(lab, capsys))[0]
    assert line.startswith("CAST AI status page: status page unavailable:") and why in line


def test_a_page_that_does_not_answer_is_unavailable(lab: RunningLab, capsys: pytest.CaptureFixture[str]) -> None:
    lab.cluster.state.faults.append(Fault(kind="hang", path="^/status/"))
    line = status_line(diagnose_text(lab, capsys, "--timeout", "0.5"))[0]
    assert line.startswith("CAST AI status page: status page unavailable:") and "no answer within 0.5s" in line
