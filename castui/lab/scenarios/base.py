"""Named lab scenarios: a healthy CAST AI cluster, and one fault (or a few) on top.

Each scenario says which cause ids it confirms; the tests hold castui to exactly
that list. Faults cascade as they would on a real cluster (a crash-looping agent
is also "not running"), and the list says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.state import CastaiState, LabState

NS = "castai-agent"
CLUSTER_ID = "6f1c2a9e-3b7d-4c1a-9e2f-5a8b7c6d4e3f"
ORG_ID = "0a1b2c3d-0000-4000-8000-00000000c0de"
CLUSTER_NAME = "lab-eks"
#: the key castui uses against the lab; and the agent's own key in its Secret
USER_KEY = "castui-lab-user-key-7d3f9a2b41c6e8f0"
AGENT_KEY = "castai-lab-agent-key-91ab2c7e5f304d68"
NODES = ("ip-10-0-1-11.ec2.internal", "ip-10-0-1-12.ec2.internal", "ip-10-0-1-13.ec2.internal")
NEWEST = {
    "castai-agent": ("0.161.1", "v0.161.1"),
    "castai-cluster-controller": ("0.92.14", "v0.63.6"),
    "castai-evictor": ("0.35.143", "v0.35.143"),
    "castai-workload-autoscaler": ("1.9.3", "v1.9.3"),
    "castai-spot-handler": ("0.35.5", "v0.23.2"),
    # the umbrella chart (castai/helm-charts charts/castai-umbrella/Chart.yaml `name: castai`)
    "castai": ("0.34.33", "0.34.33"),
}


#: each agent replica's leader-election identity: a random UUID per process, not the pod name
#: (castai/k8s-agent@27ed376 internal/services/replicas/leaderelection.go)
LEADER_ID = "3f6c9a52-8d1e-4b7a-9c2f-0e5d7b8a1c64"
FOLLOWER_ID = "b81d7e09-2c4a-4f3e-8a6b-5d9c0e1f2a37"
LEASE = "agent-leader-election-lock"
#: the agent's config poll and delta loops (k8s-agent internal/config/config.go), and cluster-controller's action polls
AGENT_CYCLE = POLL_CYCLE = timedelta(seconds=15)


def log_line(moment: datetime, level: str, message: str, **fields: str) -> str:
    """A logrus TextFormatter line: time, level, msg, then the fields sorted by key, quoted when needed."""
    def value(text: str) -> str:
        return text if text and all(c.isalnum() or c in "-._/@^+" for c in text) else '"' + text.replace('"', '\\"') + '"'
    extra = "".join(f" {k}={value(str(v))}" for k, v in sorted(fields.items()))
    return f'time="{moment.strftime("%Y-%m-%dT%H:%M:%SZ")}" level={level} msg={value(message)}{extra}'


class LabCluster:
    """A lab state under construction, with the moves scenarios make."""

    def __init__(self, now: datetime) -> None:
        self.state = LabState(now=now)
        self.user_key: str | None = USER_KEY
        #: a Terraform state the scenario wants written (None: none)
        self.tfstate: dict[str, Any] | None = None
        #: the kube context the lab's kubeconfig names (a cloud CLI's naming, in some scenarios)
        self.context = "castui-lab"
        #: why restarting the agent would not heal it (memory limit, blocked metadata), for the lab's reactions
        self.restart_cannot_heal: str | None = None

    @property
    def now(self) -> datetime:
        """The time the lab's data is at: when it was built, moved with its clock (castui/lab/clock.py), so
        what a reaction writes later (a healed agent's log, its snapshot) is stamped at the lab's time."""
        return self.state.now

    # --- generic moves ---------------------------------------------------------------------

    def add(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.state.items(resource).append(obj)
        return obj

    def remove(self, resource: str, namespace: str | None, name: str) -> None:
        self.state.objects[resource] = [
            o for o in self.state.items(resource)
            if not (o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace)
        ]

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
        found = self.state.find(resource, namespace, name)
        assert found is not None, f"{resource} {namespace}/{name} is not in the lab"
        return found

    def pods_of(self, app: str, ns: str = NS) -> list[dict[str, Any]]:
        return [p for p in self.state.items("pods")
                if p["metadata"].get("namespace") == ns and (p["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == app]

    @property
    def policies(self) -> dict[str, Any]:
        return self.state.castai.policies[CLUSTER_ID]

    @property
    def default_template(self) -> dict[str, Any]:
        return next(t for t in self.state.castai.node_templates[CLUSTER_ID] if t["template"].get("isDefault"))["template"]

    @property
    def cluster(self) -> dict[str, Any]:
        return self.state.castai.clusters[0]

    def agent_logs(self, lines: list[str], *, previous: list[str] | None = None, role: str | None = None,
                   every: timedelta | None = AGENT_CYCLE) -> None:
        """Set the agent container's log of every replica, or of the `leader` or `follower` only; while it runs,
        it writes its last `every` of lines again each `every` (both agent loops run every 15 s)."""
        for i, pod in enumerate(self.pods_of("castai-agent")):
            if role is not None and (role == "leader") != (i == 0):
                continue
            name = pod["metadata"]["name"]
            self.state.set_log(NS, name, "agent", lines, every=every)
            if previous is not None:
                self.state.set_log(NS, name, "agent", previous, previous=True)

    def agent_start_lines(self, start: datetime, identity: str) -> list[str]:
        """What every replica logs at start (k8s-agent cmd/agent/run.go, replicas/leaderelection.go)."""
        return [
            log_line(start, "info", "running agent version: v0.161.1"),
            log_line(start, "info", "platform URL: https://api.cast.ai"),
            log_line(start, "info", 'using provider "eks"', provider="eks"),
            log_line(start, "info", "cluster registered: " + CLUSTER_ID, cluster_id=CLUSTER_ID),
            log_line(start, "info", "starting leader election", own_identity=identity),
        ]

    def healthy_agent_logs(self, role: str = "leader") -> list[str]:
        """The leader sends a delta every 15 s; a follower polls config and skips deltas
        (k8s-agent internal/services/controller/controller.go)."""
        start = self.now - timedelta(minutes=3)
        leader = role == "leader"
        lines = self.agent_start_lines(start, LEADER_ID if leader else FOLLOWER_ID)
        if leader:
            lines.append(log_line(start, "info", "started leading", own_identity=LEADER_ID))
        else:
            lines.append(log_line(start, "info", "current leader", leader_identity=LEADER_ID, own_identity=FOLLOWER_ID))
        lines.append(log_line(start, "info", "polling agent configuration every 15s"))
        for i in range(8):
            moment = start + timedelta(seconds=15 * i)
            if leader:
                lines.append(log_line(moment, "info", "delta upload finished", cluster_id=CLUSTER_ID,
                                      full_snapshot=str(i == 0).lower(), items="412", response_code="204", roundtrip_duration_ms="87"))
            else:
                lines.append(log_line(moment, "info", "Not a leader, skipping sending deltas", cluster_id=CLUSTER_ID))
        return lines

    def agent_pods(self, *, state: str = "running", reason: str | None = None, restarts: int = 0,
                   last_exit: tuple[str, int] | None = None, phase: str | None = None) -> None:
        """Replace the agent's pods with two in the given condition."""
        self.state.objects["pods"] = [p for p in self.state.items("pods") if p not in self.pods_of("castai-agent")]
        labels = {"app.kubernetes.io/name": "castai-agent", "app.kubernetes.io/instance": "castai-agent", "pod-template-hash": "7d9f8c6b5"}
        for i, suffix in enumerate(("x2k9p", "q7w4m")):
            self.add("pods", k8s.pod(f"castai-agent-7d9f8c6b5-{suffix}", NS, self.now, node_name=NODES[i], labels=labels,
                                     containers=["agent", "monitor"], image="us-docker.pkg.dev/castai-hub/library/agent:v0.161.1",
                                     owner=("ReplicaSet", "castai-agent-7d9f8c6b5"), state=state, reason=reason,
                                     restarts=restarts, last_exit=last_exit, phase=phase,
                                     started=self.now - timedelta(hours=30),
                                     finished=self.now - timedelta(minutes=2) if last_exit else None))

    def release(self, name: str, chart: str, *, version: str | None = None, status: str = "deployed",
                config: dict[str, Any] | None = None, values: dict[str, Any] | None = None, revision: int = 3,
                deployed_ago: timedelta = timedelta(days=6)) -> None:
        from castui.clients.helm import encode_release_secret

        version = version or NEWEST[chart][0]
        release = {
            "name": name, "namespace": NS, "version": revision,
            "info": {"first_deployed": k8s.iso(self.now - timedelta(days=40)), "last_deployed": k8s.iso(self.now - deployed_ago),
                     "deleted": "", "Description": "Upgrade complete" if status == "deployed" else f"Upgrade {status}", "status": status},
            "chart": {"metadata": {"name": chart, "version": version, "appVersion": NEWEST[chart][1], "apiVersion": "v2"},
                      "values": values or {}},
            "config": config or {},
            "manifest": "",
        }
        self.state.objects["secrets"] = [
            s for s in self.state.items("secrets") if (s["metadata"].get("labels") or {}).get("name") != name
            or (s["metadata"].get("labels") or {}).get("owner") != "helm"
        ]
        self.add("secrets", encode_release_secret(release, namespace=NS, name=name, revision=revision, status=status))


def build_healthy(now: datetime) -> LabCluster:
    lab = LabCluster(now)
    add = lab.add
    for name in (NS, "kube-system", "default", "shop"):
        add("namespaces", k8s.namespace(name, now))
    for name in NODES:
        add("nodes", k8s.node(name, now, provider_id=f"aws:///eu-west-1a/i-0{k8s.uid(name)[:16].replace('-', '')}",
                              labels={"topology.kubernetes.io/zone": "eu-west-1a", "provisioner.cast.ai/managed-by": "cast.ai"}))

    # --- CAST AI components -------------------------------------------------------------------
    agent_labels = {"app.kubernetes.io/name": "castai-agent", "app.kubernetes.io/instance": "castai-agent"}
    agent = add("deployments", k8s.deployment("castai-agent", NS, now, replicas=2, labels=agent_labels, containers=["agent", "monitor"],
                                              env={"API_URL": "https://api.cast.ai", "PROVIDER": "eks"},
                                              image="us-docker.pkg.dev/castai-hub/library/agent:v0.161.1"))
    # the chart reads the key from its Secret (charts/castai-agent templates/deployment.yaml)
    agent["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "castai-agent", "key": "API_KEY"}}})
    add("replicasets", k8s.replicaset("castai-agent-7d9f8c6b5", NS, now, owner="castai-agent", replicas=2,
                                      labels={**agent_labels, "pod-template-hash": "7d9f8c6b5"}))
    lab.agent_pods()
    lab.agent_logs(lab.healthy_agent_logs("leader"), role="leader")
    lab.agent_logs(lab.healthy_agent_logs("follower"), role="follower")
    add("leases", k8s.lease(LEASE, NS, now, holder=LEADER_ID))
    add("secrets", k8s.secret("castai-agent", NS, now, {"API_KEY": AGENT_KEY}))
    add("configmaps", k8s.configmap("castai-agent-metadata", NS, now, {"CLUSTER_ID": CLUSTER_ID}))
    add("clusterroles", k8s.cluster_role("castai-agent", now))
    add("clusterrolebindings", k8s.cluster_role_binding("castai-agent", now, ns=NS))

    for app, replicas, env in (
        ("castai-cluster-controller", 2, {}),
        ("castai-evictor", 1, {"AGGRESSIVE_MODE": "false", "CYCLE_INTERVAL": "1m"}),
        ("castai-workload-autoscaler", 2, {}),
    ):
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}
        add("deployments", k8s.deployment(app, NS, now, replicas=replicas, labels=labels, env=env))
        for i in range(replicas):
            add("pods", k8s.pod(f"{app}-5c8d7f9b4-{'abcdef'[i]}{i}x7z", NS, now, node_name=NODES[(i + 1) % 3],
                                labels={**labels, "pod-template-hash": "5c8d7f9b4"}, owner=("ReplicaSet", f"{app}-5c8d7f9b4"),
                                started=now - timedelta(days=3)))
            lab.state.logs[(NS, f"{app}-5c8d7f9b4-{'abcdef'[i]}{i}x7z", "app", False)] = log_line(now, "info", f"{app} running") + "\n"

    lab.release("castai-agent", "castai-agent", config={"apiKey": AGENT_KEY, "provider": "eks", "clusterVPA": {"enabled": True}},
                values={"apiURL": "https://api.cast.ai", "replicaCount": 2})
    lab.release("cluster-controller", "castai-cluster-controller", config={"castai": {"apiKey": AGENT_KEY, "clusterID": CLUSTER_ID}})
    lab.release("castai-evictor", "castai-evictor", values={"aggressiveMode": False, "cycleInterval": "1m", "managedByCASTAI": True})
    lab.release("castai-workload-autoscaler", "castai-workload-autoscaler", config={"castai": {"apiKeySecretRef": "castai-agent"}})

    # --- the workloads the cluster exists for -----------------------------------------------
    add("deployments", k8s.deployment("metrics-server", "kube-system", now, replicas=1, labels={"k8s-app": "metrics-server"}))
    add("apiservices", metrics_api_service(now))
    add("pods", k8s.pod("metrics-server-6d94bc8694-kx2lp", "kube-system", now, node_name=NODES[0], labels={"k8s-app": "metrics-server"},
                        owner=("ReplicaSet", "metrics-server-6d94bc8694")))
    add("daemonsets", k8s.daemonset("kube-proxy", "kube-system", now, labels={"k8s-app": "kube-proxy"}, nodes=len(NODES)))
    for i, node_name in enumerate(NODES):
        add("pods", k8s.pod(f"kube-proxy-{'mnp'[i]}8q2r", "kube-system", now, node_name=node_name, labels={"k8s-app": "kube-proxy"},
                            owner=("DaemonSet", "kube-proxy")))
    web = {"app": "web"}
    add("deployments", k8s.deployment("web", "shop", now, replicas=3, labels=web,
                                      annotations={"workloads.cast.ai/configuration": "vertical:\n  optimization: on\n"}))
    for i, node_name in enumerate(NODES):
        add("pods", k8s.pod(f"web-66b8f5d7c9-{'rst'[i]}4k8v", "shop", now, node_name=node_name, labels=web, owner=("ReplicaSet", "web-66b8f5d7c9"),
                            cpu="500m"))
    add("poddisruptionbudgets", k8s.pdb("web", "shop", now, selector=web, allowed=1, healthy=3, max_unavailable=1))
    add("events", k8s.event("web-66b8f5d7c9-r4k8v.scheduled", "shop", now, reason="Scheduled", kind="Pod", obj="web-66b8f5d7c9-r4k8v",
                            message=f"Successfully assigned shop/web-66b8f5d7c9-r4k8v to {NODES[0]}", ago=timedelta(hours=3)))
    scale_down_components(lab)

    # --- the CAST AI API ---------------------------------------------------------------------
    lab.state.castai = CastaiState(
        api_keys={USER_KEY: {"status": 200}, AGENT_KEY: {"status": 200}},
        clusters=[{
            "id": CLUSTER_ID, "name": CLUSTER_NAME, "organizationId": ORG_ID, "providerType": "eks", "status": "ready",
            "agentStatus": "online", "agentSnapshotReceivedAt": k8s.iso(now - timedelta(seconds=40)),
            "region": {"name": "eu-west-1", "displayName": "Europe (Ireland)"}, "managedBy": "console",
            "eks": {"accountId": "123456789012", "region": "eu-west-1", "clusterName": CLUSTER_NAME},
            "createdAt": k8s.iso(now - timedelta(days=40)),
            "reconcileInfo": {"status": "ok", "mode": "enabled", "errorCount": 0},
        }],
        policies={CLUSTER_ID: {
            "enabled": True, "isScopedMode": False, "nodeTemplatesPartialMatchingEnabled": False,
            "unschedulablePods": {"enabled": True, "headroom": {"enabled": False, "cpuPercentage": 10, "memoryPercentage": 10}},
            "clusterLimits": {"enabled": True, "cpu": {"minCores": 1, "maxCores": 64}},
            "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 300},
                               "evictor": {"enabled": True, "dryRun": False, "aggressiveMode": False, "scopedMode": False,
                                           "cycleInterval": "1m", "nodeGracePeriodMinutes": 5, "status": "Compatible"}},
            "spotInstances": {"enabled": True, "maxReclaimRate": 0, "spotBackups": {"enabled": True, "spotBackupRestoreRateSeconds": 1800},
                              "spotDiversityEnabled": True, "spotDiversityPriceIncreaseLimitPercent": 25},
        }},
        node_templates={CLUSTER_ID: [{
            "template": {"name": "default-by-castai", "isDefault": True, "isEnabled": True, "version": "3",
                         "configurationName": "default", "shouldTaint": False, "customLabels": {}, "customTaints": [],
                         "constraints": {"spot": True, "onDemand": True, "useSpotFallbacks": True, "fallbackRestoreRateSeconds": 1800,
                                         "enableSpotDiversity": True, "spotDiversityPriceIncreaseLimitPercent": 25,
                                         "architectures": ["amd64"], "minCpu": 2, "maxCpu": 32}},
            "stats": {"countOnDemand": 1, "countSpot": 2, "countFallback": 0},
        }]},
        workloads={CLUSTER_ID: [{
            "id": k8s.uid("wl", "web"), "clusterId": CLUSTER_ID, "name": "web", "namespace": "shop", "kind": "Deployment",
            "managedBy": "ANNOTATIONS", "podCount": 3, "replicas": 3,
            "recommendation": {"confidence": 0.97, "deployed": True},
            "recommendationStatus": {"type": "STATUS_APPLIED", "lowConfidence": False, "appliedPods": 3, "totalPods": 3},
        }]},
        auth_tokens=[{"id": k8s.uid("token", "user"), "name": "castui-lab", "active": True, "readonly": False,
                      "tokenPrefix": USER_KEY[:12], "createdAt": k8s.iso(now - timedelta(days=10)), "expiresAt": None}],
        evictor_ownership={CLUSTER_ID: "castai"}, evictor_advanced_config={CLUSTER_ID: []},
    )
    lab.state.helm_index = {"apiVersion": "v1", "generated": k8s.iso(now), "entries": {
        chart: [{"name": chart, "version": version, "appVersion": app, "apiVersion": "v2", "created": k8s.iso(now - timedelta(days=2)),
                 "urls": [f"https://github.com/castai/helm-charts/releases/download/{chart}-{version}/{chart}-{version}.tgz"]},
                {"name": chart, "version": "0.1.0", "appVersion": "v0.1.0", "apiVersion": "v2", "created": k8s.iso(now - timedelta(days=900))}]
        for chart, (version, app) in NEWEST.items()
    }}
    lab.state.status_page = {
        "status": {"page": {"id": "lab", "name": "CAST AI", "url": "https://status.cast.ai"},
                   "status": {"indicator": "none", "description": "All Systems Operational"}},
        "incidents": {"page": {"id": "lab"}, "incidents": []},
    }
    return lab


# --- cluster-controller and the Evictor, as their charts render them --------------------------------

CC_APP, CC_CONTAINERS = "castai-cluster-controller", ["cluster-controller", "monitor"]
EVICTOR_APP = "castai-evictor"


def cluster_controller_pods(lab: LabCluster, *, state: str = "running", reason: str | None = None, restarts: int = 0) -> list[str]:
    """Replace cluster-controller's pods with two in the given condition, containers as the chart names
    them (castai/helm-charts charts/castai-cluster-controller templates/deployment.yaml); their names."""
    for old in lab.pods_of(CC_APP):
        for container in ("app", *CC_CONTAINERS):
            lab.state.logs.pop((NS, old["metadata"]["name"], container, False), None)
    lab.state.objects["pods"] = [p for p in lab.state.items("pods") if p not in lab.pods_of(CC_APP)]
    labels = {"app.kubernetes.io/name": CC_APP, "app.kubernetes.io/instance": "cluster-controller", "pod-template-hash": "5c8d7f9b4"}
    names = []
    for i in range(2):
        name = f"{CC_APP}-5c8d7f9b4-{'ab'[i]}{i}x7z"
        lab.add("pods", k8s.pod(name, NS, lab.now, node_name=NODES[(i + 1) % 3], labels=labels, containers=list(CC_CONTAINERS),
                                image="us-docker.pkg.dev/castai-hub/library/cluster-controller:v0.63.6",
                                owner=("ReplicaSet", f"{CC_APP}-5c8d7f9b4"), started=lab.now - timedelta(days=3),
                                state=state, reason=reason, restarts=restarts))
        names.append(name)
    return names


def cluster_controller_logs(lab: LabCluster, lines: list[str], *, replica: int = 0,
                            every: timedelta | None = POLL_CYCLE) -> None:
    """The `cluster-controller` container's log of one replica (the leader polls and acts; the other waits);
    it writes its last `every` of lines again each `every` (None: it has logged all it will)."""
    name = sorted(p["metadata"]["name"] for p in lab.pods_of(CC_APP))[replica]
    lab.state.set_log(NS, name, "cluster-controller", lines, every=every)


def cluster_controller_polls(lab: LabCluster, *, minutes: int = 3, failing: str | None = None) -> list[str]:
    """Action polls every 15 s as castai/cluster-controller internal/controller/controller.go logs them:
    `polling actions`, then `no actions returned in …`, or with `failing` the error on each of 3 retries."""
    start = lab.now - timedelta(minutes=minutes)
    lines = [log_line(start, "info", "running castai-cluster-controller version v0.63.6", version="v0.63.6")]
    for i in range(minutes * 4):
        moment = start + timedelta(seconds=15 * i)
        lines.append(log_line(moment, "info", "polling actions"))
        if failing is None:
            lines.append(log_line(moment, "info", "no actions returned in 41.2ms"))
            continue
        for retry in range(3):
            lines.append(log_line(moment + timedelta(seconds=5 * retry), "error",
                                  f"polling actions: get action request failed: iteration: {retry + 1} {failing}"))
    return lines


def scale_down_components(lab: LabCluster) -> None:
    """cluster-controller with its logrus logs; the Evictor's container, env and EvictorConfig as its chart
    renders them (castai/helm-charts charts/castai-evictor templates/deployment.yaml, evictorconfig.yaml)."""
    cluster_controller_pods(lab)
    cluster_controller_logs(lab, cluster_controller_polls(lab), replica=0)
    cluster_controller_logs(lab, [log_line(lab.now - timedelta(days=3), "info", "waiting to become the leader",
                                           lock="cluster-controller")], replica=1, every=None)
    evictor = lab.get("deployments", NS, EVICTOR_APP)
    container = evictor["spec"]["template"]["spec"]["containers"][0]
    container["name"] = EVICTOR_APP
    container["env"] = [{"name": k, "value": v} for k, v in (
        ("IN_CLUSTER", "true"), ("LEADER_ELECTION_ENABLED", "true"), ("DRY_RUN", "false"), ("AGGRESSIVE_MODE", "false"),
        ("SCOPED_MODE", "false"), ("NODE_GRACE_PERIOD_MINUTES", "5"), ("CYCLE_INTERVAL", "1m"))]
    for pod in lab.pods_of(EVICTOR_APP):
        pod["spec"]["containers"][0]["name"] = EVICTOR_APP
        for status in pod["status"].get("containerStatuses") or []:
            status["name"] = EVICTOR_APP
        logs = lab.state.logs.pop((NS, pod["metadata"]["name"], "app", False), None)
        if logs is not None:
            lab.state.logs[(NS, pod["metadata"]["name"], EVICTOR_APP, False)] = logs
    lab.add("customresourcedefinitions", k8s.evictorconfig_crd(lab.now))
    lab.add("evictorconfigs", k8s.evictorconfig(lab.now, management_mode="castai"))


def metrics_api_service(now: datetime, *, available: bool = True, reason: str = "Passed") -> dict[str, Any]:
    """metrics-server's APIService as its chart registers it, with the aggregator's Available condition."""
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": k8s.meta("v1beta1.metrics.k8s.io", created=now - timedelta(days=40)),
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                     "insecureSkipTLSVerify": True, "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443}},
            "status": {"conditions": [{"type": "Available", "status": "True" if available else "False", "reason": reason,
                                       "message": "all checks passed" if available else
                                       "failing or missing response from https://10.0.3.17:10250/apis/metrics.k8s.io/v1beta1",
                                       "lastTransitionTime": k8s.iso(now - timedelta(days=40))}]}}


def tfstate(policies: dict[str, Any], *, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Terraform v4 state whose castai_autoscaler declares some of the policies (snake_case blocks)."""
    evictor = policies["nodeDownscaler"]["evictor"]
    settings = {
        "enabled": policies["enabled"],
        "unschedulable_pods": [{"enabled": policies["unschedulablePods"]["enabled"]}],
        "cluster_limits": [{"enabled": policies["clusterLimits"]["enabled"], "cpu": [{"max_cores": policies["clusterLimits"]["cpu"]["maxCores"]}]}],
        "node_downscaler": [{"enabled": policies["nodeDownscaler"]["enabled"],
                             "empty_nodes": [{"enabled": True, "delay_seconds": policies["nodeDownscaler"]["emptyNodes"]["delaySeconds"]}],
                             "evictor": [{"enabled": evictor["enabled"], "aggressive_mode": evictor["aggressiveMode"],
                                          "cycle_interval": evictor["cycleInterval"]}]}],
    }
    for path, value in (overrides or {}).items():
        target: Any = settings
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[part][0] if isinstance(target[part], list) else target[part]
        target[parts[-1]] = value
    return {"version": 4, "terraform_version": "1.11.4", "serial": 12, "lineage": k8s.uid("tf"), "outputs": {},
            "resources": [{"module": "module.castai-eks-cluster", "mode": "managed", "type": "castai_autoscaler",
                           "name": "castai_autoscaler_policies", "provider": 'provider["registry.terraform.io/castai/castai"]',
                           "instances": [{"schema_version": 0, "attributes": {"id": CLUSTER_ID, "cluster_id": CLUSTER_ID,
                                                                                "autoscaler_settings": [settings]},
                                          "sensitive_attributes": [], "private": "", "dependencies": []}]}]}


# --- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    breaks: str
    confirms: frozenset[str]
    apply: Callable[[LabCluster], None] = field(repr=False)
    #: causes whose condition holds without their symptom being observed (guide v2 `latent`)
    latent: frozenset[str] = frozenset()
    #: a false-alarm trap: a healthy cluster that looks suspicious; it must confirm nothing
    trap: bool = False
    #: the symptoms the scenario's user names (`--symptom`); empty: run every check
    named: tuple[str, ...] = ()
    #: the nodes the scenario's user names (`--node`)
    nodes: tuple[str, ...] = ()

    def diagnose_args(self) -> list[str]:
        """The `castui diagnose` flags that reproduce the scenario's user."""
        return [*(a for s in self.named for a in ("--symptom", s)), *(a for n in self.nodes for a in ("--node", n))]


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, breaks: str, *confirms: str, latent: tuple[str, ...] = (), trap: bool = False,
             named: tuple[str, ...] = (), nodes: tuple[str, ...] = (),
             ) -> Callable[[Callable[[LabCluster], None]], Callable[[LabCluster], None]]:
    def register(apply: Callable[[LabCluster], None]) -> Callable[[LabCluster], None]:
        SCENARIOS[name] = Scenario(name, breaks, frozenset(confirms), apply, frozenset(latent), trap, named, nodes)
        return apply
    return register


@scenario("healthy", "nothing: every cause is ruled out")
def _healthy(lab: LabCluster) -> None:
    pass
