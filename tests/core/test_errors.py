"""Each error of the taxonomy, met on the way to the policies, ends as `unknown` with a
reason a person can act on; the checks that do not need the policies still complete."""

from __future__ import annotations

import re
import time

import pytest

from castui.diagnosis import CauseVerdict
from castui.lab import start_lab
from castui.lab.scenarios import build
from castui.lab.state import Fault
from tests.core.helpers import diagnose, verdicts

POLICIES = r"/policies$"

CASES = {
    "401": (Fault("status", path=POLICIES, status=401), "401 Unauthorized"),
    "403": (Fault("status", path=POLICIES, status=403), "403 Forbidden"),
    "404": (Fault("status", path=POLICIES, status=404), "404 Not Found"),
    "500": (Fault("status", path=POLICIES, status=500), "server error 500"),
    "429-persistent": (Fault("status", path=POLICIES, status=429, retry_after="1"), "429 Too Many Requests"),
    "hang": (Fault("hang", path=POLICIES), "no answer within"),
    "reset": (Fault("reset", path=POLICIES), "connection closed"),
    "invalid-json": (Fault("invalid-json", path=POLICIES), "JSON"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_api_error_on_policies_is_unknown_with_its_reason(case: str) -> None:
    fault, words = CASES[case]
    lab_cluster = build("healthy")
    lab_cluster.state.faults.append(fault)
    started = time.monotonic()
    with start_lab("healthy", cluster=lab_cluster) as lab:
        diagnosis = diagnose(lab, ["no-scale-up", "no-scale-down"], timeout=2)
    assert time.monotonic() - started < 20  # the hang is cut by --timeout, it does not wait forever
    cause = next(c for s in diagnosis.symptoms for c in s.causes if c.id == "unschedulable-pods-disabled")
    assert cause.verdict is CauseVerdict.UNKNOWN
    assert words.lower() in cause.reason.lower(), cause.reason
    assert "Traceback" not in cause.reason
    # checks that need no policies are unaffected
    assert verdicts(diagnosis)[("no-scale-down", "pdb-blocking-eviction")] is CauseVerdict.RULED_OUT
    assert diagnosis.exit_code == 3


def test_429_with_retry_after_is_retried_and_then_succeeds() -> None:
    lab_cluster = build("unschedulable-pods-disabled")
    lab_cluster.state.faults.append(Fault("status", path=POLICIES, status=429, retry_after="1", times=1))
    with start_lab("unschedulable-pods-disabled", cluster=lab_cluster) as lab:
        diagnosis = diagnose(lab, ["no-scale-up"])
    assert verdicts(diagnosis)[("no-scale-up", "unschedulable-pods-disabled")] is CauseVerdict.CONFIRMED


def test_closed_api_port_is_connection_refused() -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab, ["agent-disconnected"], api_url="http://127.0.0.1:9", timeout=3)
    status = next(c for s in diagnosis.symptoms for c in s.checks if c.id == "cluster-status")
    assert "connection refused" in (status.reason or "")
    # the Kubernetes side still answers
    assert verdicts(diagnosis)[("agent-disconnected", "agent-not-running")] is CauseVerdict.RULED_OUT


def test_unreachable_cluster_keeps_the_api_checks_going() -> None:
    with start_lab("healthy") as lab:
        kubeconfig = re.sub(r"server: \S+", "server: https://127.0.0.1:9", lab.kubeconfig.read_text())
        broken = lab.workdir / "broken-kubeconfig"
        broken.write_text(kubeconfig)
        diagnosis = diagnose(lab, ["agent-crashloop", "api-unauthorized"], kubeconfig=str(broken), timeout=3)
    pods = next(c for s in diagnosis.symptoms for c in s.checks if c.id == "agent-pods")
    assert pods.status == "failed" and "connection refused" in (pods.reason or "")
    assert verdicts(diagnosis)[("api-unauthorized", "api-key-invalid")] is CauseVerdict.RULED_OUT


def test_forbidden_on_one_resource_only_affects_its_checks() -> None:
    lab_cluster = build("healthy")
    with start_lab("healthy", cluster=lab_cluster) as lab:
        user = next(iter(lab_cluster.state.kube_tokens.values()))
        lab_cluster.state.kube_forbidden[user] = {"poddisruptionbudgets"}
        diagnosis = diagnose(lab, ["no-scale-down"])
    pdb = verdicts(diagnosis)[("no-scale-down", "pdb-blocking-eviction")]
    assert pdb is CauseVerdict.UNKNOWN
    reason = next(c.reason for s in diagnosis.symptoms for c in s.causes if c.id == "pdb-blocking-eviction")
    assert "forbidden" in reason.lower()
    assert verdicts(diagnosis)[("no-scale-down", "node-downscaler-disabled")] is CauseVerdict.RULED_OUT


def test_wrong_context_is_a_clear_usage_error() -> None:
    from tests.core.helpers import castui

    result = castui("diagnose", "--lab", "healthy", "--context", "no-such-context")
    assert result.returncode == 2
    assert "no-such-context" in result.stderr and "castui-lab" in result.stderr
    assert "Traceback" not in result.stderr
