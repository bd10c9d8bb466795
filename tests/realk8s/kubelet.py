"""A kubelet stand-in: just enough HTTPS for the kube-apiserver's `pods/log`.

A real kube-apiserver reads a pod's log from the kubelet of the pod's node: it
looks up the Node, takes its preferred address (start the apiserver with
``--kubelet-preferred-address-types=InternalIP`` and give the Node the InternalIP
127.0.0.1) and the port in ``status.daemonEndpoints.kubeletEndpoint.Port``, and
calls ``GET /containerLogs/{namespace}/{pod}/{container}`` with ``previous``,
``tailLines`` and ``limitBytes`` passed through. Kubernetes 1.20 skips verifying
the kubelet's certificate when ``--kubelet-certificate-authority`` is not set, so
the lab's self-signed loopback certificate does.

The logs come from a lab scenario's `LabState` (``state.logs``, keyed by
(namespace, pod, container, previous)), answered the way a kubelet does: a
missing previous container is a 400 that the apiserver passes on.

    with KubeletStandIn() as kubelet:
        kubelet.state = lab.state          # swap per scenario
        ...node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] = kubelet.port
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from castui.lab.server import _tls_context
from castui.lab.state import LabState


class KubeletStandIn:
    def __init__(self, state: LabState | None = None, port: int = 0) -> None:
        #: the scenario whose logs are served; replace it between scenarios
        self.state = state or LabState()
        #: (path, query) of every request, for tests that want to see what the apiserver asked
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._httpd = _Server(("127.0.0.1", port), self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> "KubeletStandIn":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kubelet-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "KubeletStandIn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answers --

    def container_log(self, namespace: str, pod: str, container: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        previous = (query.get("previous") or [""])[0].lower() in ("1", "true")
        data = self.state.logs.get((namespace, pod, container, previous))
        if data is None and previous:
            return 400, f'previous terminated container "{container}" in pod "{pod}" not found'.encode()
        if data is None:
            data = b""
        raw = data.encode() if isinstance(data, str) else data
        return 200, _trim(raw, (query.get("tailLines") or [None])[0], (query.get("limitBytes") or [None])[0])


def _trim(data: bytes, tail_lines: str | None, limit_bytes: str | None) -> bytes:
    if tail_lines is not None and tail_lines.isdigit():
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[-int(tail_lines):]) if int(tail_lines) else b""
    if limit_bytes is not None and limit_bytes.isdigit():
        data = data[: int(limit_bytes)]
    return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], kubelet: KubeletStandIn) -> None:
        self.kubelet = kubelet
        super().__init__(address, _Handler)
        self.socket = _tls_context().wrap_socket(self.socket, server_side=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path, _, qs = self.path.partition("?")
        query = parse_qs(qs, keep_blank_values=True)
        self.server.kubelet.requests.append((path, query))
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) == 4 and parts[0] == "containerLogs":
            status, body = self.server.kubelet.container_log(parts[1], parts[2], parts[3], query)
        else:
            status, body = 404, b"404 page not found"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
