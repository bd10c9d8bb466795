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
from castui.tree.no_scale_down import RUNNING_OR_PENDING, workload_by_node
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
