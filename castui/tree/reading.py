"""How the tree reads Kubernetes objects and agent logs: small pure functions the
judges share, so "is this pod running?" has one answer everywhere."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from castui.diagnosis import Evidence, LogSource

# --- shapes: objects from a server or a bundle may be malformed; reading them must not raise ---


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object, or {} for anything else."""
    return value if isinstance(value, dict) else {}


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list, or [] for anything else."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def as_str(value: Any, default: str = "") -> str:
    return default if value is None else value if isinstance(value, str) else str(value)


def as_int(value: Any) -> int:
    """An integer field (restartCount, count), 0 when absent or not a number."""
    try:
        return int(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else 0
    except (ValueError, OverflowError):
        return 0


# --- pods ---------------------------------------------------------------------------------------


def name_of(obj: dict[str, Any]) -> str:
    return as_str(as_dict(as_dict(obj).get("metadata")).get("name"), "?")


def namespaced_name(obj: dict[str, Any]) -> str:
    meta = as_dict(as_dict(obj).get("metadata"))
    return f"{as_str(meta.get('namespace'))}/{as_str(meta.get('name'), '?')}".lstrip("/")


def container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return as_dicts(as_dict(as_dict(pod).get("status")).get("containerStatuses"))


def waiting_reason(pod: dict[str, Any]) -> str | None:
    for status in container_statuses(pod):
        waiting = as_dict(as_dict(status.get("state")).get("waiting"))
        if waiting.get("reason"):
            return as_str(waiting["reason"])
    return None


def is_crashlooping(pod: dict[str, Any]) -> bool:
    return waiting_reason(pod) == "CrashLoopBackOff"


def has_running_container(pod: dict[str, Any], container: str | None = None) -> bool:
    """A container in `state.running`: phase `Running` alone says nothing (a crash loop keeps it)."""
    return any(
        "running" in as_dict(s.get("state")) and (container is None or s.get("name") == container)
        for s in container_statuses(pod)
    )


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = as_dicts(as_dict(as_dict(pod).get("status")).get("conditions"))
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions) and has_running_container(pod)


def restarts(pod: dict[str, Any]) -> int:
    return sum(as_int(s.get("restartCount")) for s in container_statuses(pod))


def last_termination(pod: dict[str, Any]) -> str | None:
    for status in container_statuses(pod):
        terminated = as_dict(as_dict(status.get("lastState")).get("terminated"))
        if terminated:
            return f"{as_str(terminated.get('reason'), 'Terminated')} (exit {as_str(terminated.get('exitCode'), '?')})"
    return None


def pod_line(pod: dict[str, Any]) -> str:
    status = as_dict(as_dict(pod).get("status"))
    ready = sum(1 for s in container_statuses(pod) if s.get("ready"))
    parts = [
        name_of(pod),
        as_str(status.get("phase"), "?"),
        f"ready {ready}/{len(container_statuses(pod)) or len(as_dicts(as_dict(as_dict(pod).get('spec')).get('containers')))}",
        f"restarts {restarts(pod)}",
    ]
    if reason := waiting_reason(pod):
        parts.append(f"waiting: {reason}")
    if termination := last_termination(pod):
        parts.append(f"last exit: {termination}")
    return "  ".join(parts)


def pods_table(title: str, pods: list[dict[str, Any]]) -> Evidence:
    rows = [["POD", "PHASE", "READY", "RESTARTS", "WAITING", "LAST EXIT"]]
    for pod in pods:
        rows.append(
            [
                namespaced_name(pod),
                as_str(as_dict(as_dict(pod).get("status")).get("phase"), "?"),
                "yes" if is_ready(pod) else "no",
                str(restarts(pod)),
                waiting_reason(pod) or "",
                last_termination(pod) or "",
            ]
        )
    return Evidence(kind="table", title=title, data=rows, lines=[pod_line(p) for p in pods])


def started_at(pod: dict[str, Any]) -> datetime | None:
    """When the pod started, from status (a restored object's creationTimestamp is not truthful)."""
    return parse_time(as_dict(as_dict(pod).get("status")).get("startTime"))


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # comparable with now


def owner_kind(pod: dict[str, Any]) -> str | None:
    owners = as_dicts(as_dict(as_dict(pod).get("metadata")).get("ownerReferences"))
    return as_str(owners[0].get("kind")) if owners else None


def container_env(workload: dict[str, Any], container: str | None = None) -> dict[str, str]:
    """Plain `value` env of a Deployment's containers (first container, or the named one)."""
    containers = as_dicts(as_dict(as_dict(as_dict(as_dict(workload).get("spec")).get("template")).get("spec")).get("containers"))
    for spec in containers:
        if container is None or spec.get("name") == container:
            return {e["name"]: as_str(e["value"]) for e in as_dicts(spec.get("env")) if isinstance(e.get("name"), str) and "value" in e}
    return {}


def quantity_cores(value: Any) -> float:
    """A CPU quantity ("2", "500m", 1.5) in cores; unparseable counts as 0."""
    text = str(value or "0").strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return 0.0


def pod_cpu_request(pod: dict[str, Any]) -> float:
    containers = as_dicts(as_dict(as_dict(pod).get("spec")).get("containers"))
    return sum(quantity_cores(as_dict(as_dict(c.get("resources")).get("requests")).get("cpu")) for c in containers)


# --- agent logs --------------------------------------------------------------------------------

AUTH_REJECTED = re.compile(r"status_code=(401|403)\b|\b401 Unauthorized\b|\binvalid api (key|token)\b", re.I)
NETWORK_ERROR = re.compile(
    r"i/o timeout|connection refused|no such host|dial tcp|context deadline exceeded|"
    r"tls: |x509: |TLS handshake timeout|network is unreachable|connection reset",
    re.I,
)
PROVIDER_ERROR = re.compile(r"getting provider: ", re.I)
FORBIDDEN = re.compile(r"\bforbidden\b|required access is not available", re.I)
HEARTBEAT_ERROR = re.compile(r"failed sending delta|failed getting agent configuration|delta request error", re.I)
HEALTHY_ACTIVITY = re.compile(r"delta upload finished|cluster registered|delta with items", re.I)
ERROR_LEVEL = re.compile(r"level=(error|fatal|panic)|\bERROR\b|\bFATAL\b")
HEARTBEAT_WORDS = re.compile(r"heartbeat|connect|delta|agent configuration|error", re.I)


def log_lines(text: str | None) -> list[str]:
    return (text or "").splitlines()


def matching(lines: list[str], pattern: re.Pattern[str], *, exclude: re.Pattern[str] | None = None) -> list[int]:
    return [i for i, line in enumerate(lines) if pattern.search(line) and not (exclude and exclude.search(line))]


def log_evidence(title: str, lines: list[str], highlight: list[int], source: LogSource | None = None) -> Evidence:
    """`source`: the container the lines were read from, so the app can follow the log."""
    return Evidence(kind="log", title=title, lines=lines, highlight=highlight, source=source)


def event_rows(events: list[dict[str, Any]]) -> list[list[str]]:
    rows = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"]]
    for event in as_dicts(events):
        involved = as_dict(event.get("involvedObject"))
        rows.append(
            [
                str(event.get("lastTimestamp") or event.get("eventTime") or ""),
                str(event.get("type", "")),
                str(event.get("reason", "")),
                f"{involved.get('kind', '')}/{involved.get('namespace', '')}/{involved.get('name', '')}",
                str(event.get("count") or 1),
                str(event.get("message", "")),
            ]
        )
    return rows


def dig(data: Any, path: str, default: Any = None) -> Any:
    """`dig(policies, "nodeDownscaler.emptyNodes.enabled")` over dicts or pydantic models."""
    current = data
    for part in path.split("."):
        if current is None:
            return default
        current = current.get(part) if isinstance(current, dict) else getattr(current, part, None)
    return default if current is None else current


def json_evidence(title: str, document: Any, path: str) -> Evidence:
    import json

    text = json.dumps(document, indent=2, sort_keys=True, default=str)
    return Evidence(kind="json", title=title, data=document, path=path, lines=text.splitlines())
