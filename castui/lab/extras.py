"""The lab's other outside services: the Helm repository index and CAST AI's
status page (served as an Atlassian Statuspage, castai-facts.md §7).

`state.status_page` is `{"status": <status.json>, "incidents": <unresolved.json>}`;
with an `"html"` key the lab plays a page that is not a Statuspage at all and
answers that HTML, 200, on both paths.
"""

from __future__ import annotations

from typing import Any

import yaml

from castui.lab.http import LabRequest, LabResponse
from castui.lab.state import LabState

HELM_INDEX_PATH = "/helm-charts/index.yaml"
STATUS_PATHS = {
    "/status/api/v2/status.json": "status",
    "/status/api/v2/incidents/unresolved.json": "incidents",
}

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def route(state: LabState, req: LabRequest) -> LabResponse | None:
    if req.path == HELM_INDEX_PATH:
        return _helm_index(state, req)
    if req.path in STATUS_PATHS:
        return _status_page(state, req, STATUS_PATHS[req.path])
    return None


def _helm_index(state: LabState, req: LabRequest) -> LabResponse:
    if req.method not in ("GET", "HEAD"):
        return LabResponse.of_text("method not allowed", 405)
    with state.lock:
        index = state.helm_index
        text = None if index is None else yaml.dump(index, Dumper=_Dumper, sort_keys=False)
    if text is None:
        return LabResponse.of_text("404: Not Found", 404)
    return LabResponse.of_text(text, content_type="application/x-yaml")


def _status_page(state: LabState, req: LabRequest, part: str) -> LabResponse:
    with state.lock:
        page = state.status_page
        if page is not None and "html" in page:
            return LabResponse.of_text(str(page["html"]), content_type="text/html; charset=utf-8")
        document = None if page is None else page.get(part)
    if document is None:
        return LabResponse.of_text("<html><body>Not Found</body></html>", 404, "text/html")
    return LabResponse.of_json(document)
