"""Scenarios of scaling down and eviction: symptoms 5 and 7 (no-scale-down, evictor-aggressive).

No-scale-down is observed on an empty node or a named (or cordoned) node; the Evictor's causes
need a named node. Evictor-aggressive is observed when the user names it, or when cluster-controller
drained more nodes in the last hour than the threshold (10).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.lab import objects as k8s
from castui.lab.scenarios.base import *  # noqa: F403 - the lab's vocabulary: LabCluster, constants, scenario()
from castui.lab.scenarios.base import (
    CLUSTER_ID,
    EVICTOR_APP,
    NODES,
    NS,
    LabCluster,
    cluster_controller_logs,
    cluster_controller_polls,
    log_line,
    scenario,
)

EMPTY_NODE = "ip-10-0-2-21.ec2.internal"
NO_SCALE_DOWN, EVICTOR_AGGRESSIVE = ("no-scale-down",), ("evictor-aggressive",)


def empty_node(lab: LabCluster, *, labels: dict[str, str] | None = None, name: str = EMPTY_NODE,
               cordoned: bool = False, extra_pod: dict[str, Any] | None = None) -> str:
    """A CAST AI node that runs only a DaemonSet pod (and `extra_pod`), up for 3 days."""
    node = lab.add("nodes", k8s.node(name, lab.now, provider_id="aws:///eu-west-1b/i-0e1d2c3b4a5f60718",
                                     labels={"topology.kubernetes.io/zone": "eu-west-1b",
                                             "provisioner.cast.ai/managed-by": "cast.ai", **(labels or {})}))
    if cordoned:
        node["spec"]["unschedulable"] = True
    lab.add("pods", k8s.pod("kube-proxy-z9w8v", "kube-system", lab.now, node_name=name, labels={"k8s-app": "kube-proxy"},
                            owner=("DaemonSet", "kube-proxy")))
    if extra_pod:
        lab.add("pods", extra_pod)
    return name


# --- 5. no-scale-down ------------------------------------------------------------------------------


@scenario("node-downscaler-disabled", "the node downscaler is off; an empty node stays", "node-downscaler-disabled")
def _downscaler_disabled(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["enabled"] = False
    empty_node(lab)


@scenario("empty-nodes-delay-high", "a node emptied 10 minutes ago waits for the 30-minute empty-node delay",
          "empty-nodes-delay-high")
def _delay_high(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["emptyNodes"]["delaySeconds"] = 1800
    node = empty_node(lab)
    lab.add("events", k8s.event("batch-7c9d8-x2p4q.killing", "shop", lab.now, reason="Killing", kind="Pod", obj="batch-7c9d8-x2p4q",
                                message="Stopping container batch", host=node, ago=timedelta(minutes=10)))


@scenario("node-removal-disabled", "an empty node is labelled autoscaling.cast.ai/removal-disabled=true", "node-removal-disabled")
def _removal_disabled(lab: LabCluster) -> None:
    empty_node(lab, labels={"autoscaling.cast.ai/removal-disabled": "true"})


@scenario("scoped-mode-excludes-node", "scoped mode is on and an empty node was not created by CAST AI", "scoped-mode-excludes")
def _scoped_node(lab: LabCluster) -> None:
    lab.policies["isScopedMode"] = True
    node = empty_node(lab)
    del lab.get("nodes", None, node)["metadata"]["labels"]["provisioner.cast.ai/managed-by"]


@scenario("cluster-controller-not-running", "cluster-controller cannot reach the CAST AI API; an empty node stays",
          "cluster-controller-not-running")
def _cluster_controller(lab: LabCluster) -> None:
    empty_node(lab)
    failing = ('Get "https://api.cast.ai/v1/kubernetes/clusters/' + CLUSTER_ID
               + '/actions": dial tcp: lookup api.cast.ai on 10.100.0.10:53: i/o timeout')
    cluster_controller_logs(lab, cluster_controller_polls(lab, failing=failing), replica=0)


@scenario("pdb-blocking-eviction", "a PodDisruptionBudget at 0 holds a pod on the node the user named", "pdb-blocking-eviction",
          nodes=(NODES[0],))
def _pdb(lab: LabCluster) -> None:
    lab.remove("poddisruptionbudgets", "shop", "web")
    lab.add("poddisruptionbudgets", k8s.pdb("web", "shop", lab.now, selector={"app": "web"}, allowed=0, healthy=3, min_available=3))


@scenario("pdb-at-zero-elsewhere", "trap: a PodDisruptionBudget at 0, but no node is named, cordoned or empty",
          latent=("pdb-blocking-eviction",), trap=True)
def _pdb_elsewhere(lab: LabCluster) -> None:
    _pdb(lab)


@scenario("system-pods-blocking-drain", "a cordoned node keeps a bare pod and a StatefulSet pod the Evictor won't move",
          "system-pods-blocking-drain")
def _system_pods(lab: LabCluster) -> None:
    node = empty_node(lab, cordoned=True)
    lab.add("pods", k8s.pod("debug-shell", "kube-system", lab.now, node_name=node, labels={"run": "debug-shell"}))
    lab.add("pods", k8s.pod("redis-0", "shop", lab.now, node_name=node, labels={"app": "redis"}, owner=("StatefulSet", "redis"),
                            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-redis-0"}}]))


def remove_evictor(lab: LabCluster) -> None:
    """What CAST AI leaves when the Evictor policy is off: no release, Deployment, pods or EvictorConfig."""
    lab.state.objects["pods"] = [p for p in lab.state.items("pods") if p not in lab.pods_of(EVICTOR_APP)]
    lab.remove("deployments", NS, EVICTOR_APP)
    lab.state.objects["evictorconfigs"] = []
    lab.state.objects["secrets"] = [s for s in lab.state.items("secrets")
                                    if (s["metadata"].get("labels") or {}).get("name") != "castai-evictor"]


@scenario("evictor-disabled", "the Evictor policy is off (CAST AI removed the Evictor); the user names an underused node",
          "evictor-disabled", nodes=(NODES[2],))
def _evictor_disabled(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["enabled"] = False
    remove_evictor(lab)


@scenario("evictor-dry-run", "the Evictor runs in dry run (policies); the user names an underused node", "evictor-dry-run",
          nodes=(NODES[2],))
def _evictor_dry_run(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["dryRun"] = True


def self_managed_evictor(lab: LabCluster, **config: Any) -> None:
    """An Evictor installed with `managedByCASTAI=false`: the chart renders managementMode self-managed and the
    API reports configOwnership self-managed; its env and EvictorConfig carry `config`."""
    lab.state.castai.evictor_ownership[CLUSTER_ID] = "self-managed"
    lab.policies["nodeDownscaler"]["evictor"].update(enabled=False, status="Incompatible")
    lab.state.objects["evictorconfigs"] = [k8s.evictorconfig(lab.now, management_mode="self-managed", **config)]
    env = {"aggressiveMode": "AGGRESSIVE_MODE", "cycleInterval": "CYCLE_INTERVAL", "dryRun": "DRY_RUN"}
    container = lab.get("deployments", NS, EVICTOR_APP)["spec"]["template"]["spec"]["containers"][0]
    for key, value in config.items():
        for entry in container["env"]:
            if entry["name"] == env.get(key):
                entry["value"] = str(value).lower() if isinstance(value, bool) else str(value)
    values = {"aggressiveMode": False, "cycleInterval": "1m", "managedByCASTAI": False, **config}
    lab.release("castai-evictor", "castai-evictor", values=values, config={"managedByCASTAI": False, **config})


@scenario("evictor-self-managed", "a self-managed Evictor ignores the policies; the user names an underused node",
          "evictor-self-managed", nodes=(NODES[2],))
def _evictor_self_managed(lab: LabCluster) -> None:
    self_managed_evictor(lab)


# --- 7. evictor-aggressive --------------------------------------------------------------------------


def cluster_controller_drains(lab: LabCluster, count: int, *, minutes: int = 50) -> list[str]:
    """cluster-controller's leader drained `count` nodes over the last `minutes` (rebalancing), logged as
    castai/cluster-controller internal/actions/drain_node_handler.go does; the drained nodes' names."""
    start = lab.now - timedelta(minutes=minutes)
    lines = cluster_controller_polls(lab, minutes=minutes + 2)
    drained = [f"ip-10-0-3-{30 + i}.ec2.internal" for i in range(count)]
    for i, node in enumerate(drained):
        moment = start + timedelta(minutes=minutes * i / max(count, 1))
        action = k8s.uid("action", node)
        lines.append(log_line(moment, "info", "draining kubernetes node", action="*castai.ActionDrainNode", id=action,
                              node_id=k8s.uid("node", node), node_name=node, provider_id=f"aws:///eu-west-1a/i-0{i:016x}"))
        if i % 5 == 4:
            lines.append(log_line(moment + timedelta(minutes=1), "info", "node drained forcefully",
                                  action="*castai.ActionDrainNode", id=action, node_name=node))
    lines.sort(key=lambda line: line[6:26])  # time="…": the log is in time order
    cluster_controller_logs(lab, lines, replica=0, every=timedelta(minutes=minutes))  # the storm goes on
    return drained


def castai_events(lab: LabCluster, pods: list[str], *, ns: str = "shop", every: int = 2) -> None:
    """CAST AI autoscaler events about pods it moved (reportingComponent autoscaler.cast.ai; reasons not public)."""
    for i, pod in enumerate(pods):
        lab.add("events", k8s.event(f"{pod}.castai", ns, lab.now, reason="EvictedByCastAI", kind="Pod", obj=pod, type_="Warning",
                                    message="Pod was moved to pack nodes", reporting_component="autoscaler.cast.ai",
                                    ago=timedelta(minutes=every + every * i)))


def eviction_storm(lab: LabCluster, count: int = 24) -> None:
    """A rebalancing: cluster-controller drained `count` nodes in the last hour, pods moved every 2 minutes."""
    cluster_controller_drains(lab, count)
    castai_events(lab, [f"web-66b8f5d7c9-{i:02d}st" for i in range(count)])


@scenario("eviction-storm", "cluster-controller drained 24 nodes in the last hour (a rebalancing)",
          "eviction-storm", "cluster-controller-drains")
def _storm(lab: LabCluster) -> None:
    eviction_storm(lab)


@scenario("cluster-controller-drains", "the node the user asks about was drained by cluster-controller (spot interruption)",
          "eviction-storm", "cluster-controller-drains", named=EVICTOR_AGGRESSIVE, nodes=("ip-10-0-3-31.ec2.internal",))
def _cc_drains(lab: LabCluster) -> None:
    cluster_controller_drains(lab, 3, minutes=30)


@scenario("node-pressure-evictions", "the kubelet evicts pods for memory pressure; the user blames the Evictor",
          "node-pressure-evictions", named=EVICTOR_AGGRESSIVE)
def _node_pressure(lab: LabCluster) -> None:
    kubelet_evictions(lab, 12)


def kubelet_evictions(lab: LabCluster, count: int) -> None:
    """Kubelet memory-pressure evictions (kubernetes pkg/kubelet/eviction/helpers.go)."""
    for i in range(count):
        lab.add("events", k8s.event(f"batch-{i}.evicted", "shop", lab.now, reason="Evicted", kind="Pod", obj=f"batch-5f7d9-{i:02d}x",
                                    type_="Warning", host=NODES[i % 3], ago=timedelta(minutes=3 + 4 * i),
                                    message="The node was low on resource: memory. Threshold quantity: 100Mi, available: 88Mi. "
                                    "Container batch was using 1843Mi, request is 256Mi, has larger consumption of memory."))


def single_replica_moved(lab: LabCluster) -> str:
    """A one-replica Deployment whose pod CAST AI just moved: only aggressive mode moves it."""
    labels = {"app": "reports"}
    lab.add("deployments", k8s.deployment("reports", "shop", lab.now, replicas=1, labels=labels))
    lab.add("replicasets", k8s.replicaset("reports-6c5b4d7f8", "shop", lab.now, owner="reports", replicas=1, labels=labels))
    lab.add("pods", k8s.pod("reports-6c5b4d7f8-k2m9n", "shop", lab.now, node_name=NODES[1], labels=labels,
                            owner=("ReplicaSet", "reports-6c5b4d7f8"), started=lab.now - timedelta(minutes=4)))
    castai_events(lab, ["reports-6c5b4d7f8-k2m9n"])
    return "reports-6c5b4d7f8-k2m9n"


@scenario("evictor-aggressive-mode", "aggressive mode (policies) moved a single-replica pod; the user complains",
          "evictor-aggressive-mode", "eviction-storm", named=EVICTOR_AGGRESSIVE)
def _aggressive(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["aggressiveMode"] = True
    single_replica_moved(lab)


@scenario("evictor-aggressive-self-managed", "a self-managed Evictor runs with AGGRESSIVE_MODE=true and moved a single replica",
          "evictor-aggressive-mode", "eviction-storm", named=EVICTOR_AGGRESSIVE)
def _aggressive_self_managed(lab: LabCluster) -> None:
    self_managed_evictor(lab, aggressiveMode=True)
    single_replica_moved(lab)


@scenario("evictor-cycle-short", "the Evictor cycles every 30s (policies); the user complains", "evictor-cycle-short",
          named=EVICTOR_AGGRESSIVE)
def _cycle_short(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["cycleInterval"] = "30s"


@scenario("kubelet-evictions-no-evictor", "trap: kubelet memory-pressure evictions on a cluster with no Evictor at all",
          latent=("node-pressure-evictions", "evictor-disabled"), trap=True)
def _kubelet_trap(lab: LabCluster) -> None:
    lab.policies["nodeDownscaler"]["evictor"]["enabled"] = False
    remove_evictor(lab)
    kubelet_evictions(lab, 24)


def demo_faults(lab: LabCluster) -> None:
    """The demo's share of symptoms 5 and 7: a cordoned node a PDB at 0 holds, a rebalancing storm of drains,
    and an Evictor in aggressive mode with a 30s cycle that moved a single replica."""
    _pdb(lab)
    lab.get("nodes", None, NODES[0])["spec"]["unschedulable"] = True
    eviction_storm(lab, 31)
    _aggressive(lab)
    _cycle_short(lab)

