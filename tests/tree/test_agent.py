"""The agent's judges (guide v2 §1-§2) on recorded observations: one rule, one line each.

Several tests are the v1 false alarms from issue 14: each would fail on the v1 judges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.diagnosis import CauseVerdict
from castui.tree.agent_checks import (
    DELTA_SENT,
    NETWORK_FAILURE,
    judge_invalid_api_key,
    judge_network_blocked,
)
from castui.tree.agent_crashloop import (
    judge_cloud_metadata,
    judge_oomkilled,
    judge_rbac_missing,
    judge_wrong_provider,
)
from castui.tree.agent_crashloop import (
    observe as observe_crashloop,
)
from castui.tree.agent_disconnected import (
    judge_agent_not_running,
    judge_heartbeat_failing,
)
from castui.tree.agent_disconnected import observe as observe_disconnected
from castui.tree.logs import parse_line, persistent
from tests.tree.judges import NOW, observations, verdict

CONFIRMED, LATENT, RULED_OUT, UNKNOWN = (CauseVerdict.CONFIRMED, CauseVerdict.LATENT, CauseVerdict.RULED_OUT,
                                         CauseVerdict.UNKNOWN)
LEADER, FOLLOWER = "3f6c9a52-8d1e-4b7a-9c2f-0e5d7b8a1c64", "b81d7e09-2c4a-4f3e-8a6b-5d9c0e1f2a37"


def line(seconds_ago: int, level: str, msg: str, **fields: str) -> str:
    moment = (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = "".join(f" {k}={v}" for k, v in sorted(fields.items()))
    return f'time="{moment}" level={level} msg="{msg}"{extra}'


def every(msg: str, *, level: str = "error", cycles: int = 6) -> list[str]:
    """`msg` once per 15 s cycle, oldest first."""
    return [line(15 * i, level, msg) for i in reversed(range(cycles))]


def logs(*replicas: dict[str, Any], leader: str | None = None) -> dict[str, Any]:
    filled = [{"pod": f"castai-agent-{i}", "crashlooping": False, "restarts": 0, "current": [], "previous": [],
               "errors": [], "leader": False, **r} for i, r in enumerate(replicas)]
    for replica in filled:
        replica["leader"] = replica["pod"] == leader
    return {"replicas": filled, "leader": leader, "holder": None, "lease_note": None,
            "pod": filled[0]["pod"] if filled else None, "current": [], "previous": []}


def pod(name: str = "castai-agent-0", *, waiting: str | None = None, last: str | None = None, finished_ago: int = 120,
        ready: bool = True) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2026-12-01T00:00:00Z"}}
    status: dict[str, Any] = {"name": "agent", "ready": ready, "restartCount": 3 if last else 0, "state": state}
    if last:
        finished = (NOW - timedelta(seconds=finished_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status["lastState"] = {"terminated": {"reason": last, "exitCode": 1, "finishedAt": finished}}
    return {"metadata": {"name": name}, "status": {
        "phase": "Running", "containerStatuses": [status],
        "conditions": [{"type": "Ready", "status": "True" if ready and not waiting else "False"}]}}


# --- the log rules ----------------------------------------------------------------------------

def test_three_transport_retries_before_a_success_are_not_evidence() -> None:
    lines = [parse_line(x) for x in [line(40, "warning", "failed sending delta request: dial tcp: i/o timeout")] * 3
             + [line(38, "info", "delta upload finished")]]
    assert persistent(lines, NETWORK_FAILURE, DELTA_SENT) == []


def test_a_failure_in_one_cycle_is_transient_and_across_cycles_persistent() -> None:
    once = [parse_line(line(10, "error", "failed sending delta: Post \\\"x\\\": dial tcp 1.2.3.4:443: i/o timeout"))]
    assert persistent(once, NETWORK_FAILURE, DELTA_SENT) == []
    twice = [parse_line(x) for x in every("failed sending delta: Post x: dial tcp 1.2.3.4:443: i/o timeout", cycles=3)]
    assert persistent(twice, NETWORK_FAILURE, DELTA_SENT) == [0, 1, 2]


# --- agent-crashloop ------------------------------------------------------------------------------

def test_crashloop_is_observed_from_the_past_hour_not_the_lifetime_restart_count() -> None:
    assert observe_crashloop(observations({"agent-pods": [pod(waiting="CrashLoopBackOff")]})).observed is True
    assert observe_crashloop(observations({"agent-pods": [pod(last="Error", finished_ago=600)]})).observed is True
    assert observe_crashloop(observations({"agent-pods": [pod(last="Error", finished_ago=3 * 3600)]})).observed is False


def test_invalid_key_from_the_registration_exit_line_current_and_pre_2024() -> None:
    for exit_line in ('registering cluster: request error status_code=401 body=Unauthorized',
                      'agent failed: registering cluster: request error status_code=401 body=Unauthorized'):
        agent_logs = logs({"previous": [line(60, "info", "running agent version: v0.161.1"), line(59, "error", exit_line)],
                           "crashlooping": True})
        assert verdict(judge_invalid_api_key, {"agent-logs": agent_logs, "agent-key": {"status": 401, "secret": "castai-agent"}}) is CONFIRMED


def test_v1_mistake_a_rotated_key_still_running_in_old_pods_is_confirmed() -> None:
    """v1 ruled it out because the Secret's key answers 200."""
    agent_logs = logs({"current": every("failed getting agent configuration: request error status_code=401 body=x")})
    judgement = judge_invalid_api_key(observations({"agent-logs": agent_logs, "agent-key": {"status": 200, "secret": "castai-agent"}}))
    assert judgement.verdict is CONFIRMED and judgement.fix_args["restart_only"] is True


def test_a_key_the_api_accepts_and_no_401_lines_rules_the_key_out() -> None:
    agent_logs = logs({"current": every("delta upload finished", level="info")}, leader="castai-agent-0")
    assert verdict(judge_invalid_api_key, {"agent-logs": agent_logs, "agent-key": {"status": 200, "secret": "castai-agent"}}) is RULED_OUT


def test_a_terraform_cluster_token_cannot_be_tested() -> None:
    assert verdict(judge_invalid_api_key, {"agent-logs": logs({}), "agent-key": {"status": 401, "secret": "castai-agent"},
                                           "agent-release": {"terraform": True, "ref": None}}) is UNKNOWN


def test_v1_mistake_kops_openshift_anywhere_on_aws_nodes_are_never_wrong_providers() -> None:
    for provider in ("kops", "openshift", "anywhere"):
        values = {"agent-logs": logs({}), "agent-deployment": {"exists": True, "env": {"PROVIDER": provider}},
                  "node-clouds": {"aws": 3}}
        assert verdict(judge_wrong_provider, values) is RULED_OUT, provider


def test_wrong_provider_from_the_unknown_provider_exit_line() -> None:
    agent_logs = logs({"previous": [line(5, "error", 'getting provider: unknown provider \\"gcp\\"')], "crashlooping": True})
    values = {"agent-logs": agent_logs, "agent-deployment": {"exists": True, "env": {"PROVIDER": "gcp"}}, "node-clouds": {"aws": 3}}
    assert verdict(judge_wrong_provider, values) is CONFIRMED


def test_a_cloud_bound_provider_on_another_cloud_is_confirmed_only_with_a_setup_exit() -> None:
    values = {"agent-deployment": {"exists": True, "env": {"PROVIDER": "gke"}}, "node-clouds": {"aws": 3}}
    exiting = logs({"previous": [line(5, "error", "getting provider: configuring gke client: metadata not defined")],
                    "crashlooping": True})
    assert verdict(judge_wrong_provider, {**values, "agent-logs": exiting}) is CONFIRMED
    assert verdict(judge_wrong_provider, {**values, "agent-logs": logs({})}) is LATENT


def test_blocked_instance_metadata_is_its_own_cause() -> None:
    exiting = logs({"previous": [line(5, "error", "getting provider: configuring aws client: getting instance region: "
                                                  "EC2MetadataRequestError")], "crashlooping": True})
    assert verdict(judge_cloud_metadata, {"agent-logs": exiting}) is CONFIRMED
    assert verdict(judge_cloud_metadata, {"agent-logs": logs({})}) is RULED_OUT


def test_oomkilled_is_self_evident() -> None:
    assert verdict(judge_oomkilled, {"agent-pods": [pod(last="OOMKilled")]}) is CONFIRMED
    assert verdict(judge_oomkilled, {"agent-pods": [pod(last="Error")]}) is RULED_OUT


def test_v1_mistake_the_optional_informer_warning_is_no_rbac_evidence() -> None:
    agent_logs = logs({"current": every("Skipping conditional informer name: ingresses, because required access is not available",
                                        level="warning")})
    assert verdict(judge_rbac_missing, {"agent-rbac": {"bound_roles": ["castai-agent"], "denied": []}, "agent-logs": agent_logs}) is RULED_OUT


def test_denied_required_kinds_confirm_rbac_with_unsynced_informers_and_are_latent_without() -> None:
    rbac = {"bound_roles": [], "denied": ["nodes", "pods"]}
    unsynced = logs({"previous": [line(30 * i, "info", f"Informer cache for *v1.Node has not been synced after {30 * i}s")
                                  for i in reversed(range(1, 5))], "crashlooping": True})
    assert verdict(judge_rbac_missing, {"agent-rbac": rbac, "agent-logs": unsynced}) is CONFIRMED
    assert verdict(judge_rbac_missing, {"agent-rbac": rbac, "agent-logs": logs({})}) is LATENT


def test_network_blocked_needs_persistent_transport_errors_in_api_calls() -> None:
    persistent_timeouts = logs({"current": every("failed getting agent configuration: Post x: dial tcp 1.2.3.4:443: i/o timeout")})
    assert verdict(judge_network_blocked, {"agent-logs": persistent_timeouts, "network-policies": []}) is CONFIRMED
    retries_then_success = logs({"current": [line(20, "warning", "failed sending delta request: dial tcp: i/o timeout"),
                                             line(19, "info", "delta upload finished")]})
    assert verdict(judge_network_blocked, {"agent-logs": retries_then_success, "network-policies": []}) is RULED_OUT


# --- agent-disconnected ---------------------------------------------------------------------------

def test_disconnected_is_observed_from_the_agent_status() -> None:
    def seen(**status: Any) -> bool | None:
        return observe_disconnected(observations({"cluster-status": {"agentSnapshotReceivedAt": None, "createdAt": None,
                                                                     **status}})).observed
    assert seen(agentStatus="non-responding") is True
    assert seen(agentStatus="online") is False
    assert seen(agentStatus="disconnecting") is False
    assert seen(agentStatus="waiting-connection", createdAt=(NOW - timedelta(minutes=30)).isoformat()) is True
    assert seen(agentStatus="waiting-connection", createdAt=(NOW - timedelta(minutes=5)).isoformat()) is False


def test_v1_mistake_a_hibernated_cluster_has_no_agent_to_run() -> None:
    values = {"cluster-status": {"status": "hibernated"}, "agent-deployment": {"exists": True, "replicas": 0}, "agent-pods": []}
    assert verdict(judge_agent_not_running, values) is RULED_OUT


def test_agent_not_running_names_the_deployment_at_zero() -> None:
    values = {"cluster-status": {"status": "ready"}, "agent-deployment": {"exists": True, "replicas": 0}, "agent-pods": []}
    judgement = judge_agent_not_running(observations(values))
    assert judgement.verdict is CONFIRMED and judgement.fix_args["action"] == "scale"


def test_heartbeat_failing_is_the_leaders_persistent_non_auth_failures() -> None:
    failing = "failed sending delta: delta request error: request_id=9f2c status_code=502 body=upstream"
    leader = {"pod": "castai-agent-0", "current": every(failing)}
    follower = {"pod": "castai-agent-1", "current": every("Not a leader, skipping sending deltas", level="info")}
    values = {"agent-pods": [pod()], "agent-logs": logs(leader, follower, leader="castai-agent-0")}
    assert verdict(judge_heartbeat_failing, values) is CONFIRMED
    unauthorized = {"pod": "castai-agent-0", "current": every(failing.replace("502", "401"))}
    assert verdict(judge_heartbeat_failing, {**values, "agent-logs": logs(unauthorized, follower, leader="castai-agent-0")}) is RULED_OUT


def test_v1_mistake_a_followers_lines_are_never_heartbeat_evidence() -> None:
    leader = {"pod": "castai-agent-0", "current": every("delta upload finished", level="info")}
    follower = {"pod": "castai-agent-1", "current": every("Not a leader, skipping sending deltas", level="info")}
    assert verdict(judge_heartbeat_failing, {"agent-pods": [pod()], "agent-logs": logs(leader, follower, leader="castai-agent-0")}) \
        is RULED_OUT
