"""Scenarios of scaling up: symptoms 4 and 6 (no-scale-up, spot-fallback).

A scale-up problem is observed only when pods wait ≥ 15 min unschedulable (guide v2 §4), so
every scenario here has such pods, with the scheduler's condition and FailedScheduling events
as a real cluster shows them; the traps have pods that only look stuck.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *
from castui.lab.scenarios.base import CLUSTER_ID, LabCluster, scenario

SPOT_TOLERATION = {"key": "scheduling.cast.ai/spot", "operator": "Exists"}


def pending_pod(lab: LabCluster, name: str, *, cpu: str = "500m", node_selector: dict[str, str] | None = None,
                tolerations: list[dict[str, Any]] | None = None, waiting: timedelta = timedelta(minutes=40),
                app: str = "checkout") -> dict[str, Any]:
    """An unschedulable pod of a ReplicaSet, Pending for `waiting`, with its FailedScheduling event."""
    replicaset = name.rsplit("-", 1)[0]
    labels = {"app": app, "pod-template-hash": replicaset.rsplit("-", 1)[-1]}
    pod = lab.add("pods", k8s.pod(name, "shop", lab.now, node_name=None, labels=labels, cpu=cpu, node_selector=node_selector,
                                  tolerations=tolerations, owner=("ReplicaSet", replicaset),
                                  started=lab.now - waiting))
    pod["status"]["conditions"][0]["message"] = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."
    lab.add("events", k8s.event(f"{name}.failedscheduling", "shop", lab.now, reason="FailedScheduling", kind="Pod", obj=name,
                                type_="Warning", count=max(1, int(waiting.total_seconds() // 120)), ago=timedelta(minutes=1),
                                message="0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."))
    return pod


def add_template(lab: LabCluster, name: str, **fields: Any) -> dict[str, Any]:
    """A non-default node template as the API lists it (constraints merged over the default's)."""
    constraints = {**lab.default_template["constraints"], **fields.pop("constraints", {})}
    template = {"name": name, "isDefault": False, "isEnabled": True, "version": "1", "configurationName": "default",
                "shouldTaint": True, "customLabels": {}, "customTaints": [], **fields, "constraints": constraints}
    lab.state.castai.node_templates[CLUSTER_ID].append({"template": template, "stats": {"countOnDemand": 0, "countSpot": 0,
                                                                                         "countFallback": 0}})
    return template


# --- no-scale-up -------------------------------------------------------------------------------------


@scenario("unschedulable-pods-disabled", "the unschedulable pods policy is off; pods stay Pending", "unschedulable-pods-disabled")
def _unschedulable_disabled(lab: LabCluster) -> None:
    lab.policies["unschedulablePods"]["enabled"] = False
    pending_pod(lab, "checkout-7f6d8c9b5-p2x4c")


@scenario("cluster-cpu-limit-reached", "the cluster CPU limit (16 cores) leaves no room: 12 cores of nodes + 3 Pending pods of 2",
          "cluster-cpu-limit-reached")
def _cpu_limit(lab: LabCluster) -> None:
    lab.policies["clusterLimits"]["cpu"]["maxCores"] = 16
    for i in range(3):
        pending_pod(lab, f"checkout-7f6d8c9b5-c{i}l9m", cpu="2")


@scenario("no-matching-node-template", "a Pending pod selects node template gpu-a100, which does not exist",
          "no-matching-node-template")
def _no_template(lab: LabCluster) -> None:
    pending_pod(lab, "trainer-5d4c3b2a1-g7h8j", node_selector={"scheduling.cast.ai/node-template": "gpu-a100"}, app="trainer")


@scenario("node-template-taint-not-tolerated", "a Pending pod selects tainted node template batch without tolerating its taint",
          "no-matching-node-template")
def _template_taint(lab: LabCluster) -> None:
    add_template(lab, "batch", shouldTaint=True, customLabels={"workload": "batch"})
    pending_pod(lab, "report-6c5b4a398-k2l3m", node_selector={"scheduling.cast.ai/node-template": "batch"}, app="report")


@scenario("scale-up-autoscaler-disabled", "all autoscaler policies are off (enabled: false); pods stay Pending", "autoscaler-disabled")
def _autoscaler_disabled(lab: LabCluster) -> None:
    lab.policies["enabled"] = False
    pending_pod(lab, "checkout-7f6d8c9b5-a8d1s")


@scenario("scale-up-cluster-warning", "the API reports the cluster in warning: CAST AI lost its cloud credentials",
          "cluster-status-warning")
def _cluster_warning(lab: LabCluster) -> None:
    lab.cluster["status"] = "warning"
    lab.cluster["reconcileInfo"] = {
        "status": "warning", "mode": "enabled", "errorCount": 14,
        "error": "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/castai-eks-lab-eks/castai is not authorized "
                 "to perform: ec2:RunInstances",
    }
    pending_pod(lab, "checkout-7f6d8c9b5-w4r9n")


@scenario("scale-up-cluster-failed", "the cluster failed to reconcile; pods stay Pending", "cluster-status-warning")
def _cluster_failed(lab: LabCluster) -> None:
    lab.cluster["status"] = "failed"
    lab.cluster["reconcileInfo"] = {"status": "failed", "mode": "enabled", "errorCount": 3,
                                    "error": "reconcile: applying node configuration: subnet not found"}
    pending_pod(lab, "checkout-7f6d8c9b5-f7a2e")


@scenario("scale-up-hibernated", "the cluster is hibernated: CAST AI runs no nodes, and the pods wait", "cluster-hibernated")
def _hibernated(lab: LabCluster) -> None:
    lab.cluster["status"] = "hibernated"
    lab.cluster["agentStatus"] = "disconnected"  # no nodes run the agent either
    pending_pod(lab, "checkout-7f6d8c9b5-h1b3r")


@scenario("scoped-mode-excludes", "scoped mode is on and the Pending pod does not tolerate scheduling.cast.ai/scoped-autoscaler",
          "scoped-mode-excludes")
def _scoped(lab: LabCluster) -> None:
    lab.policies["isScopedMode"] = True
    pending_pod(lab, "checkout-7f6d8c9b5-s5c0p")
    # a pod that follows docs.cast.ai's example toleration is not the cause
    pending_pod(lab, "api-5b6c7d8e9-t0l3r", app="api", tolerations=[
        {"key": "scheduling.cast.ai/scoped-autoscaler", "operator": "Equal", "value": "NoSchedule", "effect": "NoSchedule"}])


@scenario("trap-pending-in-progress", "trap: pods Pending for 3 minutes while the unschedulable pods policy is off: nodes may still "
          "come, so it is a risk, not a cause", trap=True, latent=("unschedulable-pods-disabled",))
def _pending_in_progress(lab: LabCluster) -> None:
    lab.policies["unschedulablePods"]["enabled"] = False
    pending_pod(lab, "checkout-7f6d8c9b5-y0u9g", waiting=timedelta(minutes=3))


@scenario("trap-scoped-mode-tolerated", "trap: scoped mode is on and the long-Pending pod tolerates the scoped taint with a keyless "
          "Exists; nothing explains it", trap=True)
def _scoped_tolerated(lab: LabCluster) -> None:
    lab.policies["isScopedMode"] = True
    pending_pod(lab, "checkout-7f6d8c9b5-e9x1s", tolerations=[{"operator": "Exists"}])


# --- spot-fallback ---------------------------------------------------------------------------------


@scenario("spot-backups-disabled", "pods that need spot stay Pending and the default template has no on-demand fallback",
          "spot-backups-disabled")
def _spot_backups(lab: LabCluster) -> None:
    lab.default_template["constraints"]["useSpotFallbacks"] = False
    lab.policies["spotInstances"]["spotBackups"]["enabled"] = False  # the provider syncs the default template into the policies
    for suffix in ("b4k7q", "m2n8r"):
        pending_pod(lab, f"crawler-8d7c6b5a4-{suffix}", node_selector={"scheduling.cast.ai/spot": "true"},
                    tolerations=[SPOT_TOLERATION], app="crawler")


@scenario("trap-spot-diversity-off", "trap: spot in use with spot diversity off and no price-increase limit (CAST AI's defaults), "
          "and spot pods Pending for 20 min: diversity is no fallback setting", trap=True)
def _spot_diversity_off(lab: LabCluster) -> None:
    constraints = lab.default_template["constraints"]
    constraints["enableSpotDiversity"] = False
    constraints.pop("spotDiversityPriceIncreaseLimitPercent", None)
    lab.policies["spotInstances"]["spotDiversityEnabled"] = False
    lab.policies["spotInstances"].pop("spotDiversityPriceIncreaseLimitPercent", None)
    pending_pod(lab, "crawler-8d7c6b5a4-d1v0f", node_selector={"scheduling.cast.ai/spot": "true"},
                tolerations=[SPOT_TOLERATION], app="crawler", waiting=timedelta(minutes=20))


@scenario("trap-spot-price-limit-high", "trap: spot diversity on with a 50% price-increase limit; no source sets a range", trap=True)
def _spot_price_high(lab: LabCluster) -> None:
    lab.default_template["constraints"]["spotDiversityPriceIncreaseLimitPercent"] = 50
    lab.policies["spotInstances"]["spotDiversityPriceIncreaseLimitPercent"] = 50


@scenario("trap-spot-template-no-fallback", "trap: a spot-only template without fallback, and no pod waits for spot: a risk only",
          trap=True, latent=("spot-backups-disabled",))
def _spot_no_fallback_idle(lab: LabCluster) -> None:
    add_template(lab, "spot-batch", shouldTaint=True, constraints={"spot": True, "onDemand": False, "useSpotFallbacks": False})
