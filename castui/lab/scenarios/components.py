"""Scenarios of the installed components: symptoms 8-10 (terraform-drift, helm-mismatch, workload-autoscaler)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *  # noqa: F403 - the lab's vocabulary: LabCluster, constants, scenario()
from castui.lab.scenarios.base import AGENT_KEY, CLUSTER_ID, NS, LabCluster, log_line, scenario


@scenario("terraform-drift-detected", "the console changed the empty-node delay and CPU limit that Terraform declares",
          "terraform-drift-detected")
def _drift(lab: LabCluster) -> None:
    lab.tfstate = tfstate(lab.policies, overrides={"node_downscaler.empty_nodes.delay_seconds": 120,
                                                   "cluster_limits.cpu.max_cores": 48})


@scenario("chart-outdated", "the castai-agent chart is 11 minor versions behind", "chart-outdated")
def _outdated(lab: LabCluster) -> None:
    lab.release("castai-agent", "castai-agent", version="0.150.0", config={"apiKey": AGENT_KEY, "provider": "eks"})


@scenario("release-not-deployed", "the last castai-evictor upgrade failed", "release-not-deployed")
def _failed_release(lab: LabCluster) -> None:
    lab.release("castai-evictor", "castai-evictor", status="failed", revision=4,
                values={"aggressiveMode": False, "cycleInterval": "1m", "managedByCASTAI": True}, deployed_ago=timedelta(hours=2))


@scenario("workload-autoscaler-not-running", "the workload autoscaler crash-loops", "workload-autoscaler-not-running")
def _wa_down(lab: LabCluster) -> None:
    for pod in lab.pods_of("castai-workload-autoscaler"):
        status = pod["status"]["containerStatuses"][0]
        status.update(ready=False, started=False, restartCount=9,
                      state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}})
        for condition in pod["status"]["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady"):
                condition["status"] = "False"


@scenario("insufficient-metrics", "the workload autoscaler was installed 3 hours ago; confidence is low", "insufficient-metrics")
def _metrics(lab: LabCluster) -> None:
    started = lab.now - timedelta(hours=3)
    for pod in lab.pods_of("castai-workload-autoscaler"):
        pod["status"]["startTime"] = k8s.iso(started)
        pod["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": k8s.iso(started)}}
    for workload in lab.state.castai.workloads[CLUSTER_ID]:
        workload["recommendation"] = {"confidence": 0.18, "deployed": False,
                                      "estimatedThresholdReachedAt": k8s.iso(started + timedelta(hours=24))}
        workload["recommendationStatus"] = {"type": "STATUS_WAITING", "lowConfidence": True}


@scenario("missing-annotation", "shop/api carries autoscaling.cast.ai/enabled, which CAST AI does not read", "missing-annotation")
def _annotation(lab: LabCluster) -> None:
    lab.add("deployments", k8s.deployment("api", "shop", lab.now, replicas=2, labels={"app": "api"},
                                          annotations={"autoscaling.cast.ai/enabled": "true"}))
