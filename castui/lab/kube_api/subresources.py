"""The `scale` and `log` subresources."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from castui.lab.clock import lab_now
from castui.lab.http import LabRequest, LabResponse
from castui.lab.kube_api.bodies import _body, _body_object
from castui.lab.kube_api.common import KubeError, Obj, Target, _flag, _meta, _require
from castui.lab.kube_api.patches import apply_patch
from castui.lab.kube_api.selectors import _selector_string
from castui.lab.kube_api.writes import _update
from castui.lab.log_writers import line_times
from castui.lab.state import LabState

# -- scale subresource --


def scale_of(obj: Obj) -> Obj:
    meta = _meta(obj)
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    keep = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in keep if k in meta},
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {"replicas": status.get("replicas", 0), "selector": _selector_string(spec.get("selector"))},
    }


def _scale_get(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    return LabResponse.of_json(scale_of(_require(state, target)))


def _scale_write(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    current = _require(state, target)
    if req.method == "PUT":
        scale = _body_object(req)
    else:
        content_type = req.headers.get("content-type", "").split(";")[0].strip()
        scale = apply_patch(content_type, scale_of(current), _body(req))
    if not isinstance(scale, dict):
        raise KubeError(422, "the patched Scale is not an object")
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise KubeError(
            422, f'Scale.autoscaling "{target.name}" is invalid: spec.replicas: Invalid value: {replicas!r}'
        )
    wanted_rv = _meta(scale).get("resourceVersion")

    def change(obj: Obj) -> Obj:
        obj.setdefault("spec", {})["replicas"] = replicas
        obj.setdefault("metadata", {})["resourceVersion"] = wanted_rv
        return obj

    main = Target(target.rt, target.namespace, target.name)
    _update(state, req, main, change)
    return LabResponse.of_json(scale_of(_require(state, main)))


# -- logs --

#: waiting reasons after which a container has never run, so it has no log yet
_NOT_STARTED = "is waiting to start"


def _logs(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    pod = _require(state, target)
    spec = pod.get("spec") or {}
    containers = [
        c.get("name") for part in ("containers", "initContainers", "ephemeralContainers") for c in spec.get(part) or []
    ]
    regular = [c.get("name") for c in spec.get("containers") or []]
    container = req.arg("container")
    if not container:  # as the real server: only a pod with one container has a default
        if len(regular) != 1:
            raise KubeError(400, f"a container name must be specified for pod {target.name}, "
                                 f"choose one of: [{' '.join(str(n) for n in regular)}]")
        container = regular[0]
    if container not in containers:
        raise KubeError(400, f"container {container} is not valid for pod {target.name}")
    previous = _flag(req, "previous")
    data = state.logs.get((target.namespace or "", target.name or "", container, previous))
    if data is None and previous:
        raise KubeError(400, f'previous terminated container "{container}" in pod "{target.name}" not found')
    if data is None:
        waiting = _waiting_reason(pod, container)
        if waiting and waiting != "CrashLoopBackOff":
            raise KubeError(400, f'container "{container}" in pod "{target.name}" {_NOT_STARTED}: {waiting}')
        data = b""
    raw = data.encode() if isinstance(data, str) else data
    return LabResponse(200, _trim_log(raw, req.arg("tailLines"), req.arg("limitBytes"), _since(state, req)), "text/plain")


def _waiting_reason(pod: Obj, container: str) -> str | None:
    status = pod.get("status") or {}
    for part in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(part) or []:
            if cs.get("name") == container:
                return ((cs.get("state") or {}).get("waiting") or {}).get("reason")
    return None


def _since(state: LabState, req: LabRequest) -> datetime | None:
    """`sinceSeconds` (before the lab's now) or `sinceTime` (RFC 3339), as the API server validates them."""
    seconds, moment = req.arg("sinceSeconds"), req.arg("sinceTime")
    if seconds is not None and moment is not None:
        raise KubeError(400, "at most one of sinceTime or sinceSeconds may be specified")
    if seconds is not None:
        if not seconds.isdigit() or int(seconds) < 1:
            raise KubeError(400, "sinceSeconds: Invalid value: must be greater than 0")
        return lab_now(state) - timedelta(seconds=int(seconds))
    if moment is not None:
        try:
            return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(timezone.utc)
        except ValueError:
            raise KubeError(400, f'sinceTime: Invalid value: "{moment}": not an RFC 3339 time') from None
    return None


def _trim_log(data: bytes, tail_lines: str | None, limit_bytes: str | None, since: datetime | None = None) -> bytes:
    """The kubelet's order: the last `tail_lines` lines, of those the ones written at or after `since`, then
    at most `limit_bytes`. A line's time is its own timestamp (the lab keeps no other record of it)."""
    if tail_lines is not None and tail_lines.lstrip("-").isdigit() and int(tail_lines) >= 0:
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[len(lines) - int(tail_lines) :]) if int(tail_lines) < len(lines) else data
    if since is not None:
        lines = data.splitlines(keepends=True)
        times = line_times([line[:200].decode(errors="replace") for line in lines])
        first = next((t for t in times if t is not None), None)
        if first is not None:  # lines before the first timed one came before it; a log with no time at all stays whole
            data = b"".join(line for line, when in zip(lines, times) if (when or first) >= since)
    if limit_bytes is not None and limit_bytes.isdigit():
        data = data[: int(limit_bytes)]
    return data
