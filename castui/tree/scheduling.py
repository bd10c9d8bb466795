"""How a Pending pod's scheduling wishes are read: how long it has waited, what it selects,
what it tolerates and requests. Pure functions shared by no-scale-up and spot-fallback."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    namespaced_name,
    parse_time,
    quantity_cores,
)

#: CAST AI alerts on pods Pending this long; its nodes are expected in 60–120 s (docs.cast.ai risks-detection)
PENDING_ALERT = timedelta(minutes=15)

TEMPLATE_LABEL = "scheduling.cast.ai/node-template"
SPOT_LABEL = "scheduling.cast.ai/spot"
SCOPED_TAINT = "scheduling.cast.ai/scoped-autoscaler"


# --- Pending -------------------------------------------------------------------------------------


def _scheduled_condition(pod: dict[str, Any]) -> dict[str, Any]:
    conditions = as_dicts(as_dict(as_dict(pod).get("status")).get("conditions"))
    return next((c for c in conditions if c.get("type") == "PodScheduled"), {})


def is_unschedulable(pod: dict[str, Any]) -> bool:
    """Pending, no node, and the scheduler said `PodScheduled=False` reason `Unschedulable`
    (a gated or not yet seen pod is not waiting for capacity)."""
    spec, status = as_dict(as_dict(pod).get("spec")), as_dict(as_dict(pod).get("status"))
    condition = _scheduled_condition(pod)
    return (status.get("phase") == "Pending" and not spec.get("nodeName")
            and condition.get("status") == "False" and condition.get("reason") == "Unschedulable")


def pending_since(pod: dict[str, Any]) -> datetime | None:
    """The earliest of creation and the scheduler's first `Unschedulable` (a server that rewrites
    `creationTimestamp` on restore still keeps the condition's time)."""
    times = [t for t in (parse_time(as_dict(as_dict(pod).get("metadata")).get("creationTimestamp")),
                         parse_time(_scheduled_condition(pod).get("lastTransitionTime"))) if t is not None]
    return min(times) if times else None


def split_by_age(pods: list[dict[str, Any]], now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stuck ≥ 15 min, still in progress). A pod of unknown age is in progress: never a problem by guess."""
    stuck: list[dict[str, Any]] = []
    young: list[dict[str, Any]] = []
    for pod in pods:
        since = pending_since(pod)
        (stuck if since is not None and now - since >= PENDING_ALERT else young).append(pod)
    return stuck, young


def waited(pod: dict[str, Any], now: datetime) -> str:
    since = pending_since(pod)
    if since is None:
        return "unknown"
    minutes = int((now - since).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def pod_names(pods: list[dict[str, Any]], limit: int = 5) -> str:
    names = ", ".join(namespaced_name(p) for p in pods[:limit])
    return names + (f" and {len(pods) - limit} more" if len(pods) > limit else "")


# --- what a pod selects ----------------------------------------------------------------------------


def _required_terms(pod: dict[str, Any]) -> list[dict[str, Any]]:
    affinity = as_dict(as_dict(as_dict(as_dict(pod).get("spec")).get("affinity")).get("nodeAffinity"))
    required = as_dict(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"))
    return as_dicts(required.get("nodeSelectorTerms"))


def selected_values(pod: dict[str, Any], key: str) -> set[str] | None:
    """The values `key` must have for the pod: from its nodeSelector, or from required node affinity
    when every term (they are ORed) asks `key In (…)`; None when the pod does not constrain it."""
    selector = as_dict(as_dict(as_dict(pod).get("spec")).get("nodeSelector"))
    if key in selector:
        return {as_str(selector[key])}
    terms = _required_terms(pod)
    values: set[str] = set()
    for term in terms:
        expressions = [e for e in as_dicts(term.get("matchExpressions")) if e.get("key") == key and e.get("operator") == "In"]
        if not expressions:
            return None
        values |= {as_str(v) for v in expressions[0].get("values") or []}
    return values or None


def other_requirements(pod: dict[str, Any], known: set[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """The pod's node requirements on keys castui has no rule for: (key, operator, values);
    a nodeSelector pair is `In` with one value."""
    selector = as_dict(as_dict(as_dict(pod).get("spec")).get("nodeSelector"))
    found: list[tuple[str, str, tuple[str, ...]]] = [(k, "In", (as_str(v),)) for k, v in selector.items() if k not in known]
    for term in _required_terms(pod):
        for expression in as_dicts(term.get("matchExpressions")):
            if expression.get("key") not in known:
                found.append((as_str(expression.get("key")), as_str(expression.get("operator")),
                              tuple(as_str(v) for v in expression.get("values") or [])))
    return sorted(set(found))


def requirement_text(requirement: tuple[str, str, tuple[str, ...]]) -> str:
    key, operator, values = requirement
    return f"{key}={values[0]}" if operator == "In" and len(values) == 1 else f"{key} {operator} {','.join(values)}".strip()


def selects_spot(pod: dict[str, Any]) -> bool:
    return "true" in (selected_values(pod, SPOT_LABEL) or set())


# --- what a pod tolerates --------------------------------------------------------------------------


def tolerations(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return as_dicts(as_dict(as_dict(pod).get("spec")).get("tolerations"))


def tolerates(pod: dict[str, Any], key: str, value: str | None = "", effect: str = "NoSchedule") -> bool:
    """Kubernetes' ToleratesTaint (k8s.io/api core/v1 toleration.go): a keyless `Exists` tolerates all;
    `value=None` accepts any value for the key (CAST AI's docs disagree on those taints' values)."""
    for toleration in tolerations(pod):
        if toleration.get("effect") and toleration.get("effect") != effect:
            continue
        operator = toleration.get("operator") or "Equal"
        if not toleration.get("key"):
            if operator == "Exists":
                return True
            continue
        if toleration.get("key") != key:
            continue
        if operator == "Exists" or value is None or as_str(toleration.get("value")) == (value or ""):
            return True
    return False


# --- what a pod requests ---------------------------------------------------------------------------

_MEMORY = re.compile(r"^([0-9.]+(?:e[0-9]+)?)([KMGTPE]i?|m|k)?$")
_FACTORS = {None: 1, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity_mib(value: Any) -> float:
    """A memory quantity ("512Mi", "1G", 1073741824) in MiB; unparseable counts as 0."""
    match = _MEMORY.match(str(value or "0").strip())
    if not match:
        return 0.0
    return float(match.group(1)) * _FACTORS[match.group(2)] / 2**20


def _requests(pod: dict[str, Any], resource: str, parse: Any) -> float:
    """What the scheduler reserves: the containers' sum, or the largest init container if larger."""
    spec = as_dict(as_dict(pod).get("spec"))

    def request(container: dict[str, Any]) -> float:
        return float(parse(as_dict(as_dict(container.get("resources")).get("requests")).get(resource)))

    running = sum(request(c) for c in as_dicts(spec.get("containers")))
    return max([running, *(request(c) for c in as_dicts(spec.get("initContainers")))])


def cpu_request(pod: dict[str, Any]) -> float:
    return _requests(pod, "cpu", quantity_cores)


def memory_request_mib(pod: dict[str, Any]) -> float:
    return _requests(pod, "memory", quantity_mib)


def pod_row(pod: dict[str, Any], now: datetime, *extra: str) -> list[str]:
    return [namespaced_name(pod), waited(pod, now), f"{cpu_request(pod):g}", *extra]

