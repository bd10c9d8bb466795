"""The generated big lab and the list path that makes it usable: pages over real HTTP hold every
object once, in order, with the server's filtering; castui folds a big list page by page and
reads the next page while decoding this one, with the same answers as reading it whole."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from castui.clients.gc_pause import paused_collector
from castui.clients.kube import KubeGateway
from castui.lab import KUBE_TOKEN, RunningLab, start_lab
from castui.lab.http import LabRequest, LabResponse
from castui.lab.scale import ScaleError, ScaleSpec, build_scaled, parse_scale, warm
from castui.lab.server import LabServer
from castui.tree.no_scale_down import RUNNING_OR_PENDING, is_static_or_daemon, workload_by_node
from castui.tree.reading import owner_kind

SPEC = "nodes=40,pods=1200,events=6000,helm_revisions=4,pdbs=6,node_templates=3,log_lines=200"


@pytest.fixture(scope="module")
def scaled() -> Iterator[RunningLab]:
    with start_lab("scaled", cluster=build_scaled(parse_scale(SPEC))) as lab:
        yield lab


@pytest.fixture(scope="module")
def kube(scaled: RunningLab) -> Iterator[KubeGateway]:
    with KubeGateway(str(scaled.kubeconfig), "castui-lab") as gateway:
        yield gateway


# --- the size ------------------------------------------------------------------------------------


def test_parse_scale_reads_counts_and_explains_mistakes() -> None:
    spec = parse_scale("nodes=5000, pods=100k,events=200_000")
    assert (spec.nodes, spec.pods, spec.events) == (5000, 100_000, 200_000)
    assert parse_scale("nodes=10").pods == 200  # unset counts follow the nodes
    for text, words in [("nodes=x", "is not NAME=COUNT"), ("colour=3", "unknown name 'colour'"), ("", "nothing given"),
                        ("nodes=2,nodes=3", "given twice"), ("nodes=10,pods=5", "at least nodes"), ("nodes=0", "nodes:"),
                        ("pods=1.5", "is not NAME=COUNT")]:
        with pytest.raises(ScaleError, match=words):
            parse_scale(text)
    assert issubclass(ScaleError, ValueError)


def test_the_generated_cluster_is_a_realistic_mix(scaled: RunningLab) -> None:
    spec, state = parse_scale(SPEC), scaled.cluster.state
    nodes = {n["metadata"]["name"] for n in state.items("nodes")}
    pods = state.items("pods")
    assert len(nodes) == spec.nodes
    assert len(pods) >= spec.pods
    daemon_nodes = {p["spec"]["nodeName"] for p in pods if owner_kind(p) == "DaemonSet"}
    assert daemon_nodes == nodes  # a DaemonSet pod on every node
    assert any(p["status"]["phase"] == "Pending" and not p["spec"].get("nodeName") for p in pods)
    assert len({(p["metadata"].get("namespace"), p["metadata"]["name"]) for p in pods}) == len(pods)
    assert len({p["metadata"]["uid"] for p in pods}) == len(pods)
    assert len(state.items("events")) == spec.events
    assert sum(1 for e in state.items("events") if e["reason"] == "Evicted") > 0
    helm = [s for s in state.items("secrets") if (s["metadata"].get("labels") or {}).get("owner") == "helm"]
    assert len(helm) == 4 * spec.helm_revisions
    assert len(state.castai.node_templates[next(iter(state.castai.node_templates))]) == spec.node_templates


async def test_a_big_healthy_cluster_confirms_nothing(scaled: RunningLab) -> None:
    from pydantic import SecretStr

    from castui.config import load_settings
    from castui.engine.session import Session

    settings = load_settings(scaled.settings_overrides(), env={})
    settings.api_key = SecretStr(scaled.api_key or "")
    async with Session(settings) as session:
        diagnosis = await session.diagnose()
    assert diagnosis.confirmed() == []
    assert diagnosis.exit_code == 0
    # its few Pending pods wait 4 minutes: in progress, not a problem before CAST AI's 15 (guide v2 §4)
    no_scale_up = next(s for s in diagnosis.symptoms if s.id == "no-scale-up")
    assert no_scale_up.verdict.value == "healthy" and "in progress" in no_scale_up.summary


# --- pages ---------------------------------------------------------------------------------------


def _keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["metadata"].get("namespace", ""), i["metadata"]["name"]) for i in items]


@pytest.mark.parametrize("page_size", [7, 100, 5000])
def test_pages_hold_every_object_once_in_order(scaled: RunningLab, kube: KubeGateway, page_size: int) -> None:
    pages = list(kube.iter_pages("pods", page_size=page_size))
    keys = [k for page in pages for k in _keys(page)]
    assert keys == sorted(_keys(scaled.cluster.state.items("pods")))
    assert len(pages) == -(-len(keys) // page_size)


def test_namespaces_and_selectors_are_filtered_by_the_server(scaled: RunningLab, kube: KubeGateway) -> None:
    state = scaled.cluster.state
    in_team = kube.list("pods", "team-03", page_size=50)
    assert _keys(in_team) == sorted(k for k in _keys(state.items("pods")) if k[0] == "team-03")
    pending = kube.list("pods", field_selector="status.phase=Pending", page_size=2)
    assert pending and all(p["status"]["phase"] == "Pending" for p in pending)
    assert len(pending) == sum(1 for p in state.items("pods") if p["status"]["phase"] == "Pending")
    evicted = kube.list("events", field_selector="reason=Evicted", page_size=9)
    assert len(evicted) == sum(1 for e in state.items("events") if e["reason"] == "Evicted")


def test_remaining_count_only_without_selectors(scaled: RunningLab) -> None:
    import httpx

    with httpx.Client(base_url=scaled.url, headers={"Authorization": f"Bearer {KUBE_TOKEN}"}) as client:
        plain = client.get("/api/v1/pods", params={"limit": 10}).json()["metadata"]
        selected = client.get("/api/v1/pods", params={"limit": 1, "fieldSelector": "status.phase=Running"}).json()["metadata"]
    assert plain["remainingItemCount"] == len(scaled.cluster.state.items("pods")) - 10
    assert "continue" in selected and "remainingItemCount" not in selected  # as the real server: unknown with selectors


def test_an_object_renamed_in_place_is_still_listed_right(tmp_path: Path) -> None:
    with start_lab("healthy", workdir=tmp_path) as lab, KubeGateway(str(lab.kubeconfig), "castui-lab") as gateway:
        before = _keys(gateway.list("pods"))
        pod = lab.cluster.state.items("pods")[0]
        pod["metadata"]["name"] = "zz-renamed"  # behind the API's back: the index must notice
        after = _keys(gateway.list("pods"))
    assert ("castai-agent", "zz-renamed") in after and len(after) == len(before)
    assert after == sorted(after)


def test_a_warmed_store_serves_the_same_objects_and_its_changes(scaled: RunningLab, kube: KubeGateway) -> None:
    import httpx

    before = kube.list("events", page_size=1000)
    warm(scaled.cluster)  # 6,000 events: a store big enough to keep its JSON
    assert kube.list("events", page_size=1000) == before
    first = before[0]["metadata"]
    with httpx.Client(base_url=scaled.url, headers={"Authorization": f"Bearer {KUBE_TOKEN}"}) as client:
        patched = client.patch(f"/api/v1/namespaces/{first['namespace']}/events/{first['name']}", json={"message": "changed"},
                               headers={"Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200
    after = kube.list("events", page_size=1000)
    assert after[0]["message"] == "changed"  # a write through the API is seen, never a stale encoding
    assert _keys(after) == _keys(before)


# --- castui's side --------------------------------------------------------------------------------


def test_folding_pages_equals_reading_the_whole_list(kube: KubeGateway) -> None:
    whole = workload_by_node([kube.list("pods")])
    assert workload_by_node(kube.iter_pages("pods", field_selector=RUNNING_OR_PENDING, page_size=97)) == whole


def _items_last_route(state: Any, req: LabRequest) -> LabResponse | None:
    """A list whose items come before its metadata: the next page cannot be read ahead from the head."""
    if req.path != "/api/v1/pods":
        return None
    start = int(req.arg("continue") or 0)
    items = [{"metadata": {"name": f"p{i}", "namespace": "x"}} for i in range(start, min(start + 2, 5))]
    meta = {"continue": str(start + 2)} if start + 2 < 5 else {}
    return LabResponse(200, json.dumps({"items": items, "metadata": meta}).encode())


def test_pages_are_read_in_order_when_the_head_says_nothing(tmp_path: Path) -> None:
    with LabServer(routes=[_items_last_route], tls=False) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        with KubeGateway(str(kubeconfig)) as gateway:
            names = [p["metadata"]["name"] for page in gateway.iter_pages("pods", page_size=2) for p in page]
    assert names == ["p0", "p1", "p2", "p3", "p4"]


def test_the_collector_pause_is_shared_and_restores_what_was() -> None:
    assert gc.isenabled()
    with paused_collector():
        with paused_collector():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_collector():
            pass
        assert not gc.isenabled()  # someone else turned it off: it stays off
    finally:
        gc.enable()


def test_scale_spec_is_a_pydantic_boundary() -> None:
    assert ScaleSpec(nodes=3).pods == 60
    with pytest.raises(Exception, match="extra"):
        ScaleSpec(nodes=3, colour=1)  # type: ignore[call-arg]


# --- realistic pods, read through a projection ------------------------------------------------------


def test_realistic_pods_are_the_size_real_ones_are(scaled: RunningLab) -> None:
    import httpx

    with httpx.Client(base_url=scaled.url, headers={"Authorization": f"Bearer {KUBE_TOKEN}"}) as client:
        body = client.get("/api/v1/namespaces/team-01/pods", params={"limit": 20}).content
    pods = json.loads(body)["items"]
    per_pod = len(body) / len(pods)
    assert 5_000 < per_pod < 8_000  # ~6 KB, as with managedFields, env, probes and the projected token volume
    assert all(p["metadata"]["managedFields"] and p["spec"]["volumes"][0]["projected"] for p in pods)


def test_small_pods_stay_small() -> None:
    lab = build_scaled(parse_scale("nodes=3,pods=30,pod_size=small"))
    assert all("managedFields" not in p["metadata"] for p in lab.state.items("pods"))
    with pytest.raises(ScaleError, match="expected realistic or small"):
        parse_scale("nodes=3,pod_size=huge")
    assert parse_scale("5000").nodes == 5000  # `--scale 5000`


def _blockers_lab(tmp_path: Path) -> RunningLab:
    """A cluster whose pods hit every drain rule, realistic-sized."""
    from castui.lab import objects as k8s
    from castui.lab.realistic import realistic_pod

    lab = start_lab("healthy", workdir=tmp_path)
    node = lab.cluster.state.items("nodes")[0]["metadata"]["name"]
    now = lab.cluster.now
    pods = [
        k8s.pod("local", "shop", now, node_name=node, owner=("ReplicaSet", "a"), volumes=[{"name": "scratch", "emptyDir": {}}]),
        k8s.pod("host", "shop", now, node_name=node, owner=("ReplicaSet", "b"),
                volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}]),
        k8s.pod("pinned", "shop", now, node_name=node, owner=("ReplicaSet", "c"),
                annotations={"autoscaling.cast.ai/removal-disabled": "true"}),
        k8s.pod("unsafe", "shop", now, node_name=node, owner=("ReplicaSet", "d"),
                annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}),
        k8s.pod("bare", "kube-system", now, node_name=node),
        k8s.pod("disposable", "shop", now, node_name=node, owner=("ReplicaSet", "e"),
                labels={"autoscaling.cast.ai/disposable": "true"}, volumes=[{"name": "tmp", "emptyDir": {}}]),
        k8s.pod("done", "shop", now, node_name=node, owner=("ReplicaSet", "f"), phase="Succeeded"),
    ]
    for pod in pods:
        lab.cluster.add("pods", realistic_pod(pod))
    return lab


def test_the_drain_projection_reads_what_the_node_count_needs(tmp_path: Path) -> None:
    from castui.clients.projection import PodForDrain

    with _blockers_lab(tmp_path) as lab, KubeGateway(str(lab.kubeconfig), "castui-lab") as kube:
        whole = workload_by_node(kube.iter_pages("pods", page_size=3))
        projected = workload_by_node(kube.iter_pages("pods", page_size=3, projection=PodForDrain))
        items = next(kube.iter_pages("pods", page_size=500, projection=PodForDrain))
        state_pods = lab.cluster.state.items("pods")
    assert projected == whole
    # guide v2 §5: only DaemonSet and static pods leave a node empty (local storage, safe-to-evict and
    # kube-system are no CAST AI rules): every other pod still running counts, as the full decode says
    expected: dict[str, int] = {}
    for pod in state_pods:
        if pod["spec"].get("nodeName") and pod["status"].get("phase") not in ("Succeeded", "Failed") \
                and not is_static_or_daemon(pod):
            expected[pod["spec"]["nodeName"]] = expected.get(pod["spec"]["nodeName"], 0) + 1
    assert whole == expected
    node = lab.cluster.state.items("nodes")[0]["metadata"]["name"]
    assert whole[node] >= 6  # every running pod this test put there, the finished one not
    assert all("managedFields" not in p["metadata"] and "containers" not in p["spec"] for p in items)


def test_an_answer_that_does_not_fit_the_projection_is_read_whole(tmp_path: Path) -> None:
    """`metadata` a string, `volumes` an object: odd, so decoded as before, never an error."""
    from castui.clients.projection import PodForDrain

    odd = {"items": [{"metadata": "weird", "spec": {"nodeName": "n1", "volumes": {"emptyDir": {}}}, "status": {"phase": "Running"}}],
           "metadata": {}}

    def route(state: Any, req: LabRequest) -> LabResponse | None:
        return LabResponse(200, json.dumps(odd).encode()) if req.path == "/api/v1/pods" else None

    with LabServer(routes=[route], tls=False) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        with KubeGateway(str(kubeconfig)) as gateway:
            pages = list(gateway.iter_pages("pods", projection=PodForDrain))
    assert pages == [odd["items"]]


def test_lab_serve_scale_answers_its_first_diagnosis_in_full(tmp_path: Path) -> None:
    """`castui lab serve --scale N --pod-size realistic`, fresh: the first diagnose finishes every check."""
    import os
    import subprocess
    import sys

    serve = subprocess.Popen([sys.executable, "-m", "castui", "lab", "serve", "--scale", "nodes=60,pods=3000",
                              "--pod-size", "realistic", "--dir", str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None
        exports = {}
        for line in serve.stdout:
            if line.strip().startswith("export "):
                key, _, value = line.strip().removeprefix("export ").partition("=")
                exports[key] = value.strip("'")
            if line.startswith("serving"):
                break
        url = exports["CASTAI_API_URL"]
        done = subprocess.run([sys.executable, "-m", "castui", "diagnose", "--format", "json", "--helm-repo-url",
                               f"{url}/helm-charts", "--status-url", f"{url}/status", "--terraform-dir", str(tmp_path / "terraform")],
                              capture_output=True, text=True, timeout=300, env={**os.environ, **exports})
    finally:
        serve.terminate()
        serve.wait(timeout=60)
    document = json.loads(done.stdout)
    failed = [(s["id"], c["id"], c["reason"]) for s in document["symptoms"] for c in s["checks"] if c["status"] != "ok"]
    assert failed == []
    assert all(s["verdict"] != "unknown" for s in document["symptoms"])


def test_pods_by_node_come_from_the_index_with_the_server_s_answers(tmp_path: Path) -> None:
    """`spec.nodeName=NODE` on a big store (indexed, as the real server's watch cache is) answers as a
    scan would: that node's pods, in key order, paged; a namespace narrows it."""
    with start_lab("scaled", cluster=build_scaled(parse_scale("nodes=12,pods=6000,events=10,pod_size=small")),
                   workdir=tmp_path) as lab, KubeGateway(str(lab.kubeconfig), "castui-lab") as kube:
        state = lab.cluster.state
        node = state.items("nodes")[5]["metadata"]["name"]
        pods = [p for page in kube.iter_pages("pods", field_selector=f"spec.nodeName={node}", page_size=97) for p in page]
        on_node = [p for p in state.items("pods") if (p.get("spec") or {}).get("nodeName") == node]
        assert _keys(pods) == sorted(_keys(on_node)) and len(pods) > 300
        in_team = kube.list("pods", "team-03", field_selector=f"spec.nodeName=={node}")
        assert _keys(in_team) == sorted(k for k in _keys(on_node) if k[0] == "team-03")
