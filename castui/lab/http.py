"""The request/response pair that the lab's route modules speak.

The server (`castui.lab.server`) parses HTTP into a `LabRequest`, offers it to each
route module in turn (`kube_api`, `castai_api`, `extras`), applies faults, and
writes the first `LabResponse` it gets back. Route modules never touch sockets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from castui.lab.state import LabState


@dataclass
class LabRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @classmethod
    def parse(cls, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> "LabRequest":
        path, _, qs = raw_path.partition("?")
        return cls(method.upper(), path, parse_qs(qs, keep_blank_values=True), {k.lower(): v for k, v in headers.items()}, body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class LabResponse:
    status: int = 200
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: for watches and long bodies: chunks written one by one (chunked transfer)
    stream: Iterator[bytes] | None = None

    @classmethod
    def of_json(cls, data: Any, status: int = 200, **headers: str) -> "LabResponse":
        return cls(status, json.dumps(data).encode(), "application/json", dict(headers))

    @classmethod
    def of_text(cls, text: str | bytes, status: int = 200, content_type: str = "text/plain") -> "LabResponse":
        return cls(status, text.encode() if isinstance(text, str) else text, content_type)


#: a route module's entry point; returns None when the path is not its own
Route = Callable[["LabState", LabRequest], LabResponse | None]
