"""Scenarios of scaling up: symptoms 4 and 6 (no-scale-up, spot-fallback)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *  # noqa: F403 - the lab's vocabulary: LabCluster, constants, scenario()
from castui.lab.scenarios.base import AGENT_KEY, CLUSTER_ID, NS, LabCluster, log_line, scenario


def pending_pod(lab: LabCluster, name: str, *, cpu: str = "500m", node_selector: dict[str, str] | None = None) -> None:
    lab.add("pods", k8s.pod(name, "shop", lab.now, node_name=None, labels={"app": "checkout"}, cpu=cpu, node_selector=node_selector,
                            owner=("ReplicaSet", "checkout-7f6d8c9b5"), started=lab.now - timedelta(minutes=12)))
    lab.add("events", k8s.event(f"{name}.failedscheduling", "shop", lab.now, reason="FailedScheduling", kind="Pod", obj=name,
                                type_="Warning", count=9, ago=timedelta(minutes=1),
                                message="0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."))


@scenario("unschedulable-pods-disabled", "the unschedulable pods policy is off; pods stay Pending", "unschedulable-pods-disabled")
def _unschedulable_disabled(lab: LabCluster) -> None:
    lab.policies["unschedulablePods"]["enabled"] = False
    pending_pod(lab, "checkout-7f6d8c9b5-p2x4c")


@scenario("cluster-cpu-limit-reached", "the cluster CPU limit (16 cores) leaves no room for Pending pods", "cluster-cpu-limit-reached")
def _cpu_limit(lab: LabCluster) -> None:
    lab.policies["clusterLimits"]["cpu"]["maxCores"] = 16
    for i in range(3):
        pending_pod(lab, f"checkout-7f6d8c9b5-c{i}l9m", cpu="2")


@scenario("no-matching-node-template", "a Pending pod selects gpu=true, which no node template offers", "no-matching-node-template")
def _no_template(lab: LabCluster) -> None:
    pending_pod(lab, "trainer-5d4c3b2a1-g7h8j", node_selector={"nvidia.com/gpu": "true"})


@scenario("spot-backups-disabled", "the default node template uses spot without on-demand fallback", "spot-backups-disabled")
def _spot_backups(lab: LabCluster) -> None:
    lab.default_template["constraints"]["useSpotFallbacks"] = False
    lab.policies["spotInstances"]["spotBackups"]["enabled"] = False


@scenario("spot-diversity-disabled", "spot diversity is off on the default node template", "spot-diversity-disabled")
def _spot_diversity(lab: LabCluster) -> None:
    lab.default_template["constraints"]["enableSpotDiversity"] = False
    lab.policies["spotInstances"]["spotDiversityEnabled"] = False


@scenario("spot-price-limit-out-of-range", "the spot price-increase limit is 50%", "spot-price-limit-out-of-range")
def _spot_price(lab: LabCluster) -> None:
    lab.default_template["constraints"]["spotDiversityPriceIncreaseLimitPercent"] = 50
    lab.policies["spotInstances"]["spotDiversityPriceIncreaseLimitPercent"] = 50
