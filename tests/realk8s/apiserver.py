"""A real, throw-away Kubernetes API server (etcd + kube-apiserver) on loopback.

The kube-apiserver binary comes from ``tests/realk8s/build_apiserver.sh``
(Kubernetes v1.20.2 built from Debian's source package, cached in
``$CASTUI_CACHE_DIR/kube-apiserver``, default ``~/.cache/castui``); ``etcd``
comes from Debian's ``etcd-server``.

Usage::

    with RealApiServer() as srv:
        srv.write_kubeconfig(tmp_path / "kubeconfig")            # admin
        srv.write_kubeconfig(tmp_path / "ro", user="restricted")  # no RBAC rights
        srv.api("POST", "/api/v1/namespaces", {"metadata": {"name": "x"}})

There are no controllers, scheduler or kubelet: objects are stored as given
(create pods directly, set their status through the ``status`` subresource).
API level is 1.20 (no ``policy/v1``).

Only the standard library and PyYAML are used; this module imports nothing
from pytest so it can be used from plain scripts too.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from typing import Any

import yaml

__all__ = ["RealApiServer", "ApiServerUnavailable", "default_apiserver_path"]

ADMIN_USER = "admin"
RESTRICTED_USER = "restricted"


class ApiServerUnavailable(RuntimeError):
    """The binaries are missing (run build_apiserver.sh) or the server failed to start."""


def default_apiserver_path() -> Path:
    """Where build_apiserver.sh caches the binary (``CASTUI_KUBE_APISERVER`` overrides)."""
    explicit = os.environ.get("CASTUI_KUBE_APISERVER")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("CASTUI_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "castui"
    )
    return Path(cache) / "kube-apiserver"


# --------------------------------------------------------------------------
# Process hygiene: children die with us, and whatever is still running at
# interpreter exit is stopped.

_LIVE: "weakref.WeakSet[RealApiServer]" = weakref.WeakSet()


def _stop_all_at_exit() -> None:
    for srv in list(_LIVE):
        try:
            srv.stop()
        except Exception:  # pragma: no cover - best effort at exit
            pass


atexit.register(_stop_all_at_exit)

_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # pragma: no cover - non-glibc platforms
    _prctl = None


def _make_preexec(parent_pid: int):
    """Child-side hook: get SIGKILLed when the parent goes away.

    This covers the cases atexit cannot (the test runner being SIGKILLed or
    hitting a timeout). Caveat of PR_SET_PDEATHSIG: it fires when the *thread*
    that spawned the child exits, so start the server from a thread that lives
    as long as the server (the main thread, as pytest fixtures do).
    """

    def preexec() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent_pid:  # parent died before prctl
                os._exit(1)

    return preexec


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_ports(n: int) -> list[int]:
    # Hold all sockets open at once so the n ports are distinct.
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


_WORK_PREFIX = "castui-apiserver-"
_ETCD_PREFIX = "castui-etcd-"
_OWNER_FILE = "owner.pid"


def _sweep_stale(base: str, prefix: str) -> None:
    """Remove temp dirs left by a run that was SIGKILLed (its owner pid is gone)."""
    try:
        entries = list(Path(base).glob(prefix + "*"))
    except OSError:
        return
    for d in entries:
        try:
            pid = int((d / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return "<no log>"
    return data[-limit:].decode("utf-8", "replace")


def _terminate(proc: subprocess.Popen | None, grace: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    except ProcessLookupError:  # pragma: no cover
        pass


class RealApiServer:
    """etcd + kube-apiserver on free loopback ports, as a context manager.

    Attributes (valid after ``start()`` / ``__enter__``): ``url``,
    ``admin_token`` (user ``admin`` in group ``system:masters``),
    ``restricted_token`` (user ``restricted``, no groups, so only what RBAC
    grants every authenticated user), ``port``, ``etcd_url``, ``workdir``.
    """

    def __init__(
        self,
        apiserver_bin: str | os.PathLike | None = None,
        etcd_bin: str | os.PathLike | None = None,
        *,
        ready_timeout: float = 30.0,
        extra_args: list[str] | None = None,
    ) -> None:
        self.apiserver_bin = Path(apiserver_bin) if apiserver_bin else default_apiserver_path()
        found_etcd = etcd_bin or shutil.which("etcd") or "/usr/bin/etcd"
        self.etcd_bin = Path(found_etcd)
        self.ready_timeout = ready_timeout
        self.extra_args = list(extra_args or [])

        self.admin_token = secrets.token_hex(16)
        self.restricted_token = secrets.token_hex(16)
        self.url: str = ""
        self.port: int = 0
        self.etcd_url: str = ""
        self.workdir: Path | None = None
        self.startup_seconds: float | None = None

        self._etcd_dir: Path | None = None
        self._etcd: subprocess.Popen | None = None
        self._apiserver: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._ssl = ssl.create_default_context()
        self._ssl.check_hostname = False
        self._ssl.verify_mode = ssl.CERT_NONE
        # No proxies for loopback, whatever *_proxy variables say.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._ssl)
        )

    # ------------------------------------------------------------------ life

    def __enter__(self) -> "RealApiServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> "RealApiServer":
        if self._apiserver is not None:
            raise RuntimeError("RealApiServer already started")
        for what, path in (("kube-apiserver", self.apiserver_bin), ("etcd", self.etcd_bin)):
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise ApiServerUnavailable(
                    f"{what} not found at {path}: run tests/realk8s/build_apiserver.sh"
                )
        if shutil.which("openssl") is None:
            raise ApiServerUnavailable("openssl CLI not found")
        _LIVE.add(self)
        t0 = time.monotonic()
        try:
            self._prepare_files()
            self._start_etcd()
            self._start_apiserver()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stop both processes and delete the temporary directories. Idempotent."""
        with self._lock:
            _terminate(self._apiserver, grace=5)
            _terminate(self._etcd, grace=5)
            self._apiserver = self._etcd = None
            for d in (self._etcd_dir, self.workdir):
                if d is not None:
                    shutil.rmtree(d, ignore_errors=True)
            self._etcd_dir = self.workdir = None
            _LIVE.discard(self)

    @property
    def running(self) -> bool:
        return (
            self._apiserver is not None
            and self._apiserver.poll() is None
            and self._etcd is not None
            and self._etcd.poll() is None
        )

    # ------------------------------------------------------------ internals

    def _prepare_files(self) -> None:
        # etcd fsyncs a lot; tmpfs makes it cheap when there is one.
        shm = Path("/dev/shm")
        etcd_base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        _sweep_stale(tempfile.gettempdir(), _WORK_PREFIX)
        _sweep_stale(etcd_base or tempfile.gettempdir(), _ETCD_PREFIX)
        self.workdir = Path(tempfile.mkdtemp(prefix=_WORK_PREFIX))
        self._etcd_dir = Path(tempfile.mkdtemp(prefix=_ETCD_PREFIX, dir=etcd_base))
        for d in (self.workdir, self._etcd_dir):
            (d / _OWNER_FILE).write_text(str(os.getpid()))
        (self.workdir / "certs").mkdir()

        key = self.workdir / "sa.key"
        pub = self.workdir / "sa.pub"
        for cmd in (
            ["openssl", "genrsa", "-out", str(key), "2048"],
            ["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(pub)],
        ):
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise ApiServerUnavailable(f"{' '.join(cmd)} failed: {res.stderr.strip()}")

        # token,user,uid[,"group1,group2"]
        (self.workdir / "tokens.csv").write_text(
            f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n'
            f"{self.restricted_token},{RESTRICTED_USER},{RESTRICTED_USER}\n"
        )

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        assert self.workdir is not None
        log = open(self.workdir / f"{name}.log", "wb")
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                preexec_fn=_make_preexec(os.getpid()),
            )
        finally:
            log.close()  # the child holds its own descriptor

    def _fail(self, name: str, why: str) -> ApiServerUnavailable:
        assert self.workdir is not None
        return ApiServerUnavailable(
            f"{name} {why}; last log lines:\n{_tail(self.workdir / f'{name}.log')}"
        )

    def _start_etcd(self) -> None:
        assert self._etcd_dir is not None
        client, peer = _free_ports(2)
        self.etcd_url = f"http://127.0.0.1:{client}"
        peer_url = f"http://127.0.0.1:{peer}"
        self._etcd = self._spawn(
            "etcd",
            [
                str(self.etcd_bin),
                "--name=castui",
                f"--data-dir={self._etcd_dir / 'data'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=castui={peer_url}",
                "--initial-cluster-state=new",
                "--logger=zap",
                "--log-outputs=stderr",
                "--log-level=warn",
            ],
        )
        deadline = time.monotonic() + min(self.ready_timeout, 15.0)
        while True:
            if self._etcd.poll() is not None:
                raise self._fail("etcd", f"exited with status {self._etcd.returncode}")
            try:
                with self._opener.open(f"{self.etcd_url}/health", timeout=1) as r:
                    if json.loads(r.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise self._fail("etcd", "did not become healthy")
            _wait_unless_exits(self._etcd, 0.05)

    def _start_apiserver(self) -> None:
        assert self.workdir is not None
        self.port = _free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        w = self.workdir
        self._apiserver = self._spawn(
            "kube-apiserver",
            [
                str(self.apiserver_bin),
                "--advertise-address=127.0.0.1",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--cert-dir={w / 'certs'}",
                f"--etcd-servers={self.etcd_url}",
                f"--token-auth-file={w / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={w / 'sa.pub'}",
                f"--service-account-signing-key-file={w / 'sa.key'}",
                "--profiling=false",
                *self.extra_args,
            ],
        )
        deadline = time.monotonic() + self.ready_timeout
        last = ""
        while True:
            if self._apiserver.poll() is not None:
                raise self._fail(
                    "kube-apiserver", f"exited with status {self._apiserver.returncode}"
                )
            try:
                status, body = self._raw("GET", "/readyz", token=self.admin_token, timeout=2)
                if status == 200:
                    # The bootstrap controller creates `default` just after ready.
                    if self._raw("GET", "/api/v1/namespaces/default", token=self.admin_token,
                                 timeout=2)[0] == 200:
                        return
                    last = "namespace default not created yet"
                else:
                    last = f"/readyz {status}: {body[-300:]!r}"
            except OSError as e:
                last = str(e)
            if time.monotonic() > deadline:
                raise self._fail(
                    "kube-apiserver", f"not ready after {self.ready_timeout:.0f} s ({last})"
                )
            _wait_unless_exits(self._apiserver, 0.1)

    def _raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        token: str | None,
        content_type: str = "application/json",
        timeout: float = 10,
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json")
        try:
            with self._opener.open(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # ---------------------------------------------------------------- public

    def token_for(self, user: str) -> str:
        if user == ADMIN_USER:
            return self.admin_token
        if user == RESTRICTED_USER:
            return self.restricted_token
        raise ValueError(f"unknown user {user!r} (expected 'admin' or 'restricted')")

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str = ADMIN_USER,
        content_type: str = "application/json",
        expect: tuple[int, ...] | None = (200, 201),
    ) -> Any:
        """One REST call; returns the decoded JSON body.

        ``body`` may be a dict (sent as JSON), bytes or None. Raises
        RuntimeError when the status is not in ``expect`` (None: never).
        For patches pass e.g. ``content_type="application/merge-patch+json"``.
        """
        if not self.url:
            raise RuntimeError("RealApiServer is not started")
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        status, raw = self._raw(
            method, path, data, token=self.token_for(user), content_type=content_type
        )
        if expect is not None and status not in expect:
            raise RuntimeError(f"{method} {path} -> {status}: {raw[:500]!r}")
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def write_kubeconfig(
        self,
        path: str | os.PathLike,
        user: str = ADMIN_USER,
        context_name: str = "real",
        namespace: str | None = None,
        verify_tls: bool = False,
    ) -> Path:
        """Write a kubeconfig for ``user`` ('admin' or 'restricted'); returns the path.

        With ``verify_tls`` the kubeconfig carries the CA the server generated for itself
        (``--cert-dir`` writes the serving certificate followed by its CA), so clients
        verify the server as against a real cluster; otherwise ``insecure-skip-tls-verify``.
        """
        if not self.url:
            raise RuntimeError("RealApiServer is not started")
        cluster: dict[str, Any] = {"server": self.url, "insecure-skip-tls-verify": True}
        if verify_tls:
            assert self.workdir is not None
            chain = (self.workdir / "certs" / "apiserver.crt").read_bytes()
            cluster = {"server": self.url, "certificate-authority-data": base64.b64encode(chain).decode()}
        ctx: dict[str, Any] = {"cluster": context_name, "user": f"{context_name}-{user}"}
        if namespace:
            ctx["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [
                {"name": context_name, "cluster": cluster}
            ],
            "users": [{"name": f"{context_name}-{user}", "user": {"token": self.token_for(user)}}],
            "contexts": [{"name": context_name, "context": ctx}],
            "current-context": context_name,
        }
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(yaml.safe_dump(config, sort_keys=False))
        os.chmod(p, 0o600)
        return p

    def log(self, name: str = "kube-apiserver") -> str:
        """Tail of the kube-apiserver (or 'etcd') log, for failure messages."""
        if self.workdir is None:
            return ""
        return _tail(self.workdir / f"{name}.log")


def _wait_unless_exits(process: subprocess.Popen, seconds: float) -> None:
    """Pace a readiness poll by waiting on the process: if it exits, the next poll reports why."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass
