"""The CAST AI side in corporate networks: a CA only in a trust store castui reads (TLS
interception), HTTP and SOCKS proxies from the environment with and without NO_PROXY ranges,
a proxy that is down named as the proxy's; all against the lab over real HTTP(S)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.clients.castai import CastaiClient
from castui.clients.errors import CastuiError
from castui.diagnosis import CauseVerdict
from castui.lab import RunningLab, start_lab
from castui.lab.server import LAB_CERT_PEM, LabServer
from tests.clients.lab_data import KEY, make_state
from tests.core.helpers import castui, diagnose
from tests.env.netkit import HttpProxy, Socks5Proxy

CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def clean_network_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def lab() -> Iterator[LabServer]:
    with LabServer(make_state()) as server:
        yield server


def clusters(url: str) -> str:
    """The cluster names the API lists, or the error castui reports."""
    async def run() -> str:
        async with CastaiClient(url, KEY, timeout=3) as client:
            return " ".join(sorted(c.name for c in await client.list_clusters()))

    try:
        return asyncio.run(run())
    except CastuiError as error:
        return f"error: {error}"


def trust_store(kind: str, tmp_path: Path) -> tuple[str, str]:
    """(variable, value) that installs the lab's CA in one store castui reads."""
    ca = tmp_path / "corporate-ca.pem"
    ca.write_text(LAB_CERT_PEM)
    if kind != "SSL_CERT_DIR":
        return kind, str(ca)
    store = tmp_path / "certs"
    store.mkdir()
    subject_hash = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in", str(ca)], capture_output=True,
                                  text=True, check=True).stdout.strip()
    (store / f"{subject_hash}.0").write_text(LAB_CERT_PEM)  # OpenSSL's hashed-directory layout (c_rehash)
    return kind, str(store)


@pytest.mark.parametrize("kind", ["SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_in_a_trust_store_castui_reads_is_trusted(lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       kind: str) -> None:
    untrusted = clusters(lab.https_url)
    assert untrusted.startswith("error:") and "TLS handshake failed (self-signed certificate)" in untrusted
    variable, value = trust_store(kind, tmp_path)
    monkeypatch.setenv(variable, value)
    assert not clusters(lab.https_url).startswith("error:")


@pytest.fixture
def running_lab() -> Iterator[RunningLab]:
    lab = start_lab("healthy")
    try:
        yield lab
    finally:
        lab.stop()


def test_the_api_checks_pass_with_the_corporate_ca_in_the_os_store(running_lab: RunningLab, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    https = running_lab.server.https_url
    before = diagnose(running_lab, api_url=https)
    tls_unknown = [c for s in before.symptoms for c in s.causes
                   if c.verdict is CauseVerdict.UNKNOWN and "TLS handshake failed" in c.reason]
    assert tls_unknown  # the API checks cannot run: the CA is not trusted
    variable, value = trust_store("SSL_CERT_DIR", tmp_path)
    monkeypatch.setenv(variable, value)
    after = diagnose(running_lab, api_url=https)
    assert not [c for s in after.symptoms for c in s.causes if "TLS" in c.reason]
    assert all(c.verdict is CauseVerdict.RULED_OUT for s in after.symptoms for c in s.causes
               if c.id in {x.id for x in tls_unknown})


#: a name only the test proxies resolve (to the lab): reaching it proves the request was proxied
FAR = "castui-api.test"


@pytest.mark.parametrize("variable,kind", [("HTTP_PROXY", "http"), ("ALL_PROXY", "socks5"), ("HTTP_PROXY", "socks5")])
@pytest.mark.parametrize("no_proxy,proxied", [("", True), ("10.0.0.0/8,example.com", True), (".test", False)])
def test_environment_proxies_for_the_api(lab: LabServer, monkeypatch: pytest.MonkeyPatch, variable: str, kind: str,
                                         no_proxy: str, proxied: bool) -> None:
    port = lab.url.rsplit(":", 1)[1]
    with (HttpProxy({FAR: "127.0.0.1"}) if kind == "http" else Socks5Proxy({FAR: "127.0.0.1"})) as proxy:
        monkeypatch.setenv(variable, proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        answer = clusters(f"http://{FAR}:{port}")
    assert bool(proxy.seen) is proxied
    if proxied:
        assert not answer.startswith("error:"), answer
    else:
        assert "name not resolved" in answer


def test_ip_ranges_in_no_proxy_for_the_api(lab: LabServer, monkeypatch: pytest.MonkeyPatch) -> None:
    port = lab.url.rsplit(":", 1)[1]
    with HttpProxy({"192.0.2.10": "127.0.0.1"}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "10.0.0.0/8")
        assert not clusters(f"http://192.0.2.10:{port}").startswith("error:")
        assert proxy.seen
        proxy.seen.clear()
        monkeypatch.setenv("NO_PROXY", "192.0.2.0/24")  # TEST-NET-1, direct: nothing answers there
        assert clusters(f"http://192.0.2.10:{port}").startswith("error:")
        assert not proxy.seen


def test_loopback_never_goes_to_an_environment_proxy(lab: LabServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with HttpProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        assert not clusters(lab.url).startswith("error:")
        assert not clusters(lab.url.replace("127.0.0.1", "localhost")).startswith("error:")
    assert proxy.seen == []


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_a_proxy_that_is_down_is_named_as_the_proxy(lab: LabServer, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    with (HttpProxy() if kind == "http" else Socks5Proxy()) as proxy:
        dead = proxy.url
    monkeypatch.setenv("ALL_PROXY", dead)
    answer = clusters(f"http://{FAR}:1")
    assert f"through the proxy {dead}" in answer and "connection refused" in answer, answer


def test_a_socks_proxy_in_the_environment_does_not_break_the_lab() -> None:
    result = castui("diagnose", "--lab", "demo", env={"ALL_PROXY": "socks5://127.0.0.1:1", "HTTPS_PROXY": "socks5://127.0.0.1:1"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
