"""CAST AI's public status page, read as an Atlassian Statuspage (castai-facts.md §7).

That the page is a Statuspage is not confirmed, so every failure (HTML, 404,
timeout, bad JSON) becomes `StatusPage(available=False, reason=…)`: the status page
is context for a diagnosis, never a reason for one to fail.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from castui.clients import http
from castui.clients.errors import CastuiError, MalformedResponse
from castui.diagnosis import StatusPage

DEFAULT_STATUS_URL = "https://status.cast.ai"
#: the incident fields worth showing and keeping in a bundle; updates can be long
INCIDENT_FIELDS = ("id", "name", "status", "impact", "created_at", "updated_at", "shortlink")


async def fetch_status(client: httpx.AsyncClient, status_url: str) -> StatusPage:
    base = status_url.rstrip("/")
    status, incidents = await asyncio.gather(
        _read(client, f"{base}/api/v2/status.json", "read CAST AI's status"),
        _read(client, f"{base}/api/v2/incidents/unresolved.json", "read CAST AI's open incidents"),
    )
    if isinstance(status, CastuiError):
        return StatusPage(available=False, reason=f"status page unavailable: {status}")
    indicator = status.get("status") if isinstance(status, dict) else None
    if not isinstance(indicator, dict):
        return StatusPage(available=False, reason="status page unavailable: status.json has no `status`")
    page = StatusPage(
        available=True,
        indicator=_text(indicator.get("indicator")),
        description=_text(indicator.get("description")),
    )
    if isinstance(incidents, CastuiError):
        page.reason = f"open incidents unavailable: {incidents}"
    else:
        page.incidents = _incidents(incidents)
    return page


async def _read(client: httpx.AsyncClient, url: str, what: str) -> Any:
    """The JSON at `url`, or the taxonomy error instead of raising it."""
    try:
        # no retries: a missing status page must not slow the diagnosis down
        data = await http.request_json(client, "GET", url, what=what, retries=0)
    except CastuiError as exc:
        return exc
    if not isinstance(data, dict):
        return MalformedResponse(f"{http.labelled(what, url)}: expected a JSON object")
    return data


def _incidents(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("incidents")
    return [
        {key: item[key] for key in INCIDENT_FIELDS if key in item}
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
