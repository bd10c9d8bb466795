"""Factories for the Kubernetes objects a lab serves, complete enough for kubectl
and the official client's validation. Times are relative to the lab's clock."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def meta(name: str, namespace: str | None = None, *, labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None, created: datetime | None = None,
         owner: tuple[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "uid": uid(namespace or "", name), "resourceVersion": "1"}
    if namespace:
        data["namespace"] = namespace
    if labels:
        data["labels"] = dict(labels)
    if annotations:
        data["annotations"] = dict(annotations)
    if created:
        data["creationTimestamp"] = iso(created)
    if owner:
        kind, owner_name = owner
        data["ownerReferences"] = [{
            "apiVersion": "apps/v1", "kind": kind, "name": owner_name, "uid": uid(namespace or "", owner_name),
            "controller": True, "blockOwnerDeletion": True,
        }]
    return data


def namespace(name: str, now: datetime) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, created=now - timedelta(days=30)),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def node(name: str, now: datetime, *, provider_id: str, cpu: int = 4, labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    all_labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "node.kubernetes.io/instance-type": "m5.xlarge", **(labels or {})}
    capacity = {"cpu": str(cpu), "memory": f"{cpu * 4}Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": meta(name, labels=all_labels, annotations=annotations, created=now - timedelta(days=3)),
        "spec": {"providerID": provider_id},
        "status": {
            "capacity": capacity, "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": iso(now), "lastTransitionTime": iso(now - timedelta(days=3))}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": uid("m", name).replace("-", ""), "systemUUID": uid("s", name), "bootID": uid("b", name),
                         "kernelVersion": "6.1.0", "osImage": "Amazon Linux 2023", "containerRuntimeVersion": "containerd://1.7.0",
                         "kubeletVersion": "v1.30.0", "kubeProxyVersion": "v1.30.0", "operatingSystem": "linux", "architecture": "amd64"},
        },
    }


def container_status(name: str, image: str, *, state: str = "running", started: datetime, restarts: int = 0,
                     reason: str | None = None, last_exit: tuple[str, int] | None = None,
                     finished: datetime | None = None) -> dict[str, Any]:
    if state == "running":
        current: dict[str, Any] = {"running": {"startedAt": iso(started)}}
    elif state == "waiting":
        current = {"waiting": {"reason": reason or "ContainerCreating",
                               "message": "back-off restarting failed container" if reason == "CrashLoopBackOff" else ""}}
    else:
        current = {"terminated": {"reason": reason or "Error", "exitCode": 1, "startedAt": iso(started), "finishedAt": iso(started)}}
    status: dict[str, Any] = {"name": name, "image": image, "imageID": f"{image}@sha256:{'0' * 64}", "ready": state == "running",
                              "restartCount": restarts, "started": state == "running", "state": current}
    if last_exit:
        status["lastState"] = {"terminated": {"reason": last_exit[0], "exitCode": last_exit[1],
                                              "startedAt": iso(started), "finishedAt": iso(finished or started)}}
    return status


def pod(name: str, ns: str, now: datetime, *, node_name: str | None, labels: dict[str, str] | None = None,
        containers: list[str] | None = None, image: str = "registry.example/app:1.0", owner: tuple[str, str] | None = None,
        started: datetime | None = None, state: str = "running", reason: str | None = None, restarts: int = 0,
        last_exit: tuple[str, int] | None = None, finished: datetime | None = None, phase: str | None = None, cpu: str = "100m",
        annotations: dict[str, str] | None = None, node_selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None, volumes: list[dict[str, Any]] | None = None,
        env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    containers = containers or ["app"]
    started = started or now - timedelta(days=2)
    ready = state == "running"
    phase = phase or ("Pending" if node_name is None else "Running")
    spec: dict[str, Any] = {
        "containers": [{"name": c, "image": image, "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}},
                        **({"env": env} if env else {})} for c in containers],
        "restartPolicy": "Always", "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
    }
    if node_name:
        spec["nodeName"] = node_name
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    if volumes:
        spec["volumes"] = volumes
    status: dict[str, Any] = {"phase": phase, "qosClass": "Burstable"}
    if node_name is None:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": "0/3 nodes are available", "lastTransitionTime": iso(started)}]
    else:
        status.update({
            "startTime": iso(started), "hostIP": "127.0.0.1", "podIP": "10.0.0.10",
            "conditions": [{"type": t, "status": "True" if ready or t == "PodScheduled" else "False", "lastTransitionTime": iso(started)}
                           for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
        })
        if phase in ("Running", "Pending"):
            status["containerStatuses"] = [container_status(c, image, state=state, started=started, restarts=restarts,
                                                            reason=reason, last_exit=last_exit, finished=finished) for c in containers]
        if phase == "Failed":
            status["reason"] = reason or "Evicted"
            status["message"] = "The node was low on resource: memory."
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(name, ns, labels=labels, annotations=annotations, created=started, owner=owner),
            "spec": spec, "status": status}


def deployment(name: str, ns: str, now: datetime, *, replicas: int, ready: int | None = None, labels: dict[str, str],
               env: dict[str, str] | None = None, containers: list[str] | None = None,
               annotations: dict[str, str] | None = None, image: str = "registry.example/app:1.0") -> dict[str, Any]:
    ready = replicas if ready is None else ready
    container_specs = [{"name": c, "image": image, **({"env": [{"name": k, "value": v} for k, v in env.items()]} if env and i == 0 else {})}
                       for i, c in enumerate(containers or ["app"])]
    status: dict[str, Any] = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas}
    if ready:
        status.update({"readyReplicas": ready, "availableReplicas": ready})
    if replicas - ready:
        status["unavailableReplicas"] = replicas - ready
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {**meta(name, ns, labels=labels, annotations=annotations, created=now - timedelta(days=20)), "generation": 1},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": container_specs}},
                 "strategy": {"type": "RollingUpdate"}},
        "status": status,
    }


def replicaset(name: str, ns: str, now: datetime, *, owner: str, replicas: int, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": meta(name, ns, labels=labels, created=now - timedelta(days=20), owner=("Deployment", owner)),
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}}},
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "observedGeneration": 1}}


def daemonset(name: str, ns: str, now: datetime, *, labels: dict[str, str], nodes: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name, ns, labels=labels, created=now - timedelta(days=20)),
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": f"registry.example/{name}:1"}]}}},
            "status": {"currentNumberScheduled": nodes, "desiredNumberScheduled": nodes, "numberMisscheduled": 0, "numberReady": nodes}}


def event(name: str, ns: str, now: datetime, *, reason: str, message: str, kind: str, obj: str, obj_ns: str | None = None,
          type_: str = "Normal", count: int = 1, ago: timedelta = timedelta(minutes=5), host: str | None = None,
          reporting_component: str | None = None) -> dict[str, Any]:
    """An Event; `host` makes it the kubelet's on that node (`Evicted`, `Killing`: kubernetes
    pkg/kubelet/eviction/helpers.go), `reporting_component` e.g. CAST AI's `autoscaler.cast.ai`."""
    source = {"component": "kubelet", "host": host} if host else {"component": reporting_component or "default-scheduler"}
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta(name, ns, created=now - ago),
            "involvedObject": {"kind": kind, "name": obj, "namespace": obj_ns or ns, "apiVersion": "v1"},
            "reason": reason, "message": message, "type": type_, "count": count,
            "firstTimestamp": iso(now - ago), "lastTimestamp": iso(now - ago), "source": source,
            **({"reportingComponent": reporting_component} if reporting_component else {})}


def secret(name: str, ns: str, now: datetime, data: dict[str, str], *, type_: str = "Opaque",
           labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(name, ns, labels=labels, created=now - timedelta(days=20)),
            "type": type_, "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def configmap(name: str, ns: str, now: datetime, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, ns, created=now - timedelta(days=20)), "data": dict(data)}


def pdb(name: str, ns: str, now: datetime, *, selector: dict[str, str], allowed: int, healthy: int,
        min_available: int | None = None, max_unavailable: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": selector}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {**meta(name, ns, created=now - timedelta(days=10)), "generation": 1},
            "spec": spec,
            "status": {"disruptionsAllowed": allowed, "currentHealthy": healthy, "desiredHealthy": healthy - allowed,
                       "expectedPods": healthy, "observedGeneration": 1}}


#: the agent chart's ClusterRole (castai/helm-charts charts/castai-agent templates/rbac.yaml; castai-facts.md §3.2),
#: with its optional reads (allowReadRBAC, networking) as a default install renders them
AGENT_CLUSTER_ROLE_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "nodes", "replicationcontrollers", "persistentvolumeclaims", "persistentvolumes",
                                      "services", "namespaces", "events", "limitranges", "resourcequotas"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "daemonsets", "statefulsets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses", "csinodes"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling.k8s.io"], "resources": ["verticalpodautoscalers"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["karpenter.sh"], "resources": ["provisioners", "machines", "nodepools", "nodeclaims", "nodeoverlays"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["argoproj.io"], "resources": ["rollouts"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling.cast.ai"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["pod-mutations.cast.ai"], "resources": ["podmutations"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies", "ingresses"], "verbs": ["get", "list", "watch"]},
    {"nonResourceURLs": ["/version"], "verbs": ["get"]},
]


def cluster_role(name: str, now: datetime, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(name, created=now - timedelta(days=20)),
            "rules": rules if rules is not None else AGENT_CLUSTER_ROLE_RULES}


def lease(name: str, ns: str, now: datetime, *, holder: str) -> dict[str, Any]:
    """A coordination.k8s.io Lease as client-go's leader election keeps it (its times are MicroTime)."""
    def micro(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta(name, ns, created=now - timedelta(hours=30)),
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "acquireTime": micro(now - timedelta(hours=30)),
                     "renewTime": micro(now - timedelta(seconds=3)), "leaseTransitions": 0}}


def cluster_role_binding(name: str, now: datetime, *, ns: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta(name, created=now - timedelta(days=20)),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]}


def network_policy(name: str, ns: str, now: datetime, *, selector: dict[str, str], egress: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(name, ns, created=now - timedelta(days=1)),
            "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": ["Egress"], "egress": egress}}


def evictorconfig_crd(now: datetime) -> dict[str, Any]:
    """The CRD the Evictor chart installs (castai/helm-charts charts/castai-evictor crds/): cluster-scoped."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": meta("evictorconfigs.autoscaling.cast.ai", created=now - timedelta(days=20)),
            "spec": {"group": "autoscaling.cast.ai", "scope": "Cluster",
                     "names": {"kind": "EvictorConfig", "listKind": "EvictorConfigList", "plural": "evictorconfigs",
                               "singular": "evictorconfig"},
                     "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


def evictorconfig(now: datetime, *, management_mode: str = "castai", **config: Any) -> dict[str, Any]:
    """The singleton `evictor-config` as castai/helm-charts charts/castai-evictor templates/evictorconfig.yaml
    renders it with the chart's defaults (tests/evictorconfig_test.yaml); `config` overrides spec.config keys."""
    defaults: dict[str, Any] = {
        "aggressiveMode": False, "arm64Supported": True, "cycleInterval": "1m", "drainRollbackTimeout": "1m",
        "drainTimeout": "10m", "dryRun": False, "emitNodeRelatedPodEvents": False, "forceDisableKarpenterMode": True,
        "forceDisableLiveMigration": False, "forceDisablePodMutations": False, "forceDisableWOOP": False,
        "ignorePodDisruptionBudgets": False, "maxTargetNodesPerCycle": 20, "minTargetNodesPerCycle": 5,
        "nodeGracePeriodMinutes": 5, "podEvictionFailureBackOff": "5s", "pricingAwarenessEnabled": False,
        "pricingModel": {"baseCPUCost": "7.0", "baseMemCost": "1.0", "spotDiscount": "0.5"}, "scopedMode": False,
        "softTainting": False, "targetNodePercentage": 10, "windows": False,
    }
    labels = {"app.kubernetes.io/name": "castai-evictor", "app.kubernetes.io/instance": "castai-evictor",
              "app.kubernetes.io/managed-by": "Helm"}
    return {"apiVersion": "autoscaling.cast.ai/v1alpha1", "kind": "EvictorConfig",
            "metadata": {**meta("evictor-config", labels=labels, created=now - timedelta(days=20)), "generation": 1},
            "spec": {"managementMode": management_mode, "enabled": True, "config": {**defaults, **config}}}
