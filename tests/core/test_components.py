"""The components' symptoms (8-10) never give an all-clear they did not earn: through the real
clients over HTTP, a part castui could not look at is unknown, and the run exits 3."""

from __future__ import annotations

from pathlib import Path

from castui.diagnosis import CauseVerdict, SymptomVerdict
from castui.lab import start_lab
from castui.lab.state import Fault
from tests.core.helpers import diagnose, verdicts


def test_a_500_from_the_workloads_api_is_unknown_not_confident() -> None:
    with start_lab("healthy") as lab:
        lab.server.state.faults.append(Fault("status", path=r"/workload-autoscaling/clusters/[^/]+/workloads$", status=500))
        diagnosis = diagnose(lab, ["workload-autoscaler"])
    symptom = diagnosis.symptoms[0]
    assert symptom.verdict is SymptomVerdict.UNKNOWN and "confident" not in symptom.summary
    assert verdicts(diagnosis)[("workload-autoscaler", "insufficient-metrics")] is CauseVerdict.UNKNOWN
    assert diagnosis.exit_code == 3


def test_terraform_drift_with_no_state_looked_at_is_unknown(tmp_path: Path) -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab, ["terraform-drift"], terraform_dir=str(tmp_path))
    assert diagnosis.symptoms[0].verdict is SymptomVerdict.UNKNOWN
    cause = diagnosis.symptoms[0].causes[0]
    assert cause.verdict is CauseVerdict.UNKNOWN and "--terraform-dir" in cause.reason
    assert diagnosis.exit_code == 3


def test_a_missing_workload_autoscaler_gets_install_guidance_never_a_restart() -> None:
    with start_lab("workload-autoscaler-not-installed") as lab:
        diagnosis = diagnose(lab, ["workload-autoscaler"])
    cause = next(c for c in diagnosis.symptoms[0].causes if c.id == "workload-autoscaler-not-running")
    assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
    assert cause.fix.commands == [] and "castai-workload-autoscaler-exporter" in (cause.fix.note or "")


def test_a_failed_release_is_rolled_back_to_its_last_deployed_revision() -> None:
    with start_lab("release-not-deployed") as lab:
        diagnosis = diagnose(lab, ["helm-mismatch"])
    cause = next(c for c in diagnosis.symptoms[0].causes if c.id == "release-not-deployed")
    assert cause.fix is not None and [unpinned(argv) for argv in cause.fix.commands] == [
        ["helm", "history", "castai-evictor", "-n", "castai-agent"],
        ["helm", "rollback", "castai-evictor", "3", "-n", "castai-agent"]]


def unpinned(argv: list[str]) -> list[str]:
    """The command without the target castui pins (`--kube-context NAME --kubeconfig PATH`)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--kube-context", "--kubeconfig", "--context"):
            skip = True
        else:
            out.append(arg)
    return out


def test_a_terraform_installed_release_gets_the_terraform_change_not_a_helm_command() -> None:
    with start_lab("terraform-release-not-deployed") as lab:
        diagnosis = diagnose(lab, ["helm-mismatch"])
    cause = next(c for c in diagnosis.symptoms[0].causes if c.id == "release-not-deployed")
    assert cause.verdict is CauseVerdict.CONFIRMED and cause.fix is not None
    assert cause.fix.commands == [] and "terraform apply" in (cause.fix.note or "")
