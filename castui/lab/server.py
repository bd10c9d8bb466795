"""The lab's loopback HTTP server: real sockets, so real clients (kubectl, the
`kubernetes` package, httpx) can talk to a `LabState`.

The server owns the wire (HTTP/1.1, keep-alive, chunked streaming) and the injected
faults; route modules (`kube_api`, `castai_api`, `extras`) only map a `LabRequest`
to a `LabResponse`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import os
import re
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from castui.lab.clock import keep_time
from castui.lab.http import LabRequest, LabResponse, Route
from castui.lab.kube_api import is_kube_path, status_response
from castui.lab.state import Fault, LabState

#: route modules offered each request, in order; a module that does not exist yet is skipped
ROUTE_MODULES = ("castui.lab.kube_api", "castui.lab.castai_api", "castui.lab.extras")

#: how long a `hang` fault holds a request when it sets no `seconds` (or until the server stops)
HANG_SECONDS = 600.0
#: log faults write this much per chunk so `huge-log` never builds its body in memory
LOG_CHUNK = 64 * 1024

# kubectl never sends a bearer token over plain http (clientcmd reads auth info only for TLS
# servers), so the lab also speaks TLS on the same port. This self-signed pair is a public,
# loopback-only test fixture (IP:127.0.0.1, DNS:localhost, valid 2000-2100), never a secret:
# the standard library cannot mint certificates and `cryptography` is not a dependency.
LAB_CERT_PEM = """-----BEGIN CERTIFICATE-----
MIIBjzCCATSgAwIBAgIBATAKBggqhkjOPQQDAjAVMRMwEQYDVQQDDApjYXN0dWkt
bGFiMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAwWjAVMRMwEQYDVQQD
DApjYXN0dWktbGFiMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXc1hyBjHc+2H
FgX8By9AkSmUHqqTZXDQITVKksJvHbEwgDBu4S+bLwoCowSOuA0RM8WKtwq2PlIj
915003KLvKNzMHEwGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MA8GA1UdEwEB
/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgKEMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0G
A1UdDgQWBBQ05efZg4LGsXLOuO1vaqbb0CT6YjAKBggqhkjOPQQDAgNJADBGAiEA
wrGstTjXCGH3xyleFLDb5c9/OjykTSko/mz97C8eDHsCIQDEcddit99YwmsThCGu
EtleDmVCLjzhd83Zuk65Q8omVQ==
-----END CERTIFICATE-----
"""
LAB_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXKUYa67eRT1QDbEH
vQYhfKi8I76PNPyJJSjK/XWJfOyhRANCAARdzWHIGMdz7YcWBfwHL0CRKZQeqpNl
cNAhNUqSwm8dsTCAMG7hL5svCgKjBI64DREzxYq3CrY+UiP3XnTTcou8
-----END PRIVATE KEY-----
"""
#: the verified client certificate's common name, as the handler passes it to the routes
CLIENT_CN_HEADER = "x-castui-lab-client-cn"
#: a TLS record starts with the handshake content type; plain HTTP starts with a method name
TLS_HANDSHAKE = 0x16


def _tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="castui-lab-tls-") as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        Path(cert).write_text(LAB_CERT_PEM)
        Path(key).write_text(LAB_KEY_PEM)
        context.load_cert_chain(cert, key)  # needs files; they are gone once loaded
    # a client certificate from a CA the lab is given (`tls_context.load_verify_locations`)
    # authenticates as `x509:<its CN>` in kube_tokens
    context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context


def load_routes(modules: Sequence[str] = ROUTE_MODULES) -> list[Route]:
    """Import each module's `route`; a missing module is skipped, a broken one answers 500."""
    routes: list[Route] = []
    for name in modules:
        try:
            routes.append(importlib.import_module(name).route)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                routes.append(_failing_route(name, exc))
        except Exception as exc:  # a half-written module must not take the whole lab down
            routes.append(_failing_route(name, exc))
    return routes


def _failing_route(name: str, exc: Exception) -> Route:
    def route(state: LabState, req: LabRequest) -> LabResponse | None:
        raise RuntimeError(f"route module {name} failed to import: {exc!r}")

    return route


def _error_response(path: str, status: int, message: str) -> LabResponse:
    """A Kubernetes `Status` on Kubernetes paths, `{"message": ...}` elsewhere."""
    if is_kube_path(path):
        return status_response(status, message)
    return LabResponse.of_json({"message": message}, status)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # a diagnosis opens dozens of connections at once; the default backlog of 5 drops some,
    # and the kernel's 1 s SYN retry then shows up as a stall
    request_queue_size = 128

    def __init__(self, lab: LabServer, address: tuple[str, int]) -> None:
        self.lab = lab
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """In the connection's thread: TLS or plain HTTP, told apart by the first byte."""
        context = self.lab.tls_context
        if context is None or request.recv(1, socket.MSG_PEEK)[:1] != bytes([TLS_HANDSHAKE]):
            return super().finish_request(request, client_address)
        with self.sockets_lock:
            self.open_sockets.discard(request)
        with context.wrap_socket(request, server_side=True) as tls:  # takes over the file descriptor
            with self.sockets_lock:
                self.open_sockets.add(tls)
            try:
                super().finish_request(tls, client_address)
            finally:
                with self.sockets_lock:
                    self.open_sockets.discard(tls)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-answer is normal here (faults, watches): stay quiet


class LabServer:
    """A threaded loopback server for one `LabState`, speaking HTTP and HTTPS on one port.

    >>> with LabServer(state) as lab:
    ...     lab.write_kubeconfig(tmp / "kubeconfig")  # https + CA data, so kubectl sends the token
    """

    def __init__(
        self,
        state: LabState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Sequence[Route] | None = None,
        tls: bool = True,
    ) -> None:
        self.state = state if state is not None else LabState()
        self.routes: list[Route] = list(routes) if routes is not None else load_routes()
        self.tls_context = _tls_context() if tls else None
        self.stopping = threading.Event()
        self._httpd = _Server(self, (host, port))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def https_url(self) -> str:
        """The same server over TLS (trust `LAB_CERT_PEM`, e.g. via `ca_file()`)."""
        return "https" + self.url[len("http") :]

    def ca_file(self, path: str | Path) -> Path:
        """Write the lab's certificate, for clients that verify TLS (httpx `verify=`, curl `--cacert`)."""
        target = Path(path)
        target.write_text(LAB_CERT_PEM)
        return target

    def start(self) -> LabServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="castui-lab", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end hanging requests and open streams, close keep-alive connections."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._httpd.sockets_lock:
            open_sockets = list(self._httpd.open_sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def write_kubeconfig(
        self,
        path: str | Path,
        *,
        token: str = "lab-admin-token",
        context: str = "castui-lab",
        namespace: str | None = None,
        tls: bool | None = None,
    ) -> Path:
        """A kubeconfig whose current context points at this lab with a bearer token.

        Over TLS by default (when the server has it): kubectl drops tokens on plain http.
        """
        ctx: dict[str, Any] = {"cluster": "castui-lab", "user": f"{context}-user"}
        if namespace:
            ctx["namespace"] = namespace
        cluster: dict[str, Any] = {"server": self.url}
        use_tls = self.tls_context is not None if tls is None else tls
        if use_tls:
            cluster = {
                "server": self.https_url,
                "certificate-authority-data": base64.b64encode(LAB_CERT_PEM.encode()).decode(),
            }
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "castui-lab", "cluster": cluster}],
            "users": [{"name": f"{context}-user", "user": {"token": token}}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
            "preferences": {},
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        return target

    # -- request handling, called from the handler threads --

    def answer(self, req: LabRequest) -> LabResponse:
        keep_time(self.state)  # a scenario's times move with its clock: its verdicts hold however long it runs
        for route in self.routes:
            try:
                response = route(self.state, req)
            except Exception as exc:  # a route bug is a 500, never a dead server
                return _error_response(req.path, 500, f"lab route error: {type(exc).__name__}: {exc}")
            if response is not None:
                return response
        return _error_response(req.path, 404, f"the lab serves nothing at {req.path}")

    def matching_faults(self, req: LabRequest) -> list[Fault]:
        """Faults that apply to this request, each charged one of its `times`."""
        matched: list[Fault] = []
        with self.state.lock:
            for fault in self.state.faults:
                if fault.times is not None and fault.times <= 0:
                    continue
                if fault.method and fault.method.upper() != req.method:
                    continue
                if not re.search(fault.path, req.path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                matched.append(fault)
        return matched


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate sends: with Nagle on, keep-alive clients wait ~40 ms per request
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request log lives in state.request_log

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    @property
    def lab(self) -> LabServer:
        return self.server.lab

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() != CLIENT_CN_HEADER}
        peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        common_names = [v for rdn in (peer or {}).get("subject", ()) for k, v in rdn if k == "commonName"]
        if common_names:
            headers[CLIENT_CN_HEADER] = common_names[0]  # verified by the TLS handshake against the lab's CA
        req = LabRequest.parse(self.command, self.path, headers, self._read_body())
        with self.lab.state.lock:
            self.lab.state.request_log.append((req.method, req.path))
            with self.lab.state.request_seen:
                self.lab.state.request_seen.notify_all()
        faults = self.lab.matching_faults(req)
        for fault in faults:
            if fault.kind == "latency" and _delayed(fault, self.lab.stopping):
                return self._drop()  # the server is stopping
        terminal = next((f for f in faults if f.kind != "latency"), None)
        if terminal is not None and terminal.kind == "hang":
            self.lab.stopping.wait(terminal.seconds or HANG_SECONDS)
            return self._drop()
        if terminal is not None and terminal.kind in _STANDALONE_FAULTS:
            return self._write(_STANDALONE_FAULTS[terminal.kind](req, terminal))
        response = self.lab.answer(req)
        if terminal is not None and terminal.kind == "reset":
            return self._write_reset(response)
        if terminal is not None and terminal.kind in ("truncated-json", "invalid-json"):
            response = _spoil_json(response, terminal.kind)
        self._write(response)

    # -- writing --

    def _write(self, response: LabResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._write_stream(response.stream)
            return
        body = response.body or b""
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _write_stream(self, stream: Iterator[bytes]) -> None:
        """Chunked transfer; an empty chunk from the route is a tick (a chance to notice a stop), not written."""
        try:
            for chunk in stream:
                if self.lab.stopping.is_set():
                    self.close_connection = True
                    return
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client went away
        except Exception:
            self.close_connection = True  # a broken generator: end the response without a terminator
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _write_reset(self, response: LabResponse) -> None:
        """Headers and part of the body, then an abrupt close (RST), like a dropped connection."""
        if response.stream is not None:
            first = next((c for c in response.stream if c), b"")
            body, announced = first[: max(1, len(first) // 2)], None
        else:
            full = response.body or b""
            body, announced = full[: len(full) // 2], len(full)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if announced is not None:
            self.send_header("Content-Length", str(announced))
        else:
            self.send_header("Transfer-Encoding", "chunked")
            body = b"%x\r\n%s" % (len(body), body)
        self.end_headers()
        self.wfile.write(body)
        self._drop()

    def _drop(self) -> None:
        """Close without (finishing) an answer; SO_LINGER 0 makes it a reset, not a clean FIN."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


# -- fault bodies --


def _delayed(fault: Fault, stopping: threading.Event) -> bool:
    """Wait out a latency fault (until its `released` event, if it has one); True if the lab stops meanwhile."""
    if fault.released is None:
        return stopping.wait(fault.seconds)
    end = time.monotonic() + fault.seconds
    while not fault.released.wait(0.05):
        if stopping.is_set():
            return True
        if time.monotonic() >= end:
            break
    return False


def _spoil_json(response: LabResponse, kind: str) -> LabResponse:
    if kind == "invalid-json":
        return LabResponse(200, b'{"items": [{"metadata": {"name": \x00garbage', "application/json")
    body = response.body if response.body is not None else b"".join(response.stream or [])
    return LabResponse(response.status, body[: len(body) // 2], response.content_type, dict(response.headers))


def _status_fault(req: LabRequest, fault: Fault) -> LabResponse:
    code = fault.status or 500
    response = _error_response(req.path, code, f"injected fault: HTTP {code}")
    if fault.retry_after is not None:
        response.headers["Retry-After"] = fault.retry_after
    return response


def _non_utf8_log(req: LabRequest, fault: Fault) -> LabResponse:
    return LabResponse(200, b"starting agent\n\xff\xfe\xc3\x28 invalid \x80\x81 bytes\nready\n", "text/plain")


def _huge_log(req: LabRequest, fault: Fault) -> LabResponse:
    return LabResponse(200, None, "text/plain", stream=_log_lines(fault.size or 10 * 1024 * 1024))


def _long_line(req: LabRequest, fault: Fault) -> LabResponse:
    return LabResponse(200, None, "text/plain", stream=_one_line(fault.size or 1024 * 1024))


def _log_lines(size: int) -> Iterator[bytes]:
    """`size` bytes of numbered log lines, generated chunk by chunk."""
    sent, n = 0, 0
    while sent < size:
        lines = []
        length = 0
        while length < LOG_CHUNK and sent + length < size:
            line = b'time="2024-01-01T00:00:00Z" level=info msg="lab log line %d"\n' % n
            n += 1
            lines.append(line)
            length += len(line)
        chunk = b"".join(lines)[: size - sent]
        sent += len(chunk)
        yield chunk


def _one_line(size: int) -> Iterator[bytes]:
    body = size - 1
    while body > 0:
        n = min(body, LOG_CHUNK)
        body -= n
        yield b"x" * n
    yield b"\n"


def _trickle(req: LabRequest, fault: Fault) -> LabResponse:
    """A stalled read: 200 and then one byte of JSON every `seconds` (default 1), never finishing."""
    return LabResponse(200, None, "application/json", stream=_byte_by_byte(fault.seconds or 1.0))


def _byte_by_byte(every: float) -> Iterator[bytes]:
    import time

    yield b'{"items": ['
    while True:
        time.sleep(every)  # the writer checks for a stop between chunks
        yield b" "


#: faults that answer without asking any route
_STANDALONE_FAULTS = {
    "status": _status_fault,
    "non-utf8-log": _non_utf8_log,
    "huge-log": _huge_log,
    "long-line": _long_line,
    "trickle": _trickle,
}
