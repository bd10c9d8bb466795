"""When the cluster or the API misbehaves, castui says which checks it could not
run and why, finishes the others, stays within its timeout and its memory, and
never shows a traceback.

Each case injects one fault into the healthy lab, on the path of one thing castui
reads, and compares the run with a fault-free one: exactly the checks that read
that thing end "could not check" with a precise reason; every other check comes
out as it did without the fault.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from castui.diagnosis import CheckStatus, Diagnosis
from castui.lab import RunningLab, start_lab
from castui.lab.scenarios import CLUSTER_ID, build
from castui.lab.state import Fault
from castui.report.redact import Redactor
from castui.report.text import render_text
from tests.core.helpers import castui
from tests.trust.helpers import (
    agent_log_text,
    checks_of,
    diagnose_with_facts,
    failed_checks,
    lab_flags,
    peak_rss_growth_mib,
)

TIMEOUT = 1.5
#: every lab of this module is built at the same moment, so fault-free summaries compare equal
BUILT_AT = datetime.now(timezone.utc).replace(microsecond=0)
#: a run with a fault must end within this: the timeout for the stuck call, plus a run's own
#: work, plus slack for a busy 2-core CI machine
WALL_LIMIT = TIMEOUT * 2 + 8
#: how far a run's peak memory may rise above where it started (a fault-free run: ~20 MiB)
MEMORY_LIMIT_MIB = 150

# --- what castui reads, and the checks that read it --------------------------------------------


@dataclass(frozen=True)
class Target:
    path: str  # regular expression over the request path
    checks: frozenset[str]  # "symptom/check" that read it
    what: str  # how castui's message names the read


NODES = Target(r"^/api/v1/nodes$", frozenset({"agent-crashloop/node-clouds", "no-scale-down/nodes", "no-scale-down/named-nodes",
                                              "no-scale-up/cluster-cpu"}),
               "list nodes")
EVENTS = Target(r"^/api/v1/events$", frozenset({"evictor-aggressive/evictions", "evictor-aggressive/castai-events",
                                               "no-scale-down/pod-stops"}), "list events in all namespaces")
NETWORK_POLICIES = Target(r"/namespaces/castai-agent/networkpolicies$",
                          frozenset({"agent-crashloop/network-policies", "agent-disconnected/network-policies"}),
                          "list networkpolicies in castai-agent")
AGENT_LOGS = Target(r"^/api/v1/namespaces/castai-agent/pods/castai-agent-[^/]+/log$",
                    frozenset({"agent-crashloop/agent-logs", "agent-disconnected/agent-logs", "workload-autoscaler/agent-logs"}),
                    "read the log of pod castai-agent/")
TEMPLATES = Target(r"/node-templates$", frozenset({"no-scale-up/node-templates", "spot-fallback/node-templates"}),
                   f"list node templates of cluster {CLUSTER_ID}")
WORKLOADS = Target(r"/workloads$", frozenset({"workload-autoscaler/recommendations"}),
                   f"list workload autoscaler workloads of cluster {CLUSTER_ID}")
TOKENS = Target(r"^/v1/auth/tokens$", frozenset({"api-unauthorized/api-key-details"}), "list CAST AI API keys")
HELM_INDEX = Target(r"^/helm-charts/index\.yaml$", frozenset({"helm-mismatch/chart-index"}), "read the Helm repository index")
NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Case:
    id: str
    fault: Fault
    target: Target
    #: what the reason of each affected check must say (a regex); None: no check may be affected
    reason: str | None


CASES = [
    # added latency below the timeout changes nothing; above it, the call times out
    Case("latency-under-timeout-kube", Fault("latency", seconds=0.3), NODES, None),
    Case("latency-under-timeout-api", Fault("latency", seconds=0.3), TEMPLATES, None),
    Case("latency-past-timeout-kube", Fault("latency", seconds=TIMEOUT + 3), NODES, rf"(did not answer|no answer) within {TIMEOUT:g}s"),
    Case("latency-past-timeout-api", Fault("latency", seconds=TIMEOUT + 3), WORKLOADS, rf"no answer within {TIMEOUT:g}s"),
    # a server that accepts the request and never answers
    Case("hang-kube", Fault("hang"), EVENTS, rf"(did not answer|no answer) within {TIMEOUT:g}s"),
    Case("hang-api", Fault("hang"), TEMPLATES, rf"no answer within {TIMEOUT:g}s"),
    Case("hang-helm-repo", Fault("hang"), HELM_INDEX, rf"no answer within {TIMEOUT:g}s"),
    # the connection drops halfway through the body
    Case("reset-kube", Fault("reset"), NODES, r"closed mid-response"),
    Case("reset-kube-log", Fault("reset"), AGENT_LOGS, r"closed mid-response"),
    Case("reset-api", Fault("reset"), WORKLOADS, r"closed mid-response"),
    Case("reset-helm-repo", Fault("reset"), HELM_INDEX, r"closed mid-response"),
    # bodies that are not the JSON they claim to be
    Case("truncated-json-kube", Fault("truncated-json"), NODES, r"invalid JSON"),
    Case("truncated-json-api", Fault("truncated-json"), TEMPLATES, r"invalid JSON"),
    Case("invalid-json-kube", Fault("invalid-json"), EVENTS, r"invalid JSON"),
    Case("invalid-json-api", Fault("invalid-json"), TOKENS, r"invalid JSON"),
    # rate limiting: 429 with Retry-After, then success; both clients wait and ask again
    Case("429-then-success-kube", Fault("status", status=429, retry_after="1", times=1), NODES, None),
    Case("429-then-success-api", Fault("status", status=429, retry_after="1", times=1), TEMPLATES, None),
    Case("429-for-good-kube", Fault("status", status=429, retry_after="1"), NODES,
         r"429 Too Many Requests; the server asked to wait 1s"),
    Case("429-for-good-api", Fault("status", status=429, retry_after="1"), WORKLOADS,
         r"429 Too Many Requests; the server asked to wait 1s"),
    # server errors (502 and 503 are retried first, then reported)
    Case("500-kube", Fault("status", status=500), NODES, r"server error 500"),
    Case("500-api", Fault("status", status=500), TOKENS, r"server error 500"),
    Case("502-api", Fault("status", status=502), TEMPLATES, r"server error 502"),
    Case("503-kube", Fault("status", status=503), NETWORK_POLICIES, r"server error 503"),
    Case("503-helm-repo", Fault("status", status=503), HELM_INDEX, r"server error 503"),
    # refused on one resource only
    Case("403-api-one-path", Fault("status", status=403), WORKLOADS, r"403 Forbidden"),
    Case("401-api-one-path", Fault("status", status=401), TOKENS, r"401 Unauthorized"),
]


def healthy_lab() -> RunningLab:
    return start_lab("healthy", cluster=build("healthy", now=BUILT_AT))


@pytest.fixture(scope="module")
def fault_free() -> Diagnosis:
    with healthy_lab() as lab:
        diagnosis, _ = diagnose_with_facts(lab, timeout=TIMEOUT)
    assert failed_checks(diagnosis) == {}
    return diagnosis


def assert_only_these_checks_failed(diagnosis: Diagnosis, fault_free: Diagnosis, affected: frozenset[str], reason: str) -> None:
    failed = failed_checks(diagnosis)
    assert set(failed) == set(affected), f"expected exactly {sorted(affected)} to fail, got {failed}"
    for key, why in failed.items():
        assert re.search(reason, why), f"{key}: {why!r} does not say {reason!r}"
    before = checks_of(fault_free)
    for key, check in checks_of(diagnosis).items():
        if key not in affected:
            assert (check.status, check.summary) == (before[key].status, before[key].summary), key


def assert_readable(diagnosis: Diagnosis) -> None:
    """The outputs a person reads: no traceback, no Python exception names."""
    for output in (render_text(diagnosis, Redactor()), json.dumps(diagnosis.to_json_dict())):
        assert "Traceback" not in output
        assert not re.search(r"unexpected [A-Z]\w+(Error|Exception)", output), output


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_fault_makes_exactly_the_checks_that_read_it_unknown(case: Case, fault_free: Diagnosis) -> None:
    with healthy_lab() as lab:
        lab.server.state.faults.append(dataclasses.replace(case.fault, path=case.target.path))
        started = time.monotonic()
        (diagnosis, _), grew_mib = peak_rss_growth_mib(lambda: diagnose_with_facts(lab, timeout=TIMEOUT))
        took = time.monotonic() - started
    assert took < WALL_LIMIT, f"the run took {took:.1f}s with a {TIMEOUT}s timeout"
    assert grew_mib < MEMORY_LIMIT_MIB, f"peak memory grew by {grew_mib:.0f} MiB"
    if case.reason is None:
        assert_only_these_checks_failed(diagnosis, fault_free, NOTHING, "")
    else:
        assert_only_these_checks_failed(diagnosis, fault_free, case.target.checks, case.reason)
        for why in failed_checks(diagnosis).values():
            assert why.startswith(case.target.what), why  # names what it could not read
    assert_readable(diagnosis)


def test_a_resource_the_user_may_not_read_is_reported_as_forbidden(fault_free: Diagnosis) -> None:
    with healthy_lab() as lab:
        lab.server.state.kube_forbidden = {"lab-admin": {"networkpolicies"}}
        diagnosis, _ = diagnose_with_facts(lab, timeout=TIMEOUT)
    assert_only_these_checks_failed(diagnosis, fault_free, NETWORK_POLICIES.checks,
                                    r'list networkpolicies in castai-agent: 403 Forbidden: .*User "lab-admin" cannot list')
    assert_readable(diagnosis)


def test_an_expired_kube_token_fails_the_cluster_checks_and_leaves_the_api_checks(fault_free: Diagnosis) -> None:
    with healthy_lab() as lab:
        lab.server.state.kube_tokens = {"a-token-castui-does-not-have": "someone-else"}
        diagnosis, _ = diagnose_with_facts(lab, timeout=TIMEOUT, cluster_id=CLUSTER_ID)
    failed = failed_checks(diagnosis)
    assert {"agent-crashloop/agent-pods", "no-scale-up/pending-pods", "helm-mismatch/helm-releases"} <= set(failed)
    for why in failed.values():
        assert "401 Unauthorized (the credentials were rejected or have expired)" in why, why
    before = checks_of(fault_free)
    for key in ("no-scale-up/policies", "spot-fallback/node-templates", "api-unauthorized/api-cluster-list",
                "workload-autoscaler/recommendations", "helm-mismatch/chart-index", "terraform-drift/policies"):
        assert key not in failed
        assert checks_of(diagnosis)[key].summary == before[key].summary
    assert_readable(diagnosis)


# --- log bodies -----------------------------------------------------------------------------------


def test_a_log_that_is_not_utf8_is_read_with_replacement_characters() -> None:
    with healthy_lab() as lab:
        lab.server.state.faults.append(Fault("non-utf8-log", path=AGENT_LOGS.path))
        diagnosis, facts = diagnose_with_facts(lab, timeout=TIMEOUT)
    assert failed_checks(diagnosis) == {}
    text = agent_log_text(facts)
    assert text.startswith("starting agent\n") and "\ufffd" in text and text.endswith("ready\n")
    assert_readable(diagnosis)


@pytest.mark.parametrize("fault", [Fault("huge-log", size=100 * 1024 * 1024), Fault("long-line", size=1024 * 1024)],
                         ids=["100MB-log", "1MB-line"])
def test_an_enormous_log_is_read_only_up_to_the_cap(fault: Fault) -> None:
    """The lab streams the body and ignores tailLines and limitBytes, as a broken proxy might:
    castui stops reading at its own cap (2 MB) instead of holding 100 MB."""
    with healthy_lab() as lab:
        lab.server.state.faults.append(dataclasses.replace(fault, path=AGENT_LOGS.path))
        started = time.monotonic()
        (diagnosis, facts), grew_mib = peak_rss_growth_mib(lambda: diagnose_with_facts(lab, timeout=10))
        took = time.monotonic() - started
    assert failed_checks(diagnosis) == {}
    text = agent_log_text(facts)
    assert 0 < len(text.encode()) <= 2_000_000
    if fault.kind == "long-line":
        assert max(len(line) for line in text.splitlines()) == fault.size - 1
    assert grew_mib < MEMORY_LIMIT_MIB, f"peak memory grew by {grew_mib:.0f} MiB"
    assert took < 20, f"reading the log took {took:.1f}s"
    assert_readable(diagnosis)


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault,target", [(Fault("hang"), EVENTS), (Fault("reset"), WORKLOADS)], ids=["hang", "reset"])
def test_castui_diagnose_reports_a_fault_without_a_traceback(fault: Fault, target: Target) -> None:
    with healthy_lab() as lab:
        lab.server.state.faults.append(dataclasses.replace(fault, path=target.path))
        started = time.monotonic()
        result = castui("diagnose", *lab_flags(lab), "--timeout", str(TIMEOUT), env={"CASTAI_API_KEY": lab.api_key or ""})
        took = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""
    for check in sorted(target.checks):
        assert f"? could not check {check.split('/')[1]}: " in result.stdout
    assert took < WALL_LIMIT + 5


def test_the_fault_free_run_is_the_baseline(fault_free: Diagnosis) -> None:
    assert all(c.status is CheckStatus.OK for c in checks_of(fault_free).values())
