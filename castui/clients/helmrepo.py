"""A Helm repository's `index.yaml`: the newest published version of each chart
(castai-facts.md §2.6), to tell whether an installed chart is behind.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import yaml

from castui.clients import http
from castui.clients.errors import MalformedResponse

DEFAULT_REPO_URL = "https://castai.github.io/helm-charts"

#: the C loader parses CAST AI's ~3 MB index several times faster than the pure-Python one
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_VERSION = re.compile(r"^v?(?P<release>\d+(?:\.\d+)*)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

Version = tuple[tuple[int, ...], int, tuple[tuple[int, int | str], ...]]


async def fetch_index(client: httpx.AsyncClient, repo_url: str) -> dict[str, str]:
    """Chart name → newest released (non-prerelease) version."""
    url = repo_url.rstrip("/") + "/index.yaml"
    what = "read the Helm repository index"
    response = await http.request(client, "GET", url, what=what)
    try:
        # parsing megabytes of YAML would stall the event loop (and the app) for a second
        index = await asyncio.to_thread(yaml.load, response.content, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MalformedResponse(f"{http.labelled(what, url)}: invalid YAML{where}") from None
    entries = index.get("entries") if isinstance(index, dict) else None
    if not isinstance(entries, dict):
        raise MalformedResponse(f"{http.labelled(what, url)}: no `entries` map")
    return newest_versions(entries)


def newest_versions(entries: dict[str, Any]) -> dict[str, str]:
    """Entries are published newest first, but the maximum is computed: the order is a convention."""
    newest: dict[str, str] = {}
    for chart, versions in entries.items():
        best: tuple[Version, str] | None = None
        for entry in versions if isinstance(versions, list) else []:
            raw = str(entry.get("version", "")) if isinstance(entry, dict) else ""
            parsed = parse_version(raw)
            if parsed is None or parsed[1] == 0:  # unparseable or a prerelease
                continue
            if best is None or parsed > best[0]:
                best = (parsed, raw)
        if best is not None:
            newest[str(chart)] = best[1]
    return newest


def parse_version(version: str) -> Version | None:
    """A sortable key for a SemVer-ish version ("v1.2.3", "0.35.136-rc.1", "1.2"), or None.

    Numbers compare numerically, a prerelease sorts before its release, build metadata is ignored.
    """
    match = _VERSION.match(version.strip())
    if match is None:
        return None
    numbers = tuple(int(part) for part in match["release"].split("."))
    numbers += (0,) * max(0, 3 - len(numbers))  # "1.2" is "1.2.0"
    pre = match["pre"]
    if pre is None:
        return numbers, 1, ()
    # SemVer: numeric identifiers sort before alphanumeric ones
    ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return numbers, 0, ids


def is_older(a: str, b: str) -> bool:
    """True when version `a` is older than `b`; False when either is not a version."""
    key_a, key_b = parse_version(a), parse_version(b)
    return key_a is not None and key_b is not None and key_a < key_b
