"""CAST AI's status page as context: read when it is there, never an error when it is not."""

from __future__ import annotations

from typing import Any

from castui.clients.http import create_client
from castui.clients.statuspage import fetch_status
from castui.diagnosis import StatusPage
from castui.lab.server import LabServer
from castui.lab.state import Fault

DEGRADED: dict[str, Any] = {
    "status": {"page": {"id": "p1", "name": "CAST AI"}, "status": {"indicator": "minor", "description": "Partially Degraded Service"}},
    "incidents": {
        "page": {"id": "p1"},
        "incidents": [
            {"id": "inc-1", "name": "Delayed agent snapshots", "status": "investigating", "impact": "minor",
             "created_at": "2024-06-01T10:00:00Z", "shortlink": "https://stspg.io/x",
             "incident_updates": [{"body": "We are looking into it." * 50}]},
        ],
    },
}  # fmt: skip


async def status(url: str, timeout: float = 5.0) -> StatusPage:
    async with create_client(timeout) as client:
        return await fetch_status(client, url)


async def test_an_incident_in_progress_is_reported(lab: LabServer) -> None:
    lab.state.status_page = DEGRADED
    page = await status(f"{lab.url}/status")
    assert (page.available, page.indicator, page.description) == (True, "minor", "Partially Degraded Service")
    assert [i["name"] for i in page.incidents] == ["Delayed agent snapshots"]
    assert "incident_updates" not in page.incidents[0]


async def test_no_status_page_is_unavailable_not_an_error(lab: LabServer) -> None:
    page = await status(f"{lab.url}/status")
    assert not page.available
    assert page.reason is not None and page.reason.startswith("status page unavailable:") and "404" in page.reason


async def test_an_html_page_is_unavailable(lab: LabServer) -> None:
    lab.state.status_page = {"html": "<!DOCTYPE html><html><body>CAST AI status</body></html>"}
    page = await status(f"{lab.url}/status")
    assert not page.available and page.reason is not None and "text/html instead of JSON" in page.reason


async def test_bad_json_is_unavailable(lab: LabServer) -> None:
    lab.state.status_page = DEGRADED
    lab.state.faults.append(Fault(kind="truncated-json", path="status.json"))
    page = await status(f"{lab.url}/status")
    assert not page.available and page.reason is not None and "invalid JSON" in page.reason


async def test_a_hanging_status_page_is_unavailable(lab: LabServer) -> None:
    lab.state.faults.append(Fault(kind="hang", path="/status/"))
    page = await status(f"{lab.url}/status", timeout=0.3)
    assert not page.available and page.reason is not None and "no answer within 0.3s" in page.reason


async def test_an_unreachable_status_page_is_unavailable(closed_port_url: str) -> None:
    page = await status(closed_port_url)
    assert not page.available and page.reason is not None and "connection refused" in page.reason


async def test_the_status_without_incidents_is_still_reported(lab: LabServer) -> None:
    lab.state.status_page = DEGRADED
    lab.state.faults.append(Fault(kind="status", status=404, path="unresolved.json"))
    page = await status(f"{lab.url}/status")
    assert page.available and page.indicator == "minor" and page.incidents == []
    assert page.reason is not None and page.reason.startswith("open incidents unavailable:")
