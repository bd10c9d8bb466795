"""`Table` output: what `kubectl get` prints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from castui.lab.http import LabRequest
from castui.lab.kube_api.common import Obj, _meta, _now, _served
from castui.lab.kube_api.selectors import _selector_string
from castui.lab.state import ResourceType

# -- tables (what kubectl get prints) --


def _wants_table(req: LabRequest) -> bool:
    return "as=Table" in req.headers.get("accept", "")


Column = tuple[str, str, int, Callable[[Obj, datetime], Any]]  # name, type, priority, cell


def table(rt: ResourceType, objs: list[Obj], req: LabRequest, list_meta: Obj) -> Obj:
    columns = TABLE_COLUMNS.get(rt.plural, GENERIC_COLUMNS)
    include = req.arg("includeObject") or "Metadata"
    now = _now()
    rows = []
    for obj in objs:
        row: Obj = {"cells": [cell(obj, now) for _, _, _, cell in columns]}
        if include == "Object":
            row["object"] = _served(rt, obj)
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}
        rows.append(row)
    definitions = [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": name,
            "priority": priority,
        }
        for name, kind, priority, _ in columns
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration, which kubectl's AGE column uses."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days % 365 == 0 else f"{years}y{days % 365}d"
    return f"{years}y"


def _age_of(stamp: Any, now: datetime) -> str:
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return human_duration((now - when).total_seconds())


def _age(obj: Obj, now: datetime) -> str:
    return _age_of(_meta(obj).get("creationTimestamp"), now)


def _name(obj: Obj, now: datetime) -> str:
    return str(_meta(obj).get("name", ""))


def _pod_status(pod: Obj) -> str:
    """kubectl's STATUS column: the phase, refined by container and init-container states."""
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    initializing = False
    init_count = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        initializing = True
        if terminated:
            reason = "Init:" + (terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{init_count}"
        break
    if not initializing:
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated:
                reason = terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}"
            elif state.get("running") and cs.get("ready"):
                running = True
        if reason == "Completed" and running:
            reason = "Running"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_ready(pod: Obj, now: datetime) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    return f"{sum(1 for cs in statuses if cs.get('ready'))}/{total}"


def _pod_restarts(pod: Obj, now: datetime) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    finished = [
        cs["lastState"]["terminated"]["finishedAt"]
        for cs in statuses
        if ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
    ]
    return f"{restarts} ({_age_of(max(finished), now)} ago)" if restarts and finished else str(restarts)


def _path(*keys: str, default: Any = "<none>") -> Callable[[Obj, datetime], Any]:
    def cell(obj: Obj, now: datetime) -> Any:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return default if value is None or value == "" else value

    return cell


def _deployment_ready(obj: Obj, now: datetime) -> str:
    return f"{(obj.get('status') or {}).get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 1)}"


def _containers(field: str) -> Callable[[Obj, datetime], str]:
    def cell(obj: Obj, now: datetime) -> str:
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        return ",".join(str(c.get(field, "")) for c in spec.get("containers") or [])

    return cell


def _node_status(node: Obj, now: datetime) -> str:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    text = {"True": "Ready", "False": "NotReady"}.get(ready or "", "Unknown")
    return text + (",SchedulingDisabled" if (node.get("spec") or {}).get("unschedulable") else "")


def _node_roles(node: Obj, now: datetime) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in _meta(node).get("labels") or {} if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _node_address(kind: str) -> Callable[[Obj, datetime], str]:
    def cell(node: Obj, now: datetime) -> str:
        addresses = (node.get("status") or {}).get("addresses") or []
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    return cell


def _event_last_seen(event: Obj, now: datetime) -> str:
    stamp = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
    return _age_of(stamp, now) if stamp else "<unknown>"


def _event_object(event: Obj, now: datetime) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


GENERIC_COLUMNS: list[Column] = [("Name", "string", 0, _name), ("Age", "string", 0, _age)]
TABLE_COLUMNS: dict[str, list[Column]] = {
    "pods": [
        ("Name", "string", 0, _name),
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, lambda o, now: _pod_status(o)),
        ("Restarts", "string", 0, _pod_restarts),
        ("Age", "string", 0, _age),
        ("IP", "string", 1, _path("status", "podIP")),
        ("Node", "string", 1, _path("spec", "nodeName")),
    ],
    "deployments": [
        ("Name", "string", 0, _name),
        ("Ready", "string", 0, _deployment_ready),
        ("Up-to-date", "integer", 0, _path("status", "updatedReplicas", default=0)),
        ("Available", "integer", 0, _path("status", "availableReplicas", default=0)),
        ("Age", "string", 0, _age),
        ("Containers", "string", 1, _containers("name")),
        ("Images", "string", 1, _containers("image")),
        ("Selector", "string", 1, lambda o, now: _selector_string((o.get("spec") or {}).get("selector"))),
    ],
    "nodes": [
        ("Name", "string", 0, _name),
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, _node_roles),
        ("Age", "string", 0, _age),
        ("Version", "string", 0, _path("status", "nodeInfo", "kubeletVersion", default="")),
        ("Internal-IP", "string", 1, _node_address("InternalIP")),
        ("External-IP", "string", 1, _node_address("ExternalIP")),
        ("OS-Image", "string", 1, _path("status", "nodeInfo", "osImage")),
        ("Kernel-Version", "string", 1, _path("status", "nodeInfo", "kernelVersion")),
        ("Container-Runtime", "string", 1, _path("status", "nodeInfo", "containerRuntimeVersion")),
    ],
    "events": [
        ("Last Seen", "string", 0, _event_last_seen),
        ("Type", "string", 0, _path("type", default="")),
        ("Reason", "string", 0, _path("reason", default="")),
        ("Object", "string", 0, _event_object),
        ("Message", "string", 0, _path("message", default="")),
    ],
    "namespaces": [
        ("Name", "string", 0, _name),
        ("Status", "string", 0, _path("status", "phase", default="Active")),
        ("Age", "string", 0, _age),
    ],
    "poddisruptionbudgets": [
        ("Name", "string", 0, _name),
        ("Min Available", "string", 0, _path("spec", "minAvailable", default="N/A")),
        ("Max Unavailable", "string", 0, _path("spec", "maxUnavailable", default="N/A")),
        ("Allowed Disruptions", "integer", 0, _path("status", "disruptionsAllowed", default=0)),
        ("Age", "string", 0, _age),
    ],
}
