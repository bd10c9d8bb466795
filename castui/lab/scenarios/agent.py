"""Scenarios of the agent and the API key: symptoms 1-3 (agent-crashloop, agent-disconnected, api-unauthorized).

The agent's lines are what castai/k8s-agent@27ed376 writes: the run error it exits with at
`level=error` (cmd/agent/run.go), config polls on every replica, deltas on the leader only,
3 transport retries (`failed sending delta request:`) before `failed sending delta:`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *
from castui.lab.scenarios.base import (
    AGENT_KEY,
    CLUSTER_ID,
    CLUSTER_NAME,
    FOLLOWER_ID,
    LEADER_ID,
    NS,
    USER_KEY,
    LabCluster,
    log_line,
    scenario,
)

API = "https://api.cast.ai"


def crashloop(lab: LabCluster, previous: list[str], *, exit_code: int = 1, reason: str = "Error") -> None:
    """Every replica exits with `previous` and waits in CrashLoopBackOff; the console loses the agent."""
    lab.agent_pods(state="waiting", reason="CrashLoopBackOff", restarts=14, last_exit=(reason, exit_code))
    lab.agent_logs(previous[:2], previous=previous)
    lab.cluster.update(agentStatus="disconnected", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(hours=5)))
    lab.get("deployments", NS, "castai-agent")["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=2)


def starting(lab: LabCluster) -> list[str]:
    start = lab.now - timedelta(minutes=1)
    return [log_line(start, "info", "running agent version: v0.161.1"), log_line(start, "info", f"platform URL: {API}")]


def set_env(lab: LabCluster, name: str, value: str) -> None:
    env = lab.get("deployments", NS, "castai-agent")["spec"]["template"]["spec"]["containers"][0]["env"]
    env[:] = [e for e in env if e["name"] != name] + [{"name": name, "value": value}]


def config_poll_failures(lab: LabCluster, error: str, *, minutes: int = 3) -> list[tuple[Any, str]]:
    """`failed getting agent configuration:` every 15 s (every replica; controller.go)."""
    return [(lab.now - timedelta(seconds=15 * i), log_line(lab.now - timedelta(seconds=15 * i), "error",
                                                           f"failed getting agent configuration: {error}"))
            for i in range(minutes * 4)][::-1]


@scenario("invalid-api-key", "the agent's key is revoked: registration gets 401 and the agent crash-loops",
          "invalid-api-key", "agent-not-running")
def _invalid_api_key(lab: LabCluster) -> None:
    lab.state.castai.api_keys[AGENT_KEY] = {"status": 401}
    lines = starting(lab) + [
        log_line(lab.now, "info", 'using provider "eks"', provider="eks"),
        log_line(lab.now, "error", 'registering cluster: request error status_code=401 body={"message":"Unauthorized"}'),
    ]
    crashloop(lab, lines)


@scenario("invalid-api-key-pre-2024", "an agent from before mid-2024 exits with level=fatal \"agent failed: …\" on a revoked key",
          "invalid-api-key", "agent-not-running")
def _invalid_api_key_old_format(lab: LabCluster) -> None:
    lab.state.castai.api_keys[AGENT_KEY] = {"status": 401}
    crashloop(lab, starting(lab) + [
        log_line(lab.now, "fatal", 'agent failed: registering cluster: request error status_code=401 body={"message":"Unauthorized"}')])


@scenario("invalid-api-key-rotated", "the key was rotated in the Secret; the leader still runs the old one and gets 401 on "
          "every call", "invalid-api-key")
def _rotated_key(lab: LabCluster) -> None:
    # the Secret holds a good key now (200); the running containers read the old one at start
    leader = lab.healthy_agent_logs("leader")[:7]
    for i in range(12):
        moment = lab.now - timedelta(seconds=15 * (11 - i))
        leader.append(log_line(moment, "error", "failed getting agent configuration: request error status_code=401 "
                                                'body={"message":"Unauthorized"}'))
        leader.append(log_line(moment, "error", 'failed sending delta: delta request error: request_id="7c1e2a" '
                                                'status_code=401 body={"message":"Unauthorized"}'))
    lab.agent_logs(leader, role="leader")
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=4)))


@scenario("wrong-provider", "the agent runs with a provider it does not know", "wrong-provider", "agent-not-running")
def _wrong_provider(lab: LabCluster) -> None:
    set_env(lab, "PROVIDER", "gcp")
    lab.release("castai-agent", "castai-agent", config={"apiKey": AGENT_KEY, "provider": "gcp"})
    crashloop(lab, starting(lab) + [log_line(lab.now, "error", 'getting provider: unknown provider "gcp"')])


@scenario("wrong-provider-cloud", "the agent is installed with provider gke on EKS nodes and exits during setup",
          "wrong-provider", "agent-not-running")
def _wrong_cloud(lab: LabCluster) -> None:
    set_env(lab, "PROVIDER", "gke")
    lab.release("castai-agent", "castai-agent", config={"apiKey": AGENT_KEY, "provider": "gke"})
    crashloop(lab, starting(lab) + [
        log_line(lab.now, "error", "getting provider: configuring gke client: metadata: GCE metadata "
                                   '"instance/attributes/cluster-name" not defined')])


@scenario("trap-provider-any-cloud", "trap: kops, openshift and anywhere run on any cloud; provider kops on AWS nodes is fine",
          trap=True)
def _kops_on_aws(lab: LabCluster) -> None:
    set_env(lab, "PROVIDER", "kops")
    lab.release("castai-agent", "castai-agent", config={"apiKey": AGENT_KEY, "provider": "kops"},
                values={"apiURL": API, "replicaCount": 2})


@scenario("cloud-metadata-unreachable", "IMDS is blocked: the agent cannot learn its region and exits",
          "cloud-metadata-unreachable", "agent-not-running")
def _imds_blocked(lab: LabCluster) -> None:
    lab.restart_cannot_heal = "the instance metadata service stays blocked"
    crashloop(lab, starting(lab) + [log_line(
        lab.now, "error", "getting provider: configuring aws client: getting instance region: EC2MetadataRequestError: "
                          "failed to get EC2 instance identity document")])


@scenario("agent-oomkilled", "the agent is OOMKilled on a grown cluster", "agent-oomkilled", "agent-not-running")
def _oomkilled(lab: LabCluster) -> None:
    lab.restart_cannot_heal = "the memory limit stays too low"
    crashloop(lab, starting(lab) + [log_line(lab.now, "info", "collecting initial cluster snapshot")],
              exit_code=137, reason="OOMKilled")


@scenario("rbac-missing", "the agent's ClusterRoleBinding was deleted: its informers never sync and it restarts",
          "rbac-missing", "agent-not-running")
def _rbac_missing(lab: LabCluster) -> None:
    lab.remove("clusterrolebindings", None, "castai-agent")
    start = lab.now - timedelta(minutes=11)
    lines = starting(lab) + [log_line(start, "info", "collecting initial cluster snapshot"),
                             log_line(start, "info", "waiting for informers cache to sync")]
    for i in range(1, 21):
        lines.append(log_line(start + timedelta(seconds=30 * i), "info",
                              f"Informer cache for *v1.Node has not been synced after {30 * i}s"))
    lines.append(log_line(lab.now - timedelta(seconds=5), "error", "restarting agent after failure to collect initial snapshot"))
    crashloop(lab, lines)


@scenario("trap-optional-informer", "trap: the agent skips an optional informer it may not read (ingresses); that is a "
          "warning, never missing RBAC", trap=True)
def _optional_informer(lab: LabCluster) -> None:
    lines = lab.healthy_agent_logs("leader")
    lines.insert(6, log_line(lab.now - timedelta(minutes=3), "warning",
                             "Skipping conditional informer name: ingresses, because required access is not available"))
    lab.agent_logs(lines, role="leader")


@scenario("network-blocked", "a NetworkPolicy denies the agent's egress: its API calls time out and the leader's liveness "
          "probe restarts it", "network-blocked")
def _network_blocked(lab: LabCluster) -> None:
    lab.add("networkpolicies", k8s.network_policy("default-deny-egress", NS, lab.now, selector={},
                                                  egress=[{"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "UDP", "port": 53}]}]))
    timeout = f'Post "{API}/v1/kubernetes/clusters/{CLUSTER_ID}/agent-deltas": dial tcp 34.120.12.1:443: i/o timeout'
    config = f'Post "{API}/v1/kubernetes/clusters/{CLUSTER_ID}/agent-config": dial tcp 34.120.12.1:443: i/o timeout'
    leader = lab.agent_start_lines(lab.now - timedelta(minutes=3), LEADER_ID)
    for moment, line in config_poll_failures(lab, config):
        leader.append(line)
        leader += [log_line(moment, "warning", f"failed sending delta request: {timeout}") for _ in range(3)]
        leader.append(log_line(moment, "error", f"failed sending delta: {timeout}"))
    follower = lab.agent_start_lines(lab.now - timedelta(minutes=3), FOLLOWER_ID)
    for moment, line in config_poll_failures(lab, config):  # its delta loop needs no network: it skips on
        follower += [line, log_line(moment, "info", "Not a leader, skipping sending deltas", cluster_id=CLUSTER_ID)]
    lab.agent_logs(leader, role="leader",
                   previous=leader[:6] + [log_line(lab.now - timedelta(minutes=4), "error",
                                                   "last healthy action is over the healthy limit of 12m0s")])
    lab.agent_logs(follower, role="follower")
    # the leader's liveness probe killed it 4 minutes ago (internal/services/health/healthz.go)
    leader_pod = lab.pods_of("castai-agent")[0]
    leader_pod["status"]["containerStatuses"][0].update(restartCount=3, lastState={"terminated": {
        "reason": "Error", "exitCode": 2, "startedAt": k8s.iso(lab.now - timedelta(minutes=16)),
        "finishedAt": k8s.iso(lab.now - timedelta(minutes=4))}})
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=47)))
    lab.state.castai.in_cluster_reachability = "000"


@scenario("trap-delta-retry", "trap: one transport retry before a successful delta is normal", trap=True)
def _delta_retry(lab: LabCluster) -> None:
    lines = lab.healthy_agent_logs("leader")
    moment = lab.now - timedelta(seconds=20)
    lines.insert(-1, log_line(moment, "warning", f'failed sending delta request: Post "{API}/v1/kubernetes/clusters/'
                                                 f'{CLUSTER_ID}/agent-deltas": net/http: TLS handshake timeout'))
    lab.agent_logs(lines, role="leader")


@scenario("agent-not-running", "the agent's pods were evicted and none runs", "agent-not-running")
def _agent_not_running(lab: LabCluster) -> None:
    lab.agent_pods(phase="Failed")
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=50)))
    lab.get("deployments", NS, "castai-agent")["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=2)


@scenario("heartbeat-failing", "the agent runs but the leader's deltas are refused with 502; the console says not responding",
          "heartbeat-failing")
def _heartbeat_failing(lab: LabCluster) -> None:
    leader = lab.healthy_agent_logs("leader")[:7]
    for i in range(6):
        leader.append(log_line(lab.now - timedelta(seconds=15 * (5 - i)), "error",
                               'failed sending delta: delta request error: request_id="9f2c" status_code=502 body=upstream unavailable'))
    lab.agent_logs(leader, role="leader")
    lab.cluster.update(agentStatus="non-responding", agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(minutes=38)))


@scenario("trap-follower-not-leader", "trap: a follower replica logs 'Not a leader, skipping sending deltas' and never sends "
          "one; that is how followers stay healthy", trap=True)
def _follower(lab: LabCluster) -> None:
    pass  # the healthy lab already runs a leader and a follower; this names the trap


@scenario("api-key-missing", "castui has no API key; the user asks about the 401", "api-key-missing",
          named=("api-unauthorized",))
def _api_key_missing(lab: LabCluster) -> None:
    lab.user_key = None


@scenario("api-key-invalid", "castui's API key is not valid: the API answers 401", "api-key-invalid")
def _api_key_invalid(lab: LabCluster) -> None:
    lab.state.castai.api_keys[USER_KEY] = {"status": 401}


@scenario("api-key-forbidden", "castui's key belongs to another organisation: 403 on this cluster", "api-key-forbidden")
def _api_key_forbidden(lab: LabCluster) -> None:
    lab.state.castai.api_keys[USER_KEY] = {"status": 200, "clusters": []}


@scenario("api-region-mismatch", "castui's key is of the EU console, where the agent reports; castui asks the US API",
          "api-key-invalid", "api-region-mismatch")
def _region(lab: LabCluster) -> None:
    lab.state.castai.api_keys[USER_KEY] = {"status": 401}
    set_env(lab, "API_URL", "https://api.eu.cast.ai")


@scenario("trap-cluster-id-from-arn", "trap: no CASTAI_CLUSTER_ID and the metadata ConfigMap is unreadable (Forbidden); the "
          "kube context is the EKS ARN that `aws eks update-kubeconfig` writes", trap=True)
def _cluster_id_from_arn(lab: LabCluster) -> None:
    lab.state.kube_forbidden.setdefault("lab-admin", set()).add("configmaps")
    lab.context = f"arn:aws:eks:eu-west-1:123456789012:cluster/{CLUSTER_NAME}"


@scenario("agent-hibernated", "the cluster is hibernated: the agent is scaled to 0 and the console shows it disconnected; "
          "that is expected, not an agent failure", "cluster-hibernated")
def _agent_hibernated(lab: LabCluster) -> None:
    lab.cluster.update(status="hibernated", agentStatus="disconnected",
                       agentSnapshotReceivedAt=k8s.iso(lab.now - timedelta(hours=9)))
    deployment = lab.get("deployments", NS, "castai-agent")
    deployment["spec"]["replicas"] = 0
    deployment["status"] = {"observedGeneration": 1, "replicas": 0}
    lab.state.objects["pods"] = [p for p in lab.state.items("pods") if p not in lab.pods_of("castai-agent")]


@scenario("wrong-provider-umbrella", "an umbrella install (one release `castai`) with provider gcp: the fix sets "
          "global.castai.provider on that release", "wrong-provider", "agent-not-running")
def _wrong_provider_umbrella(lab: LabCluster) -> None:
    umbrella_install(lab, provider="gcp")
    set_env(lab, "PROVIDER", "gcp")
    crashloop(lab, starting(lab) + [log_line(lab.now, "error", 'getting provider: unknown provider "gcp"')])


def umbrella_install(lab: LabCluster, *, provider: str = "eks") -> None:
    """CAST AI components from one release `castai` of the umbrella chart: key, URL and provider under
    global.castai, components under autoscaler.<chart> (castai/helm-charts charts/castai-umbrella README.md)."""
    for release in ("castai-agent", "cluster-controller", "castai-evictor", "castai-workload-autoscaler"):
        lab.state.objects["secrets"] = [s for s in lab.state.items("secrets")
                                        if (s["metadata"].get("labels") or {}).get("name") != release]
    lab.release("castai", "castai", config={
        "global": {"castai": {"apiKeySecretRef": "castai-credentials", "provider": provider, "apiURL": API}},
        "tags": {"full": True}, "autoscaler": {"castai-agent": {"replicaCount": 2}}})


@scenario("wrong-provider-terraform", "the Terraform EKS module installed the agent (STATIC_CLUSTER_ID in its values) with "
          "provider gcp: the fix is the Terraform change, not a helm command the next apply reverts",
          "wrong-provider", "agent-not-running")
def _wrong_provider_terraform(lab: LabCluster) -> None:
    terraform_install(lab, provider="gcp")
    set_env(lab, "PROVIDER", "gcp")
    crashloop(lab, starting(lab) + [log_line(lab.now, "error", 'getting provider: unknown provider "gcp"')])


def terraform_install(lab: LabCluster, *, provider: str = "eks") -> None:
    """The agent as castai/terraform-castai-eks-cluster installs it: `additionalEnv.STATIC_CLUSTER_ID`
    in the release's values, the env on the Deployment, a cluster token as the key (main.tf)."""
    lab.release("castai-agent", "castai-agent", config={
        "apiKey": AGENT_KEY, "provider": provider, "additionalEnv": {"STATIC_CLUSTER_ID": CLUSTER_ID}})
    set_env(lab, "STATIC_CLUSTER_ID", CLUSTER_ID)


@scenario("trap-terraform-installed", "trap: a healthy Terraform install: no metadata ConfigMap; the cluster id comes "
          "from the agent's STATIC_CLUSTER_ID", trap=True)
def _terraform_installed(lab: LabCluster) -> None:
    terraform_install(lab)
    lab.remove("configmaps", NS, "castai-agent-metadata")
    lab.context = "eks-prod-apps"  # no name match in the API either: only STATIC_CLUSTER_ID can tell
