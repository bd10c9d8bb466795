"""The Kubernetes reads a diagnosis of every symptom starts with, known before its checks are imported.

`castui diagnose` asks for these (castui.clients.kube.read_ahead) right after reading its settings,
so the cluster's first round trips, the cluster id's ConfigMap above all (every CAST AI read waits
for it), overlap the ~0.3 s of importing the decision tree instead of following it. Each is a read
some check makes as its first (tests/core/test_first_round.py holds the list to what a diagnosis
of the demo lab reads): one the checks stopped making would only be read for nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from castui.clients.kube import AheadRead

#: the agent's ConfigMap that holds the cluster id, the read every CAST AI read of the cluster waits for
METADATA_CONFIGMAP = "castai-agent-metadata"
#: objects per page of a folded list (castui.engine.facts.Facts.kube_fold): fewer round trips (each pays
#: the latency), still bounded memory
FOLD_PAGE_SIZE = 5000

#: the Evictor's and the kubelet's events, and CAST AI's own (castui.tree.evictor_aggressive, no_scale_down)
EVENT_SELECTORS = ("reason=Evicted", "reason=Killing", "reportingComponent=autoscaler.cast.ai")
#: the cluster-wide lists the checks start from
CLUSTER_LISTS = ("nodes", "clusterrolebindings", "clusterroles", "poddisruptionbudgets", "deployments", "statefulsets",
                 "daemonsets", "evictorconfigs")
#: pods that hold a node (castui.tree.no_scale_down.RUNNING_OR_PENDING), folded page by page
RUNNING_OR_PENDING = "status.phase!=Succeeded,status.phase!=Failed"


def first_reads(namespace: str, *, cluster_id_known: bool) -> list["AheadRead"]:
    """(resource, namespace, name or None for a list, query) as the checks' own reads ask them."""
    from castui.clients.kube import PAGE_SIZE

    def listed(resource: str, ns: str | None = None, *, labels: str | None = None, fields: str | None = None,
               page: int = PAGE_SIZE) -> "AheadRead":
        query = [("limit", str(page))]
        query += [(k, v) for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v]
        return resource, ns, None, tuple(query)

    reads: list[AheadRead] = [] if cluster_id_known else [("configmaps", namespace, METADATA_CONFIGMAP, ())]
    reads += [listed("pods", namespace), listed("deployments", namespace), listed("networkpolicies", namespace),
              listed("secrets", namespace, labels="owner=helm")]
    reads += [listed(resource) for resource in CLUSTER_LISTS]
    reads += [listed("events", fields=selector) for selector in EVENT_SELECTORS]
    reads += [listed("pods", fields="status.phase=Pending"),
              listed("pods", fields=RUNNING_OR_PENDING, page=FOLD_PAGE_SIZE),
              ("apiservices", None, "v1beta1.metrics.k8s.io", ()),
              ("leases", namespace, "agent-leader-election-lock", ())]
    return reads
