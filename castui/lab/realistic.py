"""Pods the size real ones are: about 6 KB of JSON each instead of the lab's 1.5 KB.

A real API server's pod carries what its controllers, admission plugins and kubelet
added: managedFields (a tree of every field each manager set), environment variables,
probes, ports, the projected service-account volume every pod gets, default tolerations,
and a kubelet status with IPs and container IDs. Decoding that is most of what reading
100,000 pods costs a client, so the scale lab's pods carry it all (`pod_size=realistic`).

Nothing added changes a verdict: no local storage, no annotations the evictor reads, and
the owner, node, phase and labels stay the template's.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

#: environment of an ordinary service container
ENV = (("LOG_LEVEL", "info"), ("HTTP_PORT", "8080"), ("DB_HOST", "postgres.data.svc.cluster.local"),
       ("CACHE_URL", "redis://redis-master.data.svc.cluster.local:6379/0"))
FIELD_ENV = (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"))


def realistic_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """A copy of `pod` with what a real API server's pod carries besides (see the module's docstring)."""
    pod = copy.deepcopy(pod)
    meta, spec, status = pod["metadata"], pod["spec"], pod.setdefault("status", {})
    meta.setdefault("generateName", meta["name"].rsplit("-", 1)[0] + "-")
    volume = "kube-api-access-" + hashlib.sha1(meta["name"].encode()).hexdigest()[:5]
    for container in spec.get("containers", []):
        container.setdefault("env", [])
        container["env"] += [{"name": k, "value": v} for k, v in ENV]
        container["env"] += [{"name": k, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}} for k, path in FIELD_ENV]
        container["ports"] = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        probe = {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10,
                 "successThreshold": 1, "failureThreshold": 3}
        container["livenessProbe"] = {**probe, "initialDelaySeconds": 15}
        container["readinessProbe"] = {**probe, "httpGet": {**probe["httpGet"], "path": "/readyz"}}
        container["resources"].setdefault("limits", {"memory": "256Mi"})
        container.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log",
                         terminationMessagePolicy="File",
                         volumeMounts=[{"name": volume, "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}])
    spec["volumes"] = [*spec.get("volumes", []),
                       {"name": volume, "projected": {"defaultMode": 420, "sources": [
                           {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                           {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                           {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                                         "fieldPath": "metadata.namespace"}}]}}]}}]
    spec.setdefault("tolerations", [])
    spec["tolerations"] += [{"key": f"node.kubernetes.io/{what}", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300} for what in ("not-ready", "unreachable")]
    spec.update(dnsPolicy="ClusterFirst", enableServiceLinks=True, preemptionPolicy="PreemptLowerPriority", priority=0,
                schedulerName="default-scheduler", securityContext={}, serviceAccount=spec.get("serviceAccountName", "default"))
    if status.get("podIP"):
        status["podIPs"] = [{"ip": status["podIP"]}]
        status["hostIPs"] = [{"ip": status.get("hostIP", "127.0.0.1")}]
    for i, container_status in enumerate(status.get("containerStatuses") or []):
        container_status["containerID"] = "containerd://" + hashlib.sha256(f"{meta['name']}/{i}".encode()).hexdigest()
        container_status.setdefault("lastState", {})
    created = meta.get("creationTimestamp")
    meta["managedFields"] = [
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": created, "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": _fields({k: v for k, v in meta.items() if k in ("generateName", "labels", "ownerReferences")}),
                      "f:spec": _fields({k: v for k, v in spec.items() if k not in ("nodeName", "volumes", "tolerations")})}},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": status.get("startTime", created),
         "fieldsType": "FieldsV1", "subresource": "status",
         "fieldsV1": {"f:status": _fields({k: v for k, v in status.items() if k != "phase"} | {"phase": None})}},
    ]
    return pod


def _fields(value: Any) -> dict[str, Any]:
    """The FieldsV1 tree of a value, as server-side apply writes it: `f:` for keys, `k:` for list items by their key."""
    if isinstance(value, dict):
        return {".": {}, **{f"f:{k}": _fields(v) for k, v in value.items()}} if value else {}
    if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        out: dict[str, Any] = {".": {}}
        for item in value:
            key = {k: item[k] for k in ("name", "type", "ip", "key", "uid", "containerPort") if k in item} or {"i": id(item) % 997}
            out["k:" + json.dumps(key, separators=(",", ":"))] = _fields({k: v for k, v in item.items() if k not in key})
        return out
    return {}
