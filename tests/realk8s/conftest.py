"""One real kube-apiserver (etcd + Kubernetes 1.20.2 built from Debian's source) for the
whole session, a kubelet stand-in for pod logs, and lab scenarios loaded into it.

The binary is built (once, ~4.5 min) and cached by `build_apiserver.sh`; with the
cache warm the script returns in a tenth of a second. Where it cannot be built (not
root, no Debian sources) the realk8s tests are skipped with the script's reason,
except in CI (`CI` set), where they must run and a failed build fails them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from castui.lab import RunningLab, start_lab
from tests.realk8s.apiserver import ApiServerUnavailable, RealApiServer
from tests.realk8s.kubelet import KubeletStandIn
from tests.realk8s.loader import ClusterLoader

HERE = Path(__file__).parent
BUILD_SCRIPT = HERE / "build_apiserver.sh"
CONTEXT = "real"
#: the restricted user's rights: what castui reads, minus Secrets and minus Events outside the CAST AI namespace
READER_RULES = [
    {"apiGroups": [""], "resources": ["namespaces", "nodes", "pods", "configmaps", "services", "serviceaccounts"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "daemonsets", "statefulsets", "replicasets"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings", "roles", "rolebindings"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling.cast.ai"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apiregistration.k8s.io"], "resources": ["apiservices"], "verbs": ["get", "list", "watch"]},
]


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the real kube-apiserver is required in CI: {reason}")
    pytest.skip(f"no real kube-apiserver: {reason}")


@dataclass
class RealCluster:
    server: RealApiServer
    kubelet: KubeletStandIn
    loader: ClusterLoader
    admin_kubeconfig: Path
    restricted_kubeconfig: Path

    @contextlib.contextmanager
    def scenario(self, name: str) -> Iterator[RunningLab]:
        """The lab scenario serving the CAST AI API (and its own Kubernetes), with its
        Kubernetes objects loaded into the real server and its logs behind the kubelet."""
        with start_lab(name) as lab:
            self.kubelet.state = lab.server.state
            loaded = self.loader.load(lab.server.state)
            try:
                yield lab
            finally:
                self.loader.unload(loaded)


#: where the one running cluster (or why there is none) is kept, on pytest's config: a module that
#: imports `real_cluster` gets a session fixture of its own (and pytest may import this conftest under
#: two module names), yet one apiserver is enough for the whole session
SHARED = "castui_real_cluster"


@pytest.fixture(scope="session")
def real_cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealCluster]:
    _SHARED: dict[str, RealCluster | str] = request.config.__dict__.setdefault(SHARED, {})
    shared = _SHARED.get("cluster")
    if isinstance(shared, str):
        _fail_or_skip(shared)
    if shared is not None:
        yield shared
        return
    try:
        build = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _SHARED["cluster"] = f"{BUILD_SCRIPT.name} did not run: {exc}"
        _fail_or_skip(str(_SHARED["cluster"]))
    if build.returncode != 0:
        _SHARED["cluster"] = f"{BUILD_SCRIPT.name} failed: {build.stderr.strip()[-800:]}"
        _fail_or_skip(str(_SHARED["cluster"]))
    workdir = tmp_path_factory.mktemp("realk8s")
    with contextlib.ExitStack() as stack:
        kubelet = stack.enter_context(KubeletStandIn())
        try:
            server = stack.enter_context(RealApiServer(extra_args=["--kubelet-preferred-address-types=InternalIP"]))
        except ApiServerUnavailable as exc:
            _SHARED["cluster"] = str(exc)
            _fail_or_skip(str(exc))
        loader = ClusterLoader(server.url, server.admin_token, kubelet.port)
        stack.callback(loader.close)
        grant_reader_rights(loader)
        cluster = RealCluster(
            server=server,
            kubelet=kubelet,
            loader=loader,
            admin_kubeconfig=server.write_kubeconfig(workdir / "admin", context_name=CONTEXT, verify_tls=True),
            restricted_kubeconfig=server.write_kubeconfig(workdir / "restricted", user="restricted", context_name=CONTEXT,
                                                          verify_tls=True),
        )
        _SHARED["cluster"] = cluster
        try:
            yield cluster
        finally:
            _SHARED.pop("cluster", None)


def grant_reader_rights(loader: ClusterLoader, namespace: str = "castai-agent") -> None:
    """Real RBAC for user `restricted`: a ClusterRole without Secrets or Events, and Events
    only in the CAST AI namespace (through a Role), as a cautious platform team would grant."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    loader.call("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}}, ok=(201, 409))
    loader.call("POST", f"{rbac}/clusterroles", {"metadata": {"name": "castui-reader"}, "rules": READER_RULES})
    loader.call("POST", f"{rbac}/clusterrolebindings", {
        "metadata": {"name": "castui-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "castui-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "restricted"}],
    })
    loader.call("POST", f"{rbac}/namespaces/{namespace}/roles", {
        "metadata": {"name": "castui-events"},
        "rules": [{"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]}],
    })
    loader.call("POST", f"{rbac}/namespaces/{namespace}/rolebindings", {
        "metadata": {"name": "castui-events"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "castui-events"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "restricted"}],
    })
