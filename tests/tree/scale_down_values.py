"""Recorded check values for symptoms 5 and 7 (as their checks gather them), built small."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.tree.judges import NOW

EMPTY = "ip-10-0-2-21.ec2.internal"
BUSY = "ip-10-0-1-11.ec2.internal"


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def log(seconds_ago: float, level: str, msg: str, **fields: str) -> str:
    moment = (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = "".join(f" {k}={v}" for k, v in sorted(fields.items()))
    return f'time="{moment}" level={level} msg="{msg}"{extra}'


def node(name: str = EMPTY, *, workload: int = 0, cordoned: bool = False, cast_ai: bool = True,
         marks: list[list[str]] | None = None, up_for: timedelta = timedelta(days=3)) -> dict[str, Any]:
    return {"node": name, "workload_pods": workload, "cordoned": cordoned, "cast_ai": cast_ai, "marks": marks or [],
            "since": (NOW - up_for).isoformat()}


def pod(name: str, *, ns: str = "shop", node_name: str = BUSY, owner_kind: str | None = "ReplicaSet", replicas: int | None = 3,
        static_or_daemon: bool = False, pvc: bool = False, annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"pod": name, "namespace": ns, "node": node_name, "phase": "Running", "labels": labels or {"app": name},
            "annotations": annotations or {}, "labels_disposable": None, "owner_kind": owner_kind,
            "owner": f"{name}-owner" if owner_kind else None, "static_or_daemon": static_or_daemon, "pvc": pvc,
            "replicas": replicas}


def named(name: str = BUSY, *pods: dict[str, Any], cordoned: bool = False) -> dict[str, Any]:
    return {"node": name, "exists": True, "named": not cordoned, "cordoned": cordoned, "pods": list(pods)}


def policies(**evictor: Any) -> dict[str, Any]:
    return {"enabled": True, "isScopedMode": False,
            "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 300},
                               "evictor": {"enabled": True, "dryRun": False, "aggressiveMode": False, "cycleInterval": "1m",
                                           "status": "Compatible", **evictor}}}


def evictor(*, ready: bool = True, installed: bool = True, mode: str | None = "castai", env: dict[str, str] | None = None,
            **config: Any) -> dict[str, Any]:
    if not installed:
        return {"pods": [], "deployment": None, "evictorconfig": None, "release": None, "releases_error": None}
    return {
        "pods": [{"pod": "castai-evictor-5c8d7f9b4-a0x7z", "ready": ready, "running": ready}],
        "deployment": {"name": "castai-evictor", "replicas": 1,
                       "env": env if env is not None else {"DRY_RUN": "false", "AGGRESSIVE_MODE": "false", "CYCLE_INTERVAL": "1m"}},
        "evictorconfig": None if mode is None else {"name": "evictor-config", "spec": {
            "managementMode": mode, "enabled": True,
            "config": {"aggressiveMode": False, "cycleInterval": "1m", "dryRun": False, **config}}},
        "release": {"name": "castai-evictor", "chart": "castai-evictor", "chart_version": "0.35.143", "status": "deployed",
                    "values": {"managedByCASTAI": True}, "config": {}},
        "releases_error": None,
    }


def cluster_controller(*replicas: dict[str, Any]) -> dict[str, Any]:
    return {"namespace": "castai-agent", "replicas": [
        {"pod": f"castai-cluster-controller-{i}", "ready": True, "running": True, "phase": "Running", "restarts": 0,
         "node": BUSY, "log": [], **r} for i, r in enumerate(replicas)]}


def polls(*, failing: str | None = None, cycles: int = 8, recovered: bool = False) -> list[str]:
    lines = []
    for i in reversed(range(cycles)):
        lines.append(log(15 * i + 1, "info", "polling actions"))
        if failing:
            lines += [log(15 * i - 5 * r, "error", f"polling actions: get action request failed: iteration: {r + 1} {failing}")
                      for r in range(3)]
        else:
            lines.append(log(15 * i, "info", "no actions returned in 41ms"))
    if recovered:
        lines.append(log(0, "info", "no actions returned in 40ms"))
    return lines


def drains(count: int, *, minutes: float = 50) -> list[str]:
    return [log(60 * minutes * (count - i) / count, "info", "draining kubernetes node", node_name=f"ip-10-0-3-{30 + i}.ec2.internal")
            for i in range(count)]
