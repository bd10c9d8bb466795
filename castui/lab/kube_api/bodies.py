"""Request bodies: JSON, YAML, and the protobuf of kubectl's typed `create` subcommands."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import yaml

from castui.lab.http import LabRequest
from castui.lab.kube_api.common import KubeError, Obj

# -- request bodies --


def _dry_run(req: LabRequest) -> bool:
    return bool(req.query.get("dryRun"))


def _body(req: LabRequest) -> Any:
    content_type = req.headers.get("content-type", "")
    if "protobuf" in content_type:
        return decode_protobuf(req.body)
    if "cbor" in content_type:
        accepted = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
        raise KubeError(415, f"the body of the request was in an unknown format - accepted media types include: "
                             f"{accepted}")  # fmt: skip
    try:
        return yaml.safe_load(req.body) if "yaml" in content_type else json.loads(req.body or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise KubeError(400, f"the request body could not be decoded: {exc}") from exc


def _body_object(req: LabRequest) -> Obj:
    obj = _body(req)
    if not isinstance(obj, dict):
        raise KubeError(400, "the request body must be an object")
    return obj


# -- protobuf request bodies --
# kubectl's typed subcommands (`create namespace|secret|configmap|serviceaccount|…binding|…role`)
# send protobuf and do not fall back to JSON, so the lab decodes the few kinds they create.
# A schema maps a field number to (JSON name, kind): "s" string, "b" bytes (base64), "i" int,
# "?" bool, "m" map<string,string>, "mb" map<string,bytes>, a nested schema, or [kind] repeated.

PbSchema = dict[int, tuple[str, Any]]
_PB_OWNER: PbSchema = {1: ("kind", "s"), 3: ("name", "s"), 4: ("uid", "s"), 5: ("apiVersion", "s"),
                       6: ("controller", "?"), 7: ("blockOwnerDeletion", "?")}  # fmt: skip
_PB_META: PbSchema = {1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"), 11: ("labels", "m"),
                      12: ("annotations", "m"), 13: ("ownerReferences", [_PB_OWNER]),
                      14: ("finalizers", ["s"])}  # fmt: skip
_PB_SUBJECT: PbSchema = {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")}
_PB_ROLE_REF: PbSchema = {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")}
_PB_RULE: PbSchema = {1: ("verbs", ["s"]), 2: ("apiGroups", ["s"]), 3: ("resources", ["s"]),
                      4: ("resourceNames", ["s"]), 5: ("nonResourceURLs", ["s"])}  # fmt: skip
_PB_BINDING: PbSchema = {1: ("metadata", _PB_META), 2: ("subjects", [_PB_SUBJECT]), 3: ("roleRef", _PB_ROLE_REF)}
_PB_ROLE: PbSchema = {1: ("metadata", _PB_META), 2: ("rules", [_PB_RULE])}
_PB_OBJECT_REF: PbSchema = {1: ("kind", "s"), 2: ("namespace", "s"), 3: ("name", "s")}
_PB_RESOURCE_ATTRIBUTES: PbSchema = {1: ("namespace", "s"), 2: ("verb", "s"), 3: ("group", "s"), 4: ("version", "s"),
                                     5: ("resource", "s"), 6: ("subresource", "s"), 7: ("name", "s")}  # fmt: skip
PROTOBUF_KINDS: dict[str, PbSchema] = {
    "Namespace": {1: ("metadata", _PB_META), 2: ("spec", {1: ("finalizers", ["s"])})},
    "Secret": {1: ("metadata", _PB_META), 2: ("data", "mb"), 3: ("type", "s"), 4: ("stringData", "m"),
               5: ("immutable", "?")},
    "ConfigMap": {1: ("metadata", _PB_META), 2: ("data", "m"), 3: ("binaryData", "mb"), 4: ("immutable", "?")},
    "ServiceAccount": {1: ("metadata", _PB_META), 2: ("secrets", [_PB_OBJECT_REF]),
                       3: ("imagePullSecrets", [{1: ("name", "s")}]), 4: ("automountServiceAccountToken", "?")},
    "ClusterRoleBinding": _PB_BINDING,
    "RoleBinding": _PB_BINDING,
    "ClusterRole": _PB_ROLE,
    "Role": _PB_ROLE,
    "SelfSubjectAccessReview": {1: ("metadata", _PB_META), 2: ("spec", {
        1: ("resourceAttributes", _PB_RESOURCE_ATTRIBUTES),
        2: ("nonResourceAttributes", {1: ("path", "s"), 2: ("verb", "s")}),
    })},
}  # fmt: skip
_PB_MAGIC = b"k8s\x00"


def decode_protobuf(data: bytes) -> Obj:
    """A Kubernetes protobuf envelope (magic `k8s` NUL + runtime.Unknown) → the object as JSON would have it."""
    if not data.startswith(_PB_MAGIC):
        raise KubeError(400, "the request body is not a Kubernetes protobuf envelope")
    try:
        envelope = _pb_message(
            data[len(_PB_MAGIC) :], {1: ("typeMeta", {1: ("apiVersion", "s"), 2: ("kind", "s")}), 2: ("raw", "raw")}
        )
        type_meta = envelope.get("typeMeta") or {}
        schema = PROTOBUF_KINDS.get(type_meta.get("kind", ""))
        if schema is None:
            raise KubeError(
                415,
                f"the lab decodes protobuf bodies only for {', '.join(PROTOBUF_KINDS)}; send JSON (e.g. kubectl apply)",
            )
        return {
            "apiVersion": type_meta.get("apiVersion"),
            "kind": type_meta["kind"],
            **_pb_message(envelope.get("raw", b""), schema),
        }
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        raise KubeError(400, f"the protobuf request body could not be decoded: {exc}") from exc


def _pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _pb_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    i = 0
    while i < len(buf):
        tag, i = _pb_varint(buf, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _pb_varint(buf, i)
            yield number, value
        elif wire == 2:
            length, i = _pb_varint(buf, i)
            yield number, buf[i : i + length]
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4  # fixed-width numbers: none of the decoded kinds use them
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _pb_message(buf: bytes, schema: PbSchema) -> Obj:
    out: Obj = {}
    for number, raw in _pb_fields(buf):
        if number not in schema:
            continue
        name, kind = schema[number]
        item = kind[0] if isinstance(kind, list) else kind
        value = _pb_value(raw, item)
        if item in ("m", "mb"):
            out.setdefault(name, {}).update([value])
        elif isinstance(kind, list):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _pb_value(raw: int | bytes, kind: Any) -> Any:
    if isinstance(raw, int):
        return bool(raw) if kind == "?" else raw
    if kind == "s":
        return raw.decode()
    if kind == "b":
        return base64.b64encode(raw).decode()
    if kind in ("m", "mb"):
        entry = _pb_message(raw, {1: ("key", "s"), 2: ("value", "b" if kind == "mb" else "s")})
        return entry.get("key", ""), entry.get("value", "")
    if isinstance(kind, dict):
        return _pb_message(raw, kind)
    return raw
