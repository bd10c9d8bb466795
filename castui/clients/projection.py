"""Decoding only the fields a check reads from a big list.

A realistic pod is ~6 KB of JSON (managedFields, env, probes, volumes, status); the drain
check reads a dozen fields of it. msgspec decodes a list into TypedDicts that name just
those fields and skips the rest without building it: a 5,000-pod page decodes ~7× faster
than with `json` (52 vs 355 ms, measured on the scale lab) and holds a fraction of the
memory. The result is still plain dicts, so the code that reads them is unchanged.

Anything that does not fit the shape (a hostile or odd server) is decoded again with
`json`, whole, and read as before: a projection never turns a strange answer into an error.
"""

from __future__ import annotations

import functools
from typing import Any, TypedDict


class _Volume(TypedDict, total=False):
    name: Any
    emptyDir: Any
    hostPath: Any


class _PodMetadata(TypedDict, total=False):
    name: Any
    namespace: Any
    labels: Any
    annotations: Any
    ownerReferences: Any


class _PodSpec(TypedDict, total=False):
    nodeName: Any
    volumes: list[_Volume]


class _PodStatus(TypedDict, total=False):
    phase: Any


class PodForDrain(TypedDict, total=False):
    """What `castui.tree.no_scale_down.workload_by_node` reads of a pod (node, phase, owner, annotations), and the
    drain rules' labels and volumes besides."""

    metadata: _PodMetadata
    spec: _PodSpec
    status: _PodStatus


@functools.lru_cache(maxsize=8)
def _decoder(projection: type) -> Any:
    import msgspec

    envelope = TypedDict(f"{projection.__name__}List", {"metadata": Any, "items": list[projection] | None},  # type: ignore[misc, valid-type]
                         total=False)
    return msgspec.json.Decoder(envelope)


def decode_projected(body: bytes, projection: type) -> dict[str, Any] | None:
    """The list answer with each item cut down to `projection`; None when it does not fit the shape."""
    import msgspec

    try:
        data = _decoder(projection).decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return data if isinstance(data, dict) else None
