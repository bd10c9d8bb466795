"""The in-cluster connectivity test creates a pod: it runs only with consent, reports what
the API answered from inside the cluster, and leaves nothing behind."""

from __future__ import annotations

from castui.diagnosis import CheckStatus
from castui.lab import start_lab
from tests.core.helpers import diagnose


def curl_check(diagnosis):
    return next(c for s in diagnosis.symptoms for c in s.checks if c.id == "in-cluster-curl")


def probe_pods(lab) -> list[str]:
    return [p["metadata"]["name"] for p in lab.cluster.state.items("pods") if "castui.io/probe" in (p["metadata"].get("labels") or {})]


def test_without_consent_the_active_check_is_skipped_and_creates_nothing() -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab, ["agent-disconnected"])
        created = [m for m, path in lab.cluster.state.request_log if m == "POST"]
    check = curl_check(diagnosis)
    assert check.status is CheckStatus.OK and "skipped" in (check.summary or "")
    assert created == []


def test_with_consent_it_reports_the_status_and_cleans_up() -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab, ["agent-disconnected"], active=True)
        assert probe_pods(lab) == []
        methods = [m for m, path in lab.cluster.state.request_log if path.endswith("/pods") or "/pods/castui-connectivity" in path]
    assert curl_check(diagnosis).summary == "HTTP 200"
    assert "POST" in methods and "DELETE" in methods


def test_blocked_egress_is_seen_from_inside_the_cluster() -> None:
    with start_lab("network-blocked") as lab:
        lab.cluster.agent_logs(lab.cluster.healthy_agent_logs())  # only the probe can tell now
        lab.cluster.state.objects["networkpolicies"] = []
        diagnosis = diagnose(lab, ["agent-disconnected"], active=True)
    cause = next(c for s in diagnosis.symptoms for c in s.causes if c.id == "network-blocked")
    assert cause.verdict == "confirmed" and "curl status 000" in cause.reason


def test_read_only_refuses_to_create_the_probe() -> None:
    with start_lab("healthy") as lab:
        diagnosis = diagnose(lab, ["agent-disconnected"], active=True, read_only=True)
        assert probe_pods(lab) == []
    check = curl_check(diagnosis)
    assert check.status is CheckStatus.FAILED and "read-only" in (check.reason or "")
