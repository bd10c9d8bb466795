"""`Session.execute` is the whole bookkeeping of running a fix, with no screen: it picks the API
call or the command, refuses what it must not run, streams the output, keeps the run (in the
session and the audit log), re-checks the fix's symptoms and says fixed / still confirmed /
evidence gathered. Against the lab over real HTTP, with the real kubectl."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from castui.clients.errors import ReadOnlyMode
from castui.diagnosis import CauseResult, CauseVerdict, Fix
from castui.engine.execute import FixEvent, FixOutcome, FixOutput, FixRan, FixRechecking, FixStatus, read_audit
from castui.engine.session import Session
from castui.lab import RunningLab, start_lab
from castui.lab.state import Fault
from tests.core.helpers import lab_settings


async def confirmed(session: Session, symptom_id: str, cause_id: str) -> CauseResult:
    diagnosis = await session.diagnose([symptom_id])
    cause = next(c for s in diagnosis.symptoms for c in s.causes if c.id == cause_id)
    assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None, cause
    return cause


def execute(lab: RunningLab, symptom_id: str, cause_id: str, *, fix: Fix | None = None, settings: Any = None,
            **options: Any) -> tuple[Session, FixOutcome, list[FixEvent]]:
    """Diagnose, then execute the cause's fix (or `fix`) on the same session, collecting its events."""
    events: list[FixEvent] = []

    async def run() -> tuple[Session, FixOutcome]:
        async with Session(settings or lab_settings(lab)) as session:
            cause = await confirmed(session, symptom_id, cause_id)
            chosen = fix or cause.fix
            assert chosen is not None
            return session, await session.execute(chosen, cause=cause, on_event=events.append, **options)

    session, outcome = asyncio.run(run())
    return session, outcome, events


def test_a_kubectl_fix_is_run_kept_rechecked_and_fixed() -> None:
    with start_lab("heartbeat-failing") as lab:
        session, outcome, events = execute(lab, "agent-disconnected", "heartbeat-failing")
    assert outcome.status is FixStatus.FIXED and outcome.changed
    assert outcome.before is CauseVerdict.CONFIRMED
    assert outcome.after is not None and outcome.after.verdict is CauseVerdict.RULED_OUT
    assert outcome.run is not None and outcome.run.ok and session.executions == [outcome.run]
    assert "rollout restart" in outcome.run.command and "--context castui-lab" in outcome.run.command
    # streamed as it ran: the command's output, then the run, then the re-check of the fix's symptoms
    kinds = [type(e) for e in events]
    assert kinds[-2:] == [FixRan, FixRechecking] and FixOutput in kinds[:-2]
    assert events[-1] == FixRechecking(("agent-disconnected",))
    assert any("restarted" in e.line for e in events if isinstance(e, FixOutput))
    assert outcome.recheck is not None and [s.id for s in outcome.recheck.symptoms] == ["agent-disconnected"]
    # the audit log (what the support report reads later) has the run and its re-check, next to each other
    audit = read_audit()
    assert [e["kind"] for e in audit] == ["command", "recheck"]
    assert audit[1]["after"] == outcome.run.command and audit[1]["still_confirmed"] == []


def test_an_api_fix_is_applied_through_the_client_and_verified() -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        session, outcome, events = execute(lab, "no-scale-up", "unschedulable-pods-disabled")
        enabled = lab.cluster.policies["unschedulablePods"]["enabled"]
    assert enabled is True
    assert outcome.status is FixStatus.FIXED and outcome.run is not None
    assert outcome.run.command.startswith("PUT /v1/kubernetes/clusters/")  # the API call, not the copyable curl
    assert any("unschedulablePods.enabled: False → True" in e.line for e in events if isinstance(e, FixOutput))
    assert [e["kind"] for e in read_audit()] == ["api", "recheck"]


def test_a_fix_that_does_not_take_is_still_confirmed() -> None:
    """network-blocked: restarting the agent leaves the NetworkPolicy, so the re-check says so."""
    restart = Fix(title="restart", recheck=["agent-disconnected"],
                  commands=[["kubectl", "rollout", "restart", "deployment/castai-agent", "-n", "castai-agent"]])
    with start_lab("network-blocked") as lab:
        _, outcome, _ = execute(lab, "agent-disconnected", "network-blocked", fix=restart)
    assert outcome.status is FixStatus.STILL_CONFIRMED and outcome.changed
    assert outcome.after is not None and outcome.after.verdict is CauseVerdict.CONFIRMED
    assert read_audit()[-1]["still_confirmed"] == ["network-blocked"]


def test_a_read_only_command_is_evidence_and_nothing_is_rechecked() -> None:
    with start_lab("eviction-storm") as lab:
        session, outcome, events = execute(lab, "evictor-aggressive", "eviction-storm")
    assert outcome.status is FixStatus.EVIDENCE and not outcome.changed
    assert outcome.recheck is None and outcome.after is None
    assert not any(isinstance(e, FixRechecking) for e in events)
    assert outcome.run is not None and outcome.run.ok and session.executions == [outcome.run]
    assert [e["kind"] for e in read_audit()] == ["command"]


def test_a_dry_run_changes_nothing_and_is_not_rechecked() -> None:
    with start_lab("missing-annotation") as lab:
        session, outcome, _ = execute(lab, "workload-autoscaler", "missing-annotation", dry_run=True)
        annotations = lab.cluster.get("deployments", "shop", "api")["metadata"].get("annotations") or {}
    assert outcome.status is FixStatus.DRY_RUN and not outcome.changed and outcome.recheck is None
    assert outcome.run is not None and outcome.run.dry_run and outcome.run.command.endswith("--dry-run=server")
    assert "workloads.cast.ai/configuration" not in annotations
    assert session.executions == [outcome.run]


def test_what_castui_will_not_run_is_refused_before_anything_runs() -> None:
    by_hand = Fix(title="drain", recheck=["agent-disconnected"], commands=[["kubectl", "drain", "<node-name>"]])
    key_in_argv = Fix(title="curl", commands=[["curl", "-H", "X-API-Key: ${CASTAI_API_KEY}", "https://example.invalid"]])
    with start_lab("heartbeat-failing") as lab:
        session, outcome, events = execute(lab, "agent-disconnected", "heartbeat-failing", fix=by_hand)
        plan = session.plan_fix(key_in_argv)
    assert outcome.status is FixStatus.REFUSED and outcome.run is None and "placeholder" in (outcome.refused or "")
    assert events == [] and session.executions == [] and read_audit() == []
    assert plan.refused is not None and "process list" in plan.refused


def test_the_confirmation_is_shown_what_really_runs() -> None:
    """The plan is what the confirmation shows: the context pinned, the key as a 0600 file, never in argv."""
    helm = Fix(title="upgrade", commands=[["helm", "upgrade", "castai-agent", "castai-helm/castai-agent",
                                           "--set", "apiKey=${CASTAI_API_KEY}"]])
    with start_lab("heartbeat-failing") as lab:
        settings = lab_settings(lab, context="castui-lab")
        plan = Session(settings).plan_fix(helm)
    assert plan.refused is None and plan.key_in_file and plan.runs is not None
    assert plan.runs[:3] == ("helm", "--kube-context", "castui-lab") and "--set-file" in plan.runs
    assert not any("${CASTAI_API_KEY}" in arg for arg in plan.runs)


def test_read_only_mode_refuses_in_the_session_and_changes_nothing() -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        with pytest.raises(ReadOnlyMode):
            execute(lab, "no-scale-up", "unschedulable-pods-disabled", settings=lab_settings(lab, read_only=True))
        enabled = lab.cluster.policies["unschedulablePods"]["enabled"]
    assert enabled is False and read_audit() == []


def test_a_cancelled_run_is_kept_and_verifies_nothing() -> None:
    with start_lab("heartbeat-failing") as lab:
        lab.server.state.faults.append(Fault("latency", path=r"/deployments/castai-agent$", method="PATCH", seconds=30))
        cancel = asyncio.Event()
        cancel.set()  # the user pressed escape: the command is killed, whenever it got to
        session, outcome, events = execute(lab, "agent-disconnected", "heartbeat-failing", cancel=cancel)
    assert outcome.status is FixStatus.CANCELLED and not outcome.changed and outcome.recheck is None
    assert outcome.run is not None and outcome.run.cancelled and session.executions == [outcome.run]
    assert not any(isinstance(e, FixRechecking) for e in events)


def test_a_context_now_pointing_elsewhere_fails_and_verifies_nothing(tmp_path: Path) -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(lab.kubeconfig.read_text())

        async def run() -> FixOutcome:
            async with Session(lab_settings(lab, kubeconfig=str(kubeconfig))) as session:
                cause = await confirmed(session, "no-scale-up", "unschedulable-pods-disabled")
                doc = yaml.safe_load(kubeconfig.read_text())
                doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"  # someone re-pointed the context
                kubeconfig.write_text(yaml.safe_dump(doc))
                assert cause.fix is not None
                return await session.execute(cause.fix, cause=cause)

        outcome = asyncio.run(run())
        enabled = lab.cluster.policies["unschedulablePods"]["enabled"]
    assert outcome.status is FixStatus.FAILED and outcome.recheck is None and not outcome.changed
    assert outcome.run is not None and "now points at https://127.0.0.1:1" in (outcome.run.error or "")
    assert enabled is False
