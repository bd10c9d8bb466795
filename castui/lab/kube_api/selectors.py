"""Label and field selectors, as the real server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from castui.lab.http import LabRequest
from castui.lab.kube_api.common import KubeError, Obj, Target, _meta

# -- selectors --

_LABEL_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_LABEL_VALUE = r"[-A-Za-z0-9_.]*"
_SET_REQ = re.compile(rf"^(?P<key>{_LABEL_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EQ_REQ = re.compile(rf"^(?P<key>{_LABEL_KEY})\s*(?P<op>==|!=|=)\s*(?P<value>{_LABEL_VALUE})$")
_CMP_REQ = re.compile(rf"^(?P<key>{_LABEL_KEY})\s*(?P<op>[<>])\s*(?P<value>-?\d+)$")
_EXISTS_REQ = re.compile(rf"^(?P<not>!?)\s*(?P<key>{_LABEL_KEY})$")

Predicate = Callable[[Obj], bool]


def _split_requirements(selector: str) -> list[str]:
    """Commas separate requirements, except inside `in (a,b)`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _label_requirement(text: str) -> Callable[[dict[str, str]], bool]:
    if m := _SET_REQ.match(text):
        key, values = m["key"], {v.strip() for v in m["values"].split(",") if v.strip()}
        if m["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_REQ.match(text):
        key, value = m["key"], m["value"]
        if m["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _CMP_REQ.match(text):
        key, bound, greater = m["key"], int(m["value"]), m["op"] == ">"
        return lambda labels: _compare(labels.get(key), bound, greater)
    if m := _EXISTS_REQ.match(text):
        key, negate = m["key"], bool(m["not"])
        return lambda labels: (key in labels) != negate
    raise KubeError(400, f"unable to parse requirement: found '{text}', expected: label selector requirement")


def _compare(value: str | None, bound: int, greater: bool) -> bool:
    try:
        number = int(value or "")
    except ValueError:
        return False
    return number > bound if greater else number < bound


def label_predicate(selector: str | None) -> Predicate:
    requirements = [_label_requirement(r) for r in _split_requirements(selector or "")]
    return lambda obj: all(req(_meta(obj).get("labels") or {}) for req in requirements)


#: field labels each resource supports (besides metadata.name and metadata.namespace)
FIELD_LABELS: dict[str, set[str]] = {
    "pods": {
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
    },
    "events": {
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
        "reason", "reportingComponent", "source", "type",
    },
    "nodes": {"spec.unschedulable"},
    "namespaces": {"status.phase"},
    "secrets": {"type"},
    "replicasets": {"status.replicas"},
}  # fmt: skip
_FIELD_REQ = re.compile(r"^(?P<field>[A-Za-z0-9_.]+)\s*(?P<op>==|!=|=)\s*(?P<value>.*)$")
#: where a field label's value lives when it is not the label itself
_FIELD_PATHS = {"source": "source.component"}
_FIELD_DEFAULTS = {"spec.hostNetwork": "false", "spec.unschedulable": "false"}


def _field_value(obj: Obj, field: str) -> str:
    value: Any = obj
    for part in _FIELD_PATHS.get(field, field).split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return _FIELD_DEFAULTS.get(field, "")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_predicate(selector: str | None, resource: str) -> Predicate:
    checks: list[tuple[str, bool, str]] = []
    for text in _split_requirements(selector or ""):
        m = _FIELD_REQ.match(text)
        if m is None:
            raise KubeError(400, f"invalid selector: '{selector}'; can't understand '{text}'")
        field = m["field"]
        if field not in {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(resource, set()):
            raise KubeError(400, f"field label not supported: {field}")
        checks.append((field, m["op"] == "!=", m["value"].replace("\\", "")))
    return lambda obj: all((_field_value(obj, f) == v) != negate for f, negate, v in checks)


def _matcher(req: LabRequest, target: Target) -> Predicate:
    labels = label_predicate(req.arg("labelSelector"))
    fields = field_predicate(req.arg("fieldSelector"), target.rt.plural)
    namespace = target.namespace if target.rt.namespaced else None
    name = target.name

    def match(obj: Obj) -> bool:
        meta = _meta(obj)
        if namespace is not None and meta.get("namespace") != namespace:
            return False
        if name is not None and meta.get("name") != name:
            return False
        return labels(obj) and fields(obj)

    return match


def _selector_string(selector: Any) -> str:
    """A LabelSelector as the `status.selector` string a Scale reports."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, key))  # fmt: skip
    return ",".join(parts)
