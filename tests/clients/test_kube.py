"""KubeGateway against the lab's Kubernetes API over real HTTPS, through a kubeconfig
as a person has one."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from castui.clients.errors import (
    ConfigurationError,
    ConnectionFailed,
    Forbidden,
    NotFound,
    RequestTimeout,
    Unauthorized,
)
from castui.clients.kube import KubeGateway
from castui.lab.server import LabServer
from castui.lab.state import Fault

from .lab_data import ADMIN_TOKEN, NS, VIEWER_TOKEN, requests_to

PODS_PATH = f"/api/v1/namespaces/{NS}/pods"


def test_importing_the_gateway_does_not_import_kubernetes() -> None:
    code = "import sys, castui.clients.kube; sys.exit('kubernetes' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_it_names_the_context_cluster_and_server_without_connecting(kubeconfig: Path, lab: LabServer) -> None:
    gateway = KubeGateway(str(kubeconfig))
    assert (gateway.context_name, gateway.cluster_name, gateway.server) == ("castui-lab", "castui-lab", lab.https_url)
    assert lab.state.request_log == []


def test_an_unknown_context_lists_the_ones_there_are(kubeconfig: Path) -> None:
    with pytest.raises(
        ConfigurationError, match="context 'prod' is not in the kubeconfig; available contexts: castui-lab"
    ):
        KubeGateway(str(kubeconfig), context="prod")


def test_a_missing_kubeconfig_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="kubeconfig not found: .*nope.yaml"):
        KubeGateway(str(tmp_path / "nope.yaml"))


def test_without_a_kubeconfig_it_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigurationError, match="no kubeconfig found"):
        KubeGateway()


def test_inside_a_pod_without_a_kubeconfig_it_uses_the_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with KubeGateway() as gateway:
        assert (gateway.context_name, gateway.server) == ("in-cluster", "https://10.96.0.1:443")
        with pytest.raises(ConfigurationError, match="cannot use the in-cluster service account"):
            gateway.version()  # no service account token on this machine


def test_kubeconfig_env_merges_files_and_the_first_current_context_wins(
    lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lab.write_kubeconfig(tmp_path / "a.yaml", context="lab-a", token=ADMIN_TOKEN)
    second = lab.write_kubeconfig(tmp_path / "b.yaml", context="lab-b", token=ADMIN_TOKEN)
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    assert KubeGateway().context_name == "lab-a"
    with KubeGateway(context="lab-b") as gateway:
        assert gateway.version()["major"] == "1"


def test_a_relative_certificate_path_is_read_next_to_the_file_that_names_it(
    lab: LabServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As kubectl does: with KUBECONFIG=a:b, a CA path in b is relative to b's directory, not the shell's."""
    from castui.lab.server import LAB_CERT_PEM

    first = lab.write_kubeconfig(tmp_path / "one" / "a.yaml", context="lab-a", token=ADMIN_TOKEN)
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "lab-ca.pem").write_text(LAB_CERT_PEM)
    second = tmp_path / "two" / "b.yaml"
    second.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "relative", "cluster": {"server": lab.https_url, "certificate-authority": "lab-ca.pem"}}],
        "users": [{"name": "relative-user", "user": {"token": ADMIN_TOKEN}}],
        "contexts": [{"name": "lab-relative", "context": {"cluster": "relative", "user": "relative-user"}}],
    }))
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    monkeypatch.chdir(tmp_path)  # not where the CA is
    with KubeGateway(context="lab-relative") as gateway:
        assert gateway.version()["major"] == "1"  # the TLS handshake verified against two/lab-ca.pem
    second.write_text(second.read_text().replace("lab-ca.pem", "missing-ca.pem"))
    with KubeGateway(context="lab-relative") as gateway, pytest.raises((ConfigurationError, ConnectionFailed)):
        gateway.version()  # the file changed: read again, and the missing CA is not silently skipped


def test_lists_page_by_page_with_continue(kubeconfig: Path, lab: LabServer) -> None:
    with KubeGateway(str(kubeconfig)) as gateway:
        pages = list(gateway.iter_pages("pods", NS, page_size=3))
        everything = gateway.list("pods", NS, page_size=3)
    assert [len(page) for page in pages] == [3, 3, 2]
    assert len({p["metadata"]["name"] for p in everything}) == 8
    assert requests_to(lab, PODS_PATH) == 6


def test_selectors_are_passed_to_the_server(kubeconfig: Path) -> None:
    with KubeGateway(str(kubeconfig)) as gateway:
        evictor = gateway.list("pods", NS, label_selector="app.kubernetes.io/name=castai-evictor")
        named = gateway.list("pods", None, field_selector="metadata.name=castai-agent-3")
    assert [p["metadata"]["name"] for p in evictor] == ["evictor"]
    assert [p["metadata"]["name"] for p in named] == ["castai-agent-3"]


def test_get_returns_none_for_a_missing_object(kubeconfig: Path) -> None:
    with KubeGateway(str(kubeconfig)) as gateway:
        assert gateway.get("pods", NS, "castai-agent-0")["metadata"]["name"] == "castai-agent-0"  # type: ignore[index]
        assert gateway.get("pods", NS, "gone") is None


def test_create_and_delete(kubeconfig: Path) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "castui-probe", "namespace": NS},
        "data": {"a": "1"},
    }
    with KubeGateway(str(kubeconfig)) as gateway:
        created = gateway.create("configmaps", NS, body)
        assert created["data"] == {"a": "1"}
        gateway.delete("configmaps", NS, "castui-probe")
        assert gateway.get("configmaps", NS, "castui-probe") is None
        with pytest.raises(NotFound, match="delete configmaps castui-probe in castai-agent"):
            gateway.delete("configmaps", NS, "castui-probe")


def test_pod_disruption_budgets_fall_back_to_v1beta1(kubeconfig: Path, lab: LabServer) -> None:
    lab.state.faults.append(Fault(kind="status", status=404, path=r"^/apis/policy/v1/"))
    with KubeGateway(str(kubeconfig)) as gateway:
        assert [p["metadata"]["name"] for p in gateway.list("poddisruptionbudgets", NS)] == ["castai-agent"]
        assert gateway.get("poddisruptionbudgets", NS, "castai-agent") is not None
    assert requests_to(lab, "/apis/policy/v1beta1/") == 2
    assert requests_to(lab, "/apis/policy/v1/") == 1  # learnt once, then asked v1beta1 directly


def test_a_forbidden_read_keeps_the_servers_explanation(lab: LabServer, tmp_path: Path) -> None:
    kubeconfig = lab.write_kubeconfig(tmp_path / "viewer", token=VIEWER_TOKEN)
    with KubeGateway(str(kubeconfig)) as gateway:
        with pytest.raises(Forbidden) as caught:
            gateway.list("secrets", NS)
    assert str(caught.value).startswith(
        'list secrets in castai-agent: 403 Forbidden: secrets is forbidden: User "viewer" cannot list resource "secrets"'
    )


def test_an_unknown_token_is_unauthorized(lab: LabServer, tmp_path: Path) -> None:
    kubeconfig = lab.write_kubeconfig(tmp_path / "stale", token="expired-token")
    with KubeGateway(str(kubeconfig)) as gateway:
        with pytest.raises(Unauthorized, match="list pods in castai-agent: 401"):
            gateway.list("pods", NS)


def test_a_closed_port_names_the_server(kubeconfig: Path, closed_port_url: str) -> None:
    config = yaml.safe_load(kubeconfig.read_text())
    config["clusters"][0]["cluster"] = {"server": closed_port_url}
    kubeconfig.write_text(yaml.safe_dump(config))
    with KubeGateway(str(kubeconfig)) as gateway:
        with pytest.raises(ConnectionFailed) as caught:
            gateway.version()
    assert (
        str(caught.value) == f"read the Kubernetes version: cannot connect to {closed_port_url[7:]}: connection refused"
    )


def test_a_hanging_server_times_out(kubeconfig: Path, lab: LabServer) -> None:
    lab.state.faults.append(Fault(kind="hang", path=PODS_PATH))
    with KubeGateway(str(kubeconfig), timeout=0.3) as gateway:
        with pytest.raises(
            RequestTimeout, match=r"list pods in castai-agent: 127\.0\.0\.1:\d+ did not answer within 0.3s"
        ):
            gateway.list("pods", NS)


def test_a_reset_mid_body_is_a_closed_connection(kubeconfig: Path, lab: LabServer) -> None:
    lab.state.faults.append(Fault(kind="reset", path=PODS_PATH))
    with KubeGateway(str(kubeconfig)) as gateway:
        with pytest.raises(ConnectionFailed, match="closed mid-response"):
            gateway.list("pods", NS)


def test_logs(kubeconfig: Path) -> None:
    with KubeGateway(str(kubeconfig)) as gateway:
        assert "delta upload finished" in gateway.logs(NS, "castai-agent-0", "agent", tail_lines=10)


def test_a_missing_previous_log_is_not_found_with_a_reason(kubeconfig: Path) -> None:
    with KubeGateway(str(kubeconfig)) as gateway:
        with pytest.raises(NotFound, match="there is no previous log .*has not restarted"):
            gateway.logs(NS, "castai-agent-0", "agent", previous=True)


def test_logs_that_are_not_utf8_are_still_text(kubeconfig: Path, lab: LabServer) -> None:
    lab.state.faults.append(Fault(kind="non-utf8-log"))
    with KubeGateway(str(kubeconfig)) as gateway:
        text = gateway.logs(NS, "castai-agent-0", "agent")
    assert text.startswith("starting agent\n") and "\ufffd" in text


def test_a_log_larger_than_the_limit_is_cut(kubeconfig: Path, lab: LabServer) -> None:
    lab.state.faults.append(
        Fault(kind="huge-log", size=5_000_000, path="/log$")
    )  # ignores limitBytes, as a broken proxy might
    with KubeGateway(str(kubeconfig)) as gateway:
        text = gateway.logs(NS, "castai-agent-0", "agent", limit_bytes=10_000)
        assert len(text) == 10_000
        assert gateway.get("pods", NS, "castai-agent-0") is not None  # the gateway still works afterwards


def test_clusters_sharing_a_ca_connect_when_built_at_once(lab: LabServer, tmp_path: Path) -> None:
    """The client writes certificate-authority-data to a temp file it names before it fills it;
    gateways built at once (a fleet) for clusters with the same CA must not read it half-written."""
    from concurrent.futures import ThreadPoolExecutor

    contexts = [f"lab-{i}" for i in range(16)]
    config = yaml.safe_load(lab.write_kubeconfig(tmp_path / "one.yaml", token=ADMIN_TOKEN).read_text())
    cluster, user = config["clusters"][0], config["users"][0]
    config["contexts"] = [{"name": c, "context": {"cluster": cluster["name"], "user": user["name"]}} for c in contexts]
    pem = base64.b64decode(cluster["cluster"]["certificate-authority-data"])
    for round_ in range(10):
        # a CA file the process has not written yet (the same certificate, more trailing newlines): every round races
        cluster["cluster"]["certificate-authority-data"] = base64.b64encode(pem + b"\n" * (round_ + 1)).decode()
        path = tmp_path / f"fleet-{round_}.yaml"
        path.write_text(yaml.safe_dump(config))

        def version(context: str, path: Path = path) -> str:
            with KubeGateway(str(path), context) as gateway:
                return str(gateway.version()["major"])

        with ThreadPoolExecutor(len(contexts)) as pool:
            assert list(pool.map(version, contexts)) == ["1"] * len(contexts)
