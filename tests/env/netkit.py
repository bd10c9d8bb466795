"""Tiny, bounded proxies on 127.0.0.1 for the tests: an HTTP proxy (CONNECT tunnels and
absolute-form requests) and a SOCKS5 proxy (no auth, CONNECT). Each records the targets it
was asked for and can map made-up host names to a real address: a name only the proxy
resolves proves a request went through it (loopback itself is never proxied from the
environment, by kubectl's rule and castui's)."""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

#: a relay gives up on a connection idle this long
IDLE_S = 15.0


def _relay(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    try:
        while True:
            ready, _, _ = select.select(sockets, [], [], IDLE_S)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
    except OSError:
        return
    finally:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()


class _Proxy:
    def __init__(self, routes: dict[str, str] | None = None) -> None:
        self.routes = routes or {}
        self.seen: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(IDLE_S)
            threading.Thread(target=self._guarded(self.handle), args=(conn,), daemon=True).start()

    @staticmethod
    def _guarded(handler: Callable[[socket.socket], None]) -> Callable[[socket.socket], None]:
        def run(conn: socket.socket) -> None:
            try:
                handler(conn)
            except OSError:
                with contextlib.suppress(OSError):
                    conn.close()

        return run

    def connect(self, host: str, port: int) -> socket.socket:
        self.seen.append(f"{host}:{port}")
        return socket.create_connection((self.routes.get(host, host), port), timeout=5)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Proxy:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


class HttpProxy(_Proxy):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return conn.close()
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            try:
                upstream = self.connect(host.strip("[]"), int(port))
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return conn.close()
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            return _relay(conn, upstream)
        # absolute-form: one request per connection, sent on in origin form
        scheme_host, _, path = target.partition("://")[2].partition("/")
        host, _, port = scheme_host.rpartition(":") if ":" in scheme_host else (scheme_host, "", "80")
        headers = [h for h in lines[1:] if not h.lower().startswith(("connection:", "proxy-connection:"))]
        upstream = self.connect(host, int(port))
        upstream.sendall(f"{method} /{path} {version}\r\n".encode() + "\r\n".join([*headers, "Connection: close"]).encode()
                         + b"\r\n\r\n" + rest)
        _relay(conn, upstream)


class Socks5Proxy(_Proxy):
    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    def _read(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def handle(self, conn: socket.socket) -> None:
        version, methods = self._read(conn, 2)
        self._read(conn, methods)
        if version != 5:
            return conn.close()
        conn.sendall(b"\x05\x00")  # no authentication
        _, command, _, kind = self._read(conn, 4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(self._read(conn, 4)))
        elif kind == 3:
            host = self._read(conn, self._read(conn, 1)[0]).decode()
        else:
            host = str(ipaddress.IPv6Address(self._read(conn, 16)))
        (port,) = struct.unpack("!H", self._read(conn, 2))
        if command != 1:
            conn.sendall(b"\x05\x07\x00\x01" + bytes(6))
            return conn.close()
        try:
            upstream = self.connect(host, port)
        except OSError:
            conn.sendall(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
            return conn.close()
        conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
        _relay(conn, upstream)
