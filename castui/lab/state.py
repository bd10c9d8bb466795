"""What a lab serves: Kubernetes objects, pod logs, the CAST AI API's data, a Helm
repository index and a status page. Scenarios build one; a bundle replays one.

Everything is plain JSON-shaped data (the objects exactly as an API server would
return them), so the same state can be written into a bundle and served again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from castui.clients.resources import RESOURCES, ResourceType
from castui.lab.log_writers import MAX_LOG_BYTES, LogWriter

# the resource table is the clients' (production must not import the lab); the lab serves it
__all__ = ["RESOURCES", "CastaiState", "Fault", "LabState", "ResourceType"]


@dataclass
class CastaiState:
    """The CAST AI API's side of a lab."""

    #: accepted keys → {"status": 200|401|403, "readonly": bool, "active": bool, "expiresAt": str|None,
    #:                  "clusters": [ids this key may see] | None (all)}
    api_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    node_templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    workloads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: the workload autoscaler's scaling policies per cluster (`GET …/workload-autoscaling/clusters/{id}/policies`)
    workload_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    auth_tokens: list[dict[str, Any]] = field(default_factory=list)
    #: cluster id → the Evictor's `configOwnership` (`castai` | `self-managed`); absent: 404
    evictor_ownership: dict[str, str] = field(default_factory=dict)
    #: cluster id → the Evictor's advanced rules (`evictionConfig`); absent: 404
    evictor_advanced_config: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: what the in-cluster curl pod reports when it calls the API ("200", "000" for no answer)
    in_cluster_reachability: str = "200"


@dataclass
class Fault:
    """An injected failure on the lab's HTTP surface.

    `path` is a regular expression matched against the request path (without query).
    kinds: latency (seconds=…), hang, reset, truncated-json, invalid-json, status (status=…, retry_after=…),
           non-utf8-log, huge-log (size=…), long-line (size=…), trickle (a byte every seconds=…, never ending).
    `times`: how many requests it applies to (None: all).
    `released`: a latency ends early once this is set (a test holds a request until it has looked).
    """

    kind: str
    path: str = ".*"
    method: str | None = None
    status: int | None = None
    seconds: float = 0.0
    retry_after: str | None = None
    size: int = 0
    times: int | None = None
    released: threading.Event | None = None


@dataclass
class LabState:
    """Everything a lab server answers from; guarded by `lock` because the server is threaded."""

    #: resource name (a key of RESOURCES) → list of objects as the API returns them
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (namespace, pod, container, previous) → log text (str) or raw bytes
    logs: dict[tuple[str, str, str, bool], str | bytes] = field(default_factory=dict)
    #: current logs the running container keeps writing as the clock moves (`set_log(..., every=…)`)
    log_writers: dict[tuple[str, str, str, bool], LogWriter] = field(default_factory=dict, repr=False)
    #: the kubelet's limit on a container's log: a growing log drops its oldest lines beyond it
    log_max_bytes: int = MAX_LOG_BYTES
    castai: CastaiState = field(default_factory=CastaiState)
    #: the Helm repository index.yaml as a dict (`{"apiVersion": "v1", "entries": {...}}`)
    helm_index: dict[str, Any] | None = None
    #: Statuspage-style JSON: {"status": {...status.json}, "incidents": {...unresolved.json}}, None: 404
    status_page: dict[str, Any] | None = None
    faults: list[Fault] = field(default_factory=list)
    #: the clock the scenario was built against (and a bundle's capture time); with `clock`, the time its data is at
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: a castui.lab.clock.LabClock: the data's times follow it (a scenario's lab); None: frozen (a replayed bundle)
    clock: Any = field(default=None, repr=False)
    #: bearer tokens the Kubernetes side accepts → user name; empty means any token
    kube_tokens: dict[str, str] = field(default_factory=dict)
    #: user name → resource names that user is forbidden to read ("*" for all)
    kube_forbidden: dict[str, set[str]] = field(default_factory=dict)
    #: a served response is read-only (bundle replay): every write answers 405
    read_only: bool = False
    #: called after every successful write, under `lock`: (state, resource, namespace, name, obj or None)
    #: scenarios use them to make the lab react to a fix (a restart brings healthy pods back)
    on_write: list[Callable[["LabState", str, str | None, str, dict[str, Any] | None], None]] = field(
        default_factory=list, repr=False
    )
    #: every request served, as (method, path); the benchmark counts them
    request_log: list[tuple[str, str]] = field(default_factory=list, repr=False)
    #: notified after each request is logged, so a test can wait for requests to arrive
    request_seen: threading.Condition = field(default_factory=threading.Condition, repr=False)
    #: the Kubernetes side's global resourceVersion counter (0: not started; seeded from the objects' own)
    resource_version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def set_log(self, namespace: str, pod: str, container: str, lines: Sequence[str], *, previous: bool = False,
                every: timedelta | None = None) -> None:
        """The container's log as it stands now. With `every`, its last `every` of lines is what the container
        writes again each `every` while it runs and the lab's clock moves (castui/lab/log_writers.py)."""
        key = (namespace, pod, container, previous)
        text = "".join(f"{line}\n" for line in lines)
        with self.lock:
            self.logs[key] = text
            writer = LogWriter.of(lines, every, text) if every and not previous else None
            if writer is not None:
                self.log_writers[key] = writer
            else:
                self.log_writers.pop(key, None)

    def append_log(self, namespace: str, pod: str, container: str, *lines: str) -> None:
        """The container writes `lines` now (its current log grows), as a running pod's log does."""
        written = "".join(f"{line}\n" for line in lines)
        with self.lock:
            key = (namespace, pod, container, False)
            old = self.logs.get(key, "")
            self.logs[key] = old + written if isinstance(old, str) else old + written.encode()

    def items(self, resource: str) -> list[dict[str, Any]]:
        return self.objects.setdefault(resource, [])

    def find(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        for obj in self.items(resource):
            meta = obj.get("metadata", {})
            if meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return obj
        return None
