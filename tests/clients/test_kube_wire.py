"""A kubeconfig with a token or a client certificate is read without the `kubernetes` package
(its import was most of a cold diagnosis's CPU); every other credential still goes through it.
All against the lab over real HTTPS."""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml

from castui.clients.errors import ConfigurationError, ConnectionFailed
from castui.clients.kube import KubeGateway
from castui.lab.server import LabServer

from .lab_data import ADMIN_TOKEN, NS

ROOT = Path(__file__).resolve().parents[2]


def _edit(kubeconfig: Path, *, user: dict | None = None, cluster: dict | None = None) -> Path:
    doc = yaml.safe_load(kubeconfig.read_text())
    if user is not None:
        doc["users"][0]["user"] = user
    if cluster is not None:
        doc["clusters"][0]["cluster"].update(cluster)
    kubeconfig.write_text(yaml.safe_dump(doc))
    return kubeconfig


def _list_in_fresh_process(kubeconfig: Path, env: dict[str, str] | None = None) -> tuple[int, bool]:
    """(pods listed, whether the `kubernetes` package got imported) in a new interpreter."""
    code = textwrap.dedent(f"""
        import sys
        from castui.clients.kube import KubeGateway
        with KubeGateway({str(kubeconfig)!r}) as kube:
            pods = kube.list("pods", {NS!r})
        print(len(pods), "kubernetes" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr[-2000:]
    count, imported = done.stdout.split()
    return int(count), imported == "True"


def test_a_token_kubeconfig_never_imports_kubernetes(kubeconfig: Path) -> None:
    count, imported = _list_in_fresh_process(kubeconfig)
    assert count > 0 and not imported


def test_credentials_castui_does_not_read_itself_go_through_kubernetes(kubeconfig: Path, lab: LabServer) -> None:
    plugin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable, "interactiveMode": "Never",
                       "args": ["-c", 'import json; print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", '
                                f'"kind": "ExecCredential", "status": {{"token": "{ADMIN_TOKEN}"}}}}))']}}
    count, imported = _list_in_fresh_process(_edit(kubeconfig, user=plugin))
    assert count > 0 and imported


def test_a_proxy_in_the_environment_is_left_to_kubernetes(kubeconfig: Path) -> None:
    _, imported = _list_in_fresh_process(kubeconfig, env={"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"})
    assert imported


def test_the_bearer_token_and_user_agent_reach_the_server(kubeconfig: Path, lab: LabServer) -> None:
    with KubeGateway(str(kubeconfig)) as kube:
        assert kube.get("pods", NS, "no-such-pod") is None
        _edit(kubeconfig, user={"token": "wrong"})
    with KubeGateway(str(kubeconfig)) as kube, pytest.raises(Exception, match="401|[Uu]nauthori"):
        kube.list("pods", NS)


@pytest.fixture
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A client certificate and its key (PEM), made by openssl for the test."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("client-cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(where / "key"), "-out", str(where / "crt"), "-days", "1", "-subj", "/CN=castui-client",
                    "-addext", "extendedKeyUsage=clientAuth"], check=True, capture_output=True)
    return (where / "crt").read_text(), (where / "key").read_text()


@pytest.fixture
def mutual_tls(lab: LabServer, client_cert: tuple[str, str]) -> LabServer:
    """The lab asking every client for a certificate, trusting the test's one."""
    assert lab.tls_context is not None
    lab.tls_context.verify_mode = ssl.CERT_REQUIRED
    lab.tls_context.load_verify_locations(cadata=client_cert[0])
    return lab


def test_a_client_certificate_from_data_is_presented(kubeconfig: Path, mutual_tls: LabServer,
                                                     client_cert: tuple[str, str]) -> None:
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    # the lab maps tokens, not certificates, to users: the token authorises, the handshake needs the certificate
    _edit(kubeconfig, user={"client-certificate-data": b64(client_cert[0]), "client-key-data": b64(client_cert[1]),
                            "token": ADMIN_TOKEN})
    before = set(Path(tempfile.gettempdir()).glob("castui-kube-*"))
    count, imported = _list_in_fresh_process(kubeconfig)
    assert count > 0 and not imported
    assert set(Path(tempfile.gettempdir()).glob("castui-kube-*")) == before  # the key never lingers on disk


def test_a_client_certificate_file_is_found_next_to_the_kubeconfig(kubeconfig: Path, mutual_tls: LabServer,
                                                                   client_cert: tuple[str, str]) -> None:
    (kubeconfig.parent / "client.crt").write_text(client_cert[0])
    (kubeconfig.parent / "client.key").write_text(client_cert[1])
    _edit(kubeconfig, user={"client-certificate": "client.crt", "client-key": "client.key", "token": ADMIN_TOKEN})
    with KubeGateway(str(kubeconfig)) as kube:
        assert kube.list("pods", NS)


def test_without_the_certificate_the_server_refuses(kubeconfig: Path, mutual_tls: LabServer) -> None:
    _edit(kubeconfig, user={"token": ADMIN_TOKEN})
    with KubeGateway(str(kubeconfig)) as kube, pytest.raises(ConnectionFailed, match="cannot connect|closed"):
        kube.list("pods", NS)


def test_a_missing_certificate_file_is_a_configuration_error(kubeconfig: Path) -> None:
    _edit(kubeconfig, user={"client-certificate": "gone.crt", "client-key": "gone.key"})
    with KubeGateway(str(kubeconfig)) as kube, pytest.raises(ConfigurationError, match="file not found: .*gone.crt"):
        kube.list("pods", NS)


def test_an_untrusted_server_fails_its_handshake(kubeconfig: Path) -> None:
    _edit(kubeconfig, cluster={"certificate-authority-data": base64.b64encode(_other_ca().encode()).decode()})
    with KubeGateway(str(kubeconfig)) as kube, pytest.raises(ConnectionFailed, match="TLS handshake failed"):
        kube.list("pods", NS)


def test_insecure_skip_tls_verify_is_honoured(kubeconfig: Path) -> None:
    doc = yaml.safe_load(kubeconfig.read_text())
    del doc["clusters"][0]["cluster"]["certificate-authority-data"]
    doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    kubeconfig.write_text(yaml.safe_dump(doc))
    with KubeGateway(str(kubeconfig)) as kube:
        assert kube.list("pods", NS)


def _other_ca() -> str:
    """A real CA certificate that did not sign the lab's: the system's first one, else the lab's own mangled."""
    for path in ("/etc/ssl/certs/ca-certificates.crt",):
        if Path(path).is_file():
            text = Path(path).read_text()
            end = "-----END CERTIFICATE-----"
            return text[: text.index(end) + len(end)] + "\n"
    pytest.skip("no system CA bundle to take an unrelated CA from")


def test_a_whole_cold_diagnosis_with_a_token_never_imports_kubernetes(tmp_path: Path) -> None:
    """`castui diagnose` end to end (credential priming, every check): nothing of the `kubernetes` package."""
    from castui.lab import start_lab

    with start_lab("demo", workdir=tmp_path) as lab:
        flags = ["--kubeconfig", str(lab.kubeconfig), "--api-url", lab.url, "--helm-repo-url", f"{lab.url}/helm-charts",
                 "--status-url", f"{lab.url}/status", "--terraform-dir", str(lab.terraform_dir)]
        code = ("import sys\nfrom castui.cli import main\nrc = main(sys.argv[1:])\n"
                "print('KUBERNETES', 'kubernetes' in sys.modules, file=sys.stderr)\nsys.exit(rc)")
        done = subprocess.run([sys.executable, "-c", code, "diagnose", "--format", "json", *flags], capture_output=True,
                              text=True, cwd=ROOT, timeout=300, env={**os.environ, "CASTAI_API_KEY": lab.api_key or "",
                                                                    "XDG_STATE_HOME": str(tmp_path / "state"),
                                                                    "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert done.returncode in (0, 1, 3), done.stderr[-2000:]
    assert "KUBERNETES False" in done.stderr
