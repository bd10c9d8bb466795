"""Scenarios of the agent and the API key: symptoms 1-3 (agent-crashloop, agent-disconnected, api-unauthorized)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *  # noqa: F403 - the lab's vocabulary: LabCluster, constants, scenario()
from castui.lab.scenarios.base import AGENT_KEY, CLUSTER_ID, NS, LabCluster, log_line, scenario


def crashloop(lab: LabCluster, previous: list[str], *, exit_code: int = 1) -> None:
    lab.agent_pods(state="waiting", reason="CrashLoopBackOff", restarts=14, last_exit=("Error", exit_code))
    lab.agent_logs(previous[-3:], previous=previous)
    lab.cluster.update(agentStatus="disconnected", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(hours=5)))
    lab.get("deployments", NS, "castai-agent")["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=2)


def starting(lab: LabCluster) -> list[str]:
    start = lab.now - timedelta(minutes=1)
    return [log_line(start, "info", "running agent version: v0.161.1"), log_line(start, "info", "platform URL: https://api.cast.ai")]


@scenario("invalid-api-key", "the agent's key is revoked: registration gets 401 and the agent crash-loops",
          "invalid-api-key", "agent-not-running")
def _invalid_api_key(lab: LabCluster) -> None:
    lab.state.castai.api_keys[AGENT_KEY] = {"status": 401}
    lines = starting(lab) + [
        log_line(lab.now, "info", 'using provider "eks"'),
        log_line(lab.now, "fatal", 'agent failed: registering cluster: request error status_code=401 body={"message":"Unauthorized"}'),
    ]
    crashloop(lab, lines)


@scenario("wrong-provider", "the agent is installed with provider gke on an EKS cluster", "wrong-provider", "agent-not-running")
def _wrong_provider(lab: LabCluster) -> None:
    deployment = lab.get("deployments", NS, "castai-agent")
    for env in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        if env["name"] == "PROVIDER":
            env["value"] = "gke"
    lab.release("castai-agent", "castai-agent", config={"apiKey": AGENT_KEY, "provider": "gke"})
    crashloop(lab, starting(lab) + [log_line(lab.now, "info", 'using provider "gke"'),
                                    log_line(lab.now, "fatal", "agent failed: getting provider: configuring gke client: "
                                             "metadata: GCE metadata \"instance/attributes/cluster-name\" not defined")])


@scenario("rbac-missing", "the agent's ClusterRoleBinding was deleted; it runs blind", "rbac-missing")
def _rbac_missing(lab: LabCluster) -> None:
    lab.remove("clusterrolebindings", None, "castai-agent")
    lines = lab.healthy_agent_logs()
    lines.insert(5, log_line(lab.now, "warning", "Skipping conditional informer name: pods, because required access is not available"))
    lines.insert(6, log_line(lab.now, "error", 'nodes is forbidden: User "system:serviceaccount:castai-agent:castai-agent" cannot list resource "nodes"'))
    lab.agent_logs(lines)


@scenario("network-blocked", "a NetworkPolicy denies the agent's egress; heartbeats time out",
          "network-blocked", "heartbeat-failing")
def _network_blocked(lab: LabCluster) -> None:
    lab.add("networkpolicies", k8s.network_policy("default-deny-egress", NS, lab.now, selector={},
                                                  egress=[{"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "UDP", "port": 53}]}]))
    failing = [log_line(lab.now - timedelta(seconds=15 * i), "warning",
                        'failed sending delta request: Post "https://api.cast.ai/v1/kubernetes/clusters/' + CLUSTER_ID +
                        '/agent-deltas": dial tcp 34.120.12.1:443: i/o timeout') for i in range(4)]
    lab.agent_logs(lab.healthy_agent_logs()[:5] + failing[::-1])
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=47)))
    lab.state.castai.in_cluster_reachability = "000"


@scenario("agent-not-running", "the agent's pods were evicted and none runs", "agent-not-running")
def _agent_not_running(lab: LabCluster) -> None:
    lab.agent_pods(phase="Failed")
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=50)))
    lab.get("deployments", NS, "castai-agent")["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=2)


@scenario("heartbeat-failing", "the agent runs but its deltas are refused with 502; the console says not responding",
          "heartbeat-failing")
def _heartbeat_failing(lab: LabCluster) -> None:
    failing = [log_line(lab.now - timedelta(seconds=15 * i), "error",
                        'failed sending delta: delta request error: request_id="9f2c" status_code=502 body=upstream unavailable')
               for i in range(5)]
    lab.agent_logs(lab.healthy_agent_logs()[:5] + failing[::-1])
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=38)))


@scenario("api-key-missing", "castui has no API key", "api-key-missing")
def _api_key_missing(lab: LabCluster) -> None:
    lab.user_key = None


@scenario("api-key-invalid", "castui's API key is not valid: the API answers 401", "api-key-invalid")
def _api_key_invalid(lab: LabCluster) -> None:
    lab.state.castai.api_keys[USER_KEY] = {"status": 401}


@scenario("api-key-forbidden", "castui's key belongs to another organisation: 403 on this cluster", "api-key-forbidden")
def _api_key_forbidden(lab: LabCluster) -> None:
    lab.state.castai.api_keys[USER_KEY] = {"status": 200, "clusters": []}
