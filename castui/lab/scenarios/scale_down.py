"""Scenarios of scaling down and eviction: symptoms 5 and 7 (no-scale-down, evictor-aggressive)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *  # noqa: F403 - the lab's vocabulary: LabCluster, constants, scenario()
from castui.lab.scenarios.base import AGENT_KEY, CLUSTER_ID, NS, LabCluster, log_line, scenario


def empty_node(lab: LabCluster, *, extra_pod: dict[str, Any] | None = None) -> str:
    name = "ip-10-0-2-21.ec2.internal"
    lab.add("nodes", k8s.node(name, lab.now, provider_id="aws:///eu-west-1b/i-0e1d2c3b4a5f60718"))
    lab.add("pods", k8s.pod("kube-proxy-z9w8v", "kube-system", lab.now, node_name=name, labels={"k8s-app": "kube-proxy"},
                            owner=("DaemonSet", "kube-proxy")))
    if extra_pod:
        lab.add("pods", extra_pod)
    return name


@scenario("node-downscaler-disabled", "the node downscaler is off; an empty node stays", "node-downscaler-disabled")
def _downscaler_disabled(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["enabled"] = False
    empty_node(lab)


@scenario("pdb-blocking-eviction", "a PodDisruptionBudget allows no disruption", "pdb-blocking-eviction")
def _pdb(lab: LabCluster) -> None:
    lab.remove("poddisruptionbudgets", "shop", "web")
    lab.add("poddisruptionbudgets", k8s.pdb("web", "shop", lab.now, selector={"app": "web"}, allowed=0, healthy=3, min_available=3))


@scenario("system-pods-blocking-drain", "an empty node keeps a bare kube-system pod that cannot be evicted", "system-pods-blocking-drain")
def _system_pods(lab: LabCluster) -> None:
    node_name = "ip-10-0-2-21.ec2.internal"
    empty_node(lab, extra_pod=k8s.pod("debug-shell", "kube-system", lab.now, node_name=node_name, labels={"run": "debug-shell"}))


@scenario("empty-nodes-delay-high", "empty nodes wait an hour before removal", "empty-nodes-delay-high")
def _delay_high(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["emptyNodes"]["delaySeconds"] = 3600


def eviction_storm(lab: LabCluster, count: int = 24) -> None:
    for i in range(count):
        lab.add("events", k8s.event(f"storm-{i}.evicted", "shop", lab.now, reason="Evicted", kind="Pod", obj=f"web-66b8f5d7c9-{i:02d}st",
                                    type_="Warning", message="Pod evicted by castai-evictor to pack nodes", ago=timedelta(minutes=2 + 2 * i)))


@scenario("evictor-aggressive-mode", "the evictor runs in aggressive mode (set in the policies)", "evictor-aggressive-mode")
def _aggressive(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["aggressiveMode"] = True


@scenario("evictor-cycle-short", "the evictor cycles every 30s during an eviction storm", "evictor-cycle-short", "eviction-storm")
def _cycle_short(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["cycleInterval"] = "30s"
    eviction_storm(lab)


@scenario("eviction-storm", "24 pods evicted in the last hour (evictor cycle 10m)", "eviction-storm")
def _storm(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["cycleInterval"] = "10m"
    eviction_storm(lab)
