"""Helm v3 releases read straight from their storage Secrets, without the helm
binary (castai-facts.md §2.5).

A release Secret's `data.release`, as the Kubernetes API returns it, is
base64(base64(gzip(release JSON))): Helm's own base64 under the API's. Helm gzips
at best compression and, when decoding, only gunzips when the gzip magic is there.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from castui.clients.errors import MalformedResponse

SECRET_TYPE = "helm.sh/release.v1"
GZIP_MAGIC = b"\x1f\x8b\x08"
_SECRET_NAME = re.compile(r"^sh\.helm\.release\.v1\.(?P<name>.+)\.v(?P<revision>\d+)$")


class HelmRelease(BaseModel):
    name: str
    namespace: str
    revision: int
    status: str  # deployed|failed|pending-upgrade|superseded|…
    chart: str | None = None
    chart_version: str | None = None
    app_version: str | None = None
    first_deployed: datetime | None = None
    last_deployed: datetime | None = None
    description: str | None = None
    #: effective values: the chart's defaults with the user's overrides merged in
    values: dict[str, Any] = Field(default_factory=dict)
    #: only what the user supplied (`--set`, `-f`)
    config: dict[str, Any] = Field(default_factory=dict)


def decode_release_secret(secret: dict[str, Any]) -> HelmRelease:
    """A release from one Secret as the Kubernetes API returns it; MalformedResponse if corrupt."""
    label = f"Helm release Secret {_meta(secret).get('namespace')}/{_meta(secret).get('name')}"
    data = secret.get("data") if isinstance(secret, dict) else None
    payload = data.get("release") if isinstance(data, dict) else None
    if not isinstance(payload, str):
        raise MalformedResponse(f"{label}: no data.release")
    try:
        release = json.loads(_unwrap(payload))
        return _release_from_json(release)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error, TypeError, AttributeError, KeyError) as exc:
        raise MalformedResponse(f"{label}: cannot decode the release ({type(exc).__name__})") from None
    except ValidationError as exc:
        raise MalformedResponse(f"{label}: unexpected release shape ({exc.error_count()} errors)") from None


def latest_releases(secrets: Iterable[dict[str, Any]]) -> list[HelmRelease]:
    """The newest revision of each release, decoding only those (history stays unread)."""
    newest: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for secret in secrets:
        key_revision = _identity(secret)
        if key_revision is None:
            continue
        key, revision = key_revision
        if key not in newest or revision > newest[key][0]:
            newest[key] = (revision, secret)
    return [decode_release_secret(secret) for _, secret in sorted(newest.values(), key=_sort_key)]


def encode_release_secret(
    release_json: dict[str, Any], *, namespace: str, name: str, revision: int, status: str
) -> dict[str, Any]:
    """A Secret exactly as Helm stores a release, as the Kubernetes API would return it.

    The name, namespace, revision and status given win over the release JSON's, so the
    labels and the payload always agree.
    """
    info = {**(release_json.get("info") or {}), "status": status}
    release = {**release_json, "name": name, "namespace": namespace, "version": revision, "info": info}
    raw = json.dumps(release, separators=(",", ":")).encode()
    helm_b64 = base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0))
    labels = {"name": name, "owner": "helm", "status": status, "version": str(revision)}
    created = _unix_seconds(info.get("last_deployed") or info.get("first_deployed"))
    if created is not None:
        labels["createdAt"] = created
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": namespace, "labels": labels},
        "type": SECRET_TYPE,
        "data": {"release": base64.b64encode(helm_b64).decode()},
    }


def merge_values(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing: maps merge key by key, anything else replaces, and null deletes."""
    merged = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def _unwrap(payload: str) -> bytes:
    helm_b64 = base64.b64decode(payload, validate=True)
    data = base64.b64decode(helm_b64, validate=True)
    return gzip.decompress(data) if data[:3] == GZIP_MAGIC else data


def _release_from_json(release: dict[str, Any]) -> HelmRelease:
    info = release.get("info") or {}
    chart = release.get("chart") or {}
    metadata = chart.get("metadata") or {}
    config = release.get("config") or {}
    return HelmRelease(
        name=release["name"],
        namespace=release.get("namespace") or "",
        revision=release.get("version") or 0,
        status=info.get("status") or "unknown",
        chart=metadata.get("name"),
        chart_version=metadata.get("version"),
        app_version=metadata.get("appVersion"),
        first_deployed=_time(info.get("first_deployed")),
        last_deployed=_time(info.get("last_deployed")),
        description=info.get("Description") or info.get("description"),
        values=merge_values(chart.get("values") or {}, config),
        config=config,
    )


def _time(value: Any) -> Any:
    # Go's zero time marks "never" (e.g. an empty `deleted`)
    return None if not value or str(value).startswith("0001-01-01") else value


def _identity(secret: dict[str, Any]) -> tuple[tuple[str, str], int] | None:
    """((namespace, release name), revision) from the labels, else from the Secret's name."""
    meta = _meta(secret)
    labels: dict[str, Any] = meta["labels"] if isinstance(meta.get("labels"), dict) else {}
    if not isinstance(secret, dict) or secret.get("type") != SECRET_TYPE and labels.get("owner") != "helm":
        return None
    match = _SECRET_NAME.match(_str(meta.get("name")))
    name = _str(labels.get("name")) or (match and match["name"])
    revision = _str(labels.get("version")) or (match and match["revision"])
    if not name or not str(revision).isdigit():
        return None
    return (_str(meta.get("namespace")), str(name)), int(str(revision))


def _sort_key(entry: tuple[int, dict[str, Any]]) -> tuple[str, str]:
    meta = _meta(entry[1])
    return _str(meta.get("namespace")), _str(meta.get("name"))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _meta(secret: dict[str, Any]) -> dict[str, Any]:
    meta = secret.get("metadata") if isinstance(secret, dict) else None
    return meta if isinstance(meta, dict) else {}  # a malformed Secret is skipped, not a crash


def _unix_seconds(value: Any) -> str | None:
    try:
        return str(int(datetime.fromisoformat(str(value)).timestamp()))
    except ValueError:
        return None
