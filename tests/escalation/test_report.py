"""`castui report`: the support hand-off: who and where, findings with evidence, what was tried and
how it went, the status page, the bundle's path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from castui import __version__, cli
from castui.engine.execute import apply_api_call, audit
from castui.lab import start_lab
from castui.lab.scenarios import CLUSTER_ID
from castui.support import build_report, open_session

from .conftest import settings_for


def test_the_report_after_a_fix_was_tried(tmp_path: Path) -> None:
    audit(kind="command", command="kubectl delete node x", target="context other, cluster 0000-other", exit_code=0)
    with start_lab("unschedulable-pods-disabled") as lab:
        async def journey() -> tuple[str, str]:
            async with open_session(settings_for(lab), lab) as session:
                diagnosis = await session.diagnose(with_status_page=True)
                cause = next(c for _, c in diagnosis.confirmed() if c.id == "unschedulable-pods-disabled")
                assert cause.fix is not None and cause.fix.api_call is not None
                result = await apply_api_call(session, cause.fix, target=session.audit_target())
                await session.recheck(cause.fix.recheck, after=result)
                after = await session.diagnose(with_status_page=True)
                return (build_report(session, diagnosis, "/tmp/castui-bundle.tar.gz"),
                        build_report(session, after, None, fmt="text"))

        markdown, text = asyncio.run(journey())

    assert markdown.startswith("# CAST AI support report\n")
    for fact in (f"**Cluster id:** {CLUSTER_ID}", "**Kube context:** castui-lab", "**Region:** eu-west-1",
                 f"**castui version:** {__version__}", "**Cluster name:** lab-eks"):
        assert fact in markdown
    findings = section(markdown, "## Findings")
    assert "`unschedulable-pods-disabled` confirmed (symptom `no-scale-up`)" in findings
    assert "  - `" in findings  # key evidence lines under the cause
    tried = section(markdown, "## Fixes tried")
    assert f"`PUT /v1/kubernetes/clusters/{CLUSTER_ID}/policies`: exit code 0" in tried  # the literal id
    assert "re-check after `PUT" in tried and "no-scale-up" in tried
    assert "kubectl delete node x" not in markdown  # another cluster's history stays out
    assert "All Systems Operational" in section(markdown, "## CAST AI status page")
    assert "`/tmp/castui-bundle.tar.gz`" in section(markdown, "## Debug bundle")

    # after the fix: the text format, for a plain-text ticket form
    assert text.startswith("CAST AI support report\n") and "**" not in text and "FINDINGS" in text
    assert "unschedulable-pods-disabled confirmed" not in text
    assert "none attached: run castui bundle" in text


def section(report: str, heading: str) -> str:
    after = report.split(heading + "\n", 1)[1]
    return after.split("\n## ", 1)[0]


def test_castui_report_prints_the_ticket_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--lab", "chart-outdated", "--bundle-path", "support.tar.gz"]) == 0
    out = capsys.readouterr().out
    assert "`chart-outdated` confirmed" in out and "castai-agent" in out and "`support.tar.gz`" in out


def test_a_report_on_a_replayed_bundle_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bundle", "--lab", "healthy", "-o", str(tmp_path / "b.tar.gz")]) == 0
    capsys.readouterr()
    assert cli.main(["report", "--format", "text", "--bundle", str(tmp_path / "b.tar.gz")]) == 0
    out = capsys.readouterr().out
    assert f"Replayed from: {tmp_path / 'b.tar.gz'} (captured" in out
    assert "castui found nothing wrong" in out
    assert str(tmp_path / "b.tar.gz") in section(out.replace("DEBUG BUNDLE", "## DEBUG BUNDLE"), "## DEBUG BUNDLE")


async def test_a_report_before_any_diagnosis_says_so() -> None:
    with start_lab("healthy") as lab:
        async with open_session(settings_for(lab), lab) as session:
            report = build_report(session, None)
    assert "- no diagnosis has finished yet" in report and "- not checked" in section(report, "## CAST AI status page")


def test_each_policy_cause_quotes_the_path_it_marks(capsys: pytest.CaptureFixture[str]) -> None:
    """Not the policies document's first two lines for every cause: the marked path and its value."""
    assert cli.main(["report", "--lab", "demo"]) == 0
    findings = section(capsys.readouterr().out, "## Findings")
    causes = [block for block in findings.split("\n- ") if " confirmed (symptom " in block]
    policy_causes = [block for block in causes if "= " in block]
    assert len(policy_causes) >= 2, findings
    quoted = [line for block in policy_causes for line in block.splitlines() if line.startswith("  - `") and " = " in line]
    assert len(set(quoted)) == len(quoted), "each cause quotes its own path"
    assert any("unschedulablePods.enabled = false" in line for line in quoted), quoted
    assert not any(line.strip() in ("- `policies: {`", "- `{`") for block in causes for line in block.splitlines())


def test_the_bundle_suggests_a_report_command_that_uses_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "b.tar.gz"
    assert cli.main(["bundle", "--lab", "chart-outdated", "-o", str(bundle)]) == 0
    said = capsys.readouterr()
    suggestion = f"castui report --bundle {bundle}"
    assert suggestion in said.out + said.err and "--bundle-path" not in said.out + said.err
    assert cli.main(suggestion.split()[1:]) == 0
    out = capsys.readouterr().out
    assert f"**Replayed from:** {bundle}" in out and "`chart-outdated` confirmed" in out



def test_the_report_names_a_latent_risk_and_never_calls_it_nothing_wrong() -> None:
    with start_lab("agent-chart-behind") as lab:
        async def report() -> str:
            async with open_session(settings_for(lab), lab) as session:
                return build_report(session, await session.diagnose(), None)

        markdown = asyncio.run(report())
    findings = section(markdown, "## Findings")
    assert "`chart-outdated` latent risk, its symptom not observed (symptom `helm-mismatch`)" in findings
    assert "found nothing wrong" not in findings
