"""Scenarios of the installed components: symptoms 8-10 (terraform-drift, helm-mismatch, workload-autoscaler)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *  # noqa: F403 - the lab's vocabulary: LabCluster, constants, scenario()
from castui.lab.scenarios.base import AGENT_KEY, CLUSTER_ID, NEWEST, NS, LabCluster, log_line, scenario, tfstate

WA = "castai-workload-autoscaler"


def web_workload(lab: LabCluster) -> dict[str, Any]:
    """The API's entry for shop/web, the healthy lab's autoscaled Deployment."""
    return next(w for w in lab.state.castai.workloads[CLUSTER_ID] if w["name"] == "web")


def controller_logs(lab: LabCluster, lines: list[str], *, every: timedelta | None = None) -> None:
    """The log of each cluster-controller pod's first container (the chart names it `cluster-controller`);
    it writes its last `every` of lines again each `every`."""
    for pod in lab.pods_of("castai-cluster-controller"):
        container = pod["spec"]["containers"][0]["name"]
        lab.state.set_log(NS, pod["metadata"]["name"], container, lines, every=every)


def release_revision(lab: LabCluster, name: str, chart: str, revision: int, status: str, *, version: str | None = None,
                     values: dict[str, Any] | None = None, deployed_ago: timedelta = timedelta(days=6)) -> None:
    """An older revision's Secret beside the newest one (Helm keeps the history, `MaxHistory` permitting)."""
    from castui.clients.helm import encode_release_secret

    version = version or NEWEST[chart][0]
    release = {"name": name, "namespace": NS, "version": revision,
               "info": {"first_deployed": k8s.iso(lab.now - timedelta(days=40)), "last_deployed": k8s.iso(lab.now - deployed_ago),
                        "deleted": "", "Description": "Upgrade complete", "status": status},
               "chart": {"metadata": {"name": chart, "version": version, "appVersion": NEWEST[chart][1], "apiVersion": "v2"},
                         "values": values or {}},
               "config": {}, "manifest": ""}
    lab.add("secrets", encode_release_secret(release, namespace=NS, name=name, revision=revision, status=status))


def uninstall_workload_autoscaler(lab: LabCluster) -> None:
    """As a read-only or node-autoscaler install leaves the cluster: no Deployment, pods nor release."""
    lab.remove("deployments", NS, WA)
    lab.state.objects["pods"] = [p for p in lab.state.items("pods") if p not in lab.pods_of(WA)]
    lab.state.objects["secrets"] = [s for s in lab.state.items("secrets")
                                    if (s["metadata"].get("labels") or {}).get("name") != WA]


# --- 8. terraform-drift ---------------------------------------------------------------------------


@scenario("terraform-drift-detected", "the console changed the empty-node delay and CPU limit that Terraform declares",
          "terraform-drift-detected")
def _drift(lab: LabCluster) -> None:
    lab.tfstate = tfstate(lab.policies, overrides={"node_downscaler.empty_nodes.delay_seconds": 120,
                                                   "cluster_limits.cpu.max_cores": 48})


@scenario("terraform-template-sync-artefact", "trap: Terraform declares custom instances the API syncs to the default "
          "node template; only that field differs", trap=True)
def _sync_artefact(lab: LabCluster) -> None:
    lab.tfstate = tfstate(lab.policies, overrides={"unschedulable_pods.custom_instances_enabled": True})


@scenario("terraform-without-castai", "trap: the Terraform directory manages the EKS cluster but no CAST AI resource",
          trap=True)
def _no_castai(lab: LabCluster) -> None:
    lab.tfstate = {"version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": k8s.uid("tf-eks"), "outputs": {},
                   "resources": [{"mode": "managed", "type": "aws_eks_cluster", "name": "this",
                                  "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                                  "instances": [{"schema_version": 0, "attributes": {"name": "lab-eks", "version": "1.30"},
                                                 "sensitive_attributes": [], "dependencies": []}]}]}


# --- 9. helm-mismatch ----------------------------------------------------------------------------


@scenario("chart-outdated", "cluster-controller 0.85.0 rejects an action CAST AI sends: its version does not support it",
          "chart-outdated")
def _outdated(lab: LabCluster) -> None:
    lab.release("cluster-controller", "castai-cluster-controller", version="0.85.0",
                config={"castai": {"apiKey": AGENT_KEY, "clusterID": CLUSTER_ID}})
    start = lab.now - timedelta(minutes=4)
    lines = [log_line(start, "info", "running castai-cluster-controller version v0.58.1"),
             log_line(start, "info", "polling actions")]
    for i in range(3):
        moment = start + timedelta(minutes=i)
        lines += [log_line(moment, "info", "polling actions"),
                  # castai/cluster-controller@5919ac5 internal/controller/controller.go handleActions
                  log_line(moment, "error", "handle actions", action_id=k8s.uid("action", str(i)),
                           error="invalid action, check action data or if cluster controller version supports this action type")]
    controller_logs(lab, lines, every=timedelta(minutes=1))  # CAST AI sends the action again every minute


@scenario("agent-chart-behind", "trap: the castai-agent chart is 11 minor versions behind (the agent is never "
          "auto-updated): a risk, not a fault", latent=("chart-outdated",), trap=True)
def _agent_behind(lab: LabCluster) -> None:
    lab.release("castai-agent", "castai-agent", version="0.150.0", config={"apiKey": AGENT_KEY, "provider": "eks"})


@scenario("managed-charts-behind", "trap: cluster-controller and a CAST AI-managed evictor are behind the newest "
          "charts; CAST AI upgrades them itself", trap=True)
def _managed_behind(lab: LabCluster) -> None:
    lab.release("cluster-controller", "castai-cluster-controller", version="0.90.2",
                config={"castai": {"apiKey": AGENT_KEY, "clusterID": CLUSTER_ID}})
    lab.release("castai-evictor", "castai-evictor", version="0.35.120",
                values={"aggressiveMode": False, "cycleInterval": "1m", "managedByCASTAI": True})


@scenario("release-not-deployed", "the last castai-evictor upgrade (revision 4) failed; revision 3 was deployed",
          "release-not-deployed")
def _failed_release(lab: LabCluster) -> None:
    values = {"aggressiveMode": False, "cycleInterval": "1m", "managedByCASTAI": True}
    lab.release("castai-evictor", "castai-evictor", status="failed", revision=4, values=values, deployed_ago=timedelta(hours=2))
    release_revision(lab, "castai-evictor", "castai-evictor", 3, "deployed", version="0.35.120", values=values)


@scenario("terraform-release-not-deployed", "the Terraform module's castai-agent release failed its last upgrade",
          "release-not-deployed")
def _terraform_release(lab: LabCluster) -> None:
    # the EKS/GKE modules pass the cluster id as additionalEnv.STATIC_CLUSTER_ID (terraform-castai-eks-cluster main.tf)
    lab.release("castai-agent", "castai-agent", status="failed", revision=5, deployed_ago=timedelta(hours=1),
                config={"apiKey": AGENT_KEY, "provider": "eks", "additionalEnv": {"STATIC_CLUSTER_ID": CLUSTER_ID}})
    release_revision(lab, "castai-agent", "castai-agent", 4, "deployed")


# --- 10. workload-autoscaler --------------------------------------------------------------------


@scenario("workload-autoscaler-not-running", "the workload autoscaler crash-loops; shop/web's recommendation waits",
          "workload-autoscaler-not-running")
def _wa_down(lab: LabCluster) -> None:
    for pod in lab.pods_of(WA):
        status = pod["status"]["containerStatuses"][0]
        status.update(ready=False, started=False, restartCount=9,
                      state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}})
        for condition in pod["status"]["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady"):
                condition["status"] = "False"
    web_workload(lab)["recommendationStatus"].update(type="STATUS_WAITING", appliedPods=0)


@scenario("workload-autoscaler-not-installed", "shop/web is annotated for the workload autoscaler, which is not installed",
          "workload-autoscaler-not-running")
def _wa_missing(lab: LabCluster) -> None:
    uninstall_workload_autoscaler(lab)
    web = web_workload(lab)
    web.pop("recommendation", None)
    web["recommendationStatus"] = {"type": "STATUS_UNKNOWN", "lowConfidence": False, "appliedPods": 0, "totalPods": 3}


@scenario("read-only-onboarding", "trap: a read-only install: no workload autoscaler, and no workload configured for it; "
          "the API still lists workloads with low-confidence recommendations", trap=True)
def _read_only(lab: LabCluster) -> None:
    uninstall_workload_autoscaler(lab)
    web = lab.get("deployments", "shop", "web")
    web["metadata"].pop("annotations", None)
    entry = web_workload(lab)
    entry.update(managedBy="API", workloadConfigV2={"vpaConfig": {"managementOption": "READ_ONLY"}},
                 recommendation={"confidence": 0.31, "deployed": False},
                 recommendationStatus={"type": "STATUS_WAITING", "lowConfidence": True, "appliedPods": 0, "totalPods": 3})


@scenario("insufficient-metrics", "shop/web was configured 3 hours ago; its recommendation's confidence is low",
          "insufficient-metrics")
def _metrics(lab: LabCluster) -> None:
    web = web_workload(lab)
    web["recommendation"] = {"confidence": 0.18, "deployed": False,
                             "estimatedThresholdReachedAt": k8s.iso(lab.now + timedelta(hours=21))}
    web["recommendationStatus"] = {"type": "STATUS_WAITING", "lowConfidence": True, "appliedPods": 0, "totalPods": 3}


@scenario("young-workload-autoscaler", "trap: the workload autoscaler was installed 3 hours ago and its recommendations "
          "are already confident (pod age is no evidence)", trap=True)
def _young(lab: LabCluster) -> None:
    started = lab.now - timedelta(hours=3)
    for pod in lab.pods_of(WA):
        pod["status"]["startTime"] = k8s.iso(started)
        pod["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": k8s.iso(started)}}


@scenario("metrics-server-missing", "metrics-server was removed: no metrics API, and shop/web's confidence stays low",
          "metrics-server-missing", "insufficient-metrics")
def _no_metrics_server(lab: LabCluster) -> None:
    lab.remove("apiservices", None, "v1beta1.metrics.k8s.io")
    lab.remove("deployments", "kube-system", "metrics-server")
    lab.state.objects["pods"] = [p for p in lab.state.items("pods") if not p["metadata"]["name"].startswith("metrics-server-")]
    _metrics(lab)


@scenario("workload-error", "the workload autoscaler cannot apply shop/web's recommendation", "workload-error")
def _workload_error(lab: LabCluster) -> None:
    web_workload(lab)["recommendationStatus"] = {
        "type": "STATUS_STOPPED", "lowConfidence": False, "appliedPods": 0, "totalPods": 3,
        "error": {"type": "ERROR_DEPLOY_FAILED",
                  "message": "admission webhook \"validate.kyverno.svc\" denied the request: resource limits are required"}}


@scenario("missing-annotation", "shop/api carries autoscaling.cast.ai/enabled, which CAST AI does not read", "missing-annotation")
def _annotation(lab: LabCluster) -> None:
    lab.add("deployments", k8s.deployment("api", "shop", lab.now, replicas=2, labels={"app": "api"},
                                          annotations={"autoscaling.cast.ai/enabled": "true"}))
