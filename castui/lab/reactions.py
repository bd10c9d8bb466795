"""How a lab cluster reacts to writes, so that a fix can be verified by re-running
the checks: a restart heals the agent only when its root cause is gone, a
policies PUT syncs spot settings to the default node template (as CAST AI does),
a relaxed PDB allows disruptions, and the connectivity probe pod reports back."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from castui.lab import objects as k8s

if TYPE_CHECKING:
    from castui.lab.scenarios import LabCluster
    from castui.lab.state import LabState

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
PROBE_LABEL = "castui.io/probe"


def install(lab: "LabCluster") -> None:
    restarts_seen: dict[str, str | None] = {}

    def on_write(state: "LabState", resource: str, namespace: str | None, name: str, obj: dict[str, Any] | None) -> None:
        if resource == "deployments" and obj is not None:
            stamp = ((obj["spec"]["template"].get("metadata") or {}).get("annotations") or {}).get(RESTARTED_AT)
            if stamp and restarts_seen.get(name) != stamp:
                restarts_seen[name] = stamp
                restart(lab, name)
        elif resource == "castai.policies":
            sync_spot_to_default_template(lab)
            install_evictor_when_enabled(lab)
        elif resource == "clusterrolebindings" and name == "castai-agent" and obj is not None:
            heal_agent(lab)
        elif resource == "poddisruptionbudgets" and obj is not None:
            recompute_pdb(obj)
        elif resource == "pods" and obj is not None and PROBE_LABEL in ((obj.get("metadata") or {}).get("labels") or {}):
            finish_probe(state, obj)

    lab.state.on_write.append(on_write)


def restart(lab: "LabCluster", deployment: str) -> None:
    from castui.lab.scenarios import AGENT_KEY

    if deployment == "castai-workload-autoscaler":
        for pod in lab.pods_of(deployment):
            started = k8s.iso(lab.now)
            pod["status"]["containerStatuses"][0].update(ready=True, started=True, state={"running": {"startedAt": started}})
            for condition in pod["status"]["conditions"]:
                condition["status"] = "True"
        return
    if deployment == "castai-cluster-controller":
        restart_cluster_controller(lab)
        return
    if deployment != "castai-agent":
        return
    healable = (
        lab.state.castai.api_keys.get(_agent_secret_key(lab) or AGENT_KEY, {}).get("status") == 200
        and _agent_provider(lab) == "eks"
        and not lab.state.items("networkpolicies")
        and lab.state.find("clusterrolebindings", None, "castai-agent") is not None
        and lab.restart_cannot_heal is None
    )
    if not healable:
        return  # the new pods crash exactly like the old ones
    heal_agent(lab)


def restart_cluster_controller(lab: "LabCluster") -> None:
    """New cluster-controller pods start clean; they reject actions again unless the release now
    runs the newest chart (an action its version does not support is rejected again)."""
    from castui.clients.helm import latest_releases
    from castui.lab.scenarios import NEWEST, NS, log_line

    secrets = [s for s in lab.state.items("secrets") if ((s.get("metadata") or {}).get("labels") or {}).get("owner") == "helm"]
    charts = {r.chart: r.chart_version for r in latest_releases(secrets)}
    if charts.get("castai-cluster-controller") != NEWEST["castai-cluster-controller"][0]:
        return
    for pod in lab.pods_of("castai-cluster-controller"):
        container = pod["spec"]["containers"][0]["name"]
        lab.state.logs[(NS, pod["metadata"]["name"], container, False)] = "\n".join([
            log_line(lab.now, "info", "running castai-cluster-controller version " + NEWEST["castai-cluster-controller"][1]),
            log_line(lab.now, "info", "polling actions")]) + "\n"


def heal_agent(lab: "LabCluster") -> None:
    """Fresh agent pods, a leader and a follower, logging as healthy ones do."""
    from castui.lab.scenarios import NS

    lab.agent_pods()
    lab.agent_logs(lab.healthy_agent_logs("leader"), role="leader")
    lab.agent_logs(lab.healthy_agent_logs("follower"), role="follower")
    lab.cluster.update(agentStatus="online", agentSnapshotReceivedAt=k8s.iso(lab.now + timedelta(seconds=1)))
    status = lab.get("deployments", NS, "castai-agent")["status"]
    status.update(readyReplicas=2, availableReplicas=2)
    status.pop("unavailableReplicas", None)


def _agent_secret_key(lab: "LabCluster") -> str | None:
    """The key in the agent's Secret now: a restarted pod reads it at start."""
    import base64

    from castui.lab.scenarios import NS

    secret = lab.state.find("secrets", NS, "castai-agent")
    value = ((secret or {}).get("data") or {}).get("API_KEY")
    return base64.b64decode(value).decode().strip() if value else None


def _agent_provider(lab: "LabCluster") -> str | None:
    from castui.lab.scenarios import NS

    deployment = lab.get("deployments", NS, "castai-agent")
    for env in deployment["spec"]["template"]["spec"]["containers"][0].get("env") or []:
        if env["name"] == "PROVIDER":
            return env["value"]
    return None


def sync_spot_to_default_template(lab: "LabCluster") -> None:
    spot = lab.policies.get("spotInstances") or {}
    constraints = lab.default_template.setdefault("constraints", {})
    if "spotBackups" in spot:
        constraints["useSpotFallbacks"] = bool((spot["spotBackups"] or {}).get("enabled"))
    if "spotDiversityEnabled" in spot:
        constraints["enableSpotDiversity"] = bool(spot["spotDiversityEnabled"])
    if "spotDiversityPriceIncreaseLimitPercent" in spot:
        constraints["spotDiversityPriceIncreaseLimitPercent"] = spot["spotDiversityPriceIncreaseLimitPercent"]


def install_evictor_when_enabled(lab: "LabCluster") -> None:
    """The Evictor policy installs the Evictor (terraform-provider-castai castai/sdk PoliciesV1Evictor.Enabled):
    switched on where none runs, CAST AI deploys it with its EvictorConfig."""
    from castui.lab.scenarios import EVICTOR_APP, NODES, NS

    evictor = (lab.policies.get("nodeDownscaler") or {}).get("evictor") or {}
    if evictor.get("enabled") is not True or lab.pods_of(EVICTOR_APP):
        return
    labels = {"app.kubernetes.io/name": EVICTOR_APP, "app.kubernetes.io/instance": EVICTOR_APP}
    env = {"DRY_RUN": "false", "AGGRESSIVE_MODE": "false", "CYCLE_INTERVAL": "1m"}
    lab.add("deployments", k8s.deployment(EVICTOR_APP, NS, lab.now, replicas=1, labels=labels, env=env, containers=[EVICTOR_APP]))
    lab.add("pods", k8s.pod(f"{EVICTOR_APP}-6d9f7c8b5-r2d2x", NS, lab.now, node_name=NODES[1], containers=[EVICTOR_APP],
                            labels={**labels, "pod-template-hash": "6d9f7c8b5"}, owner=("ReplicaSet", f"{EVICTOR_APP}-6d9f7c8b5"),
                            started=lab.now))
    if not lab.state.items("evictorconfigs"):
        lab.add("evictorconfigs", k8s.evictorconfig(lab.now, management_mode="castai"))


def recompute_pdb(pdb: dict[str, Any]) -> None:
    spec, status = pdb.get("spec") or {}, pdb.setdefault("status", {})
    healthy = int(status.get("currentHealthy") or 0)
    if isinstance(spec.get("maxUnavailable"), int):
        status["disruptionsAllowed"] = min(spec["maxUnavailable"], healthy)
    elif isinstance(spec.get("minAvailable"), int):
        status["disruptionsAllowed"] = max(healthy - spec["minAvailable"], 0)


def finish_probe(state: "LabState", pod: dict[str, Any]) -> None:
    """The in-cluster curl pod: it ran, printed the HTTP status the API gave, and exited."""
    meta = pod["metadata"]
    now = k8s.iso(state.now)
    container = pod["spec"]["containers"][0]["name"]
    pod["status"] = {
        "phase": "Succeeded", "startTime": now,
        "containerStatuses": [{"name": container, "image": pod["spec"]["containers"][0].get("image", "curl"), "imageID": "",
                               "ready": False, "restartCount": 0,
                               "state": {"terminated": {"reason": "Completed", "exitCode": 0, "startedAt": now, "finishedAt": now}}}],
    }
    state.logs[(meta.get("namespace", "default"), meta["name"], container, False)] = state.castai.in_cluster_reachability
