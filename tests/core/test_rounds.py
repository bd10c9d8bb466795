"""How many round trips a diagnosis waits for: the cluster id is read first, and a re-run in the
same session starts every read it already knows in the first round (at 50 ms per request, each
round a run saves is 50 ms of a ~150 ms re-run). Against the lab with added latency, counting
which requests were answered a whole round later than the first; never a timing of castui."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from castui.engine.session import Session
from castui.lab import RunningLab, start_lab
from castui.lab.state import Fault

from .helpers import lab_settings

#: long enough that a whole round of requests is sent before its first answer comes back, also on a
#: loaded machine (at 0.6 s a busy 2-core box once took longer than 0.45 s to send a re-run's ~60 reads)
LATENCY_S = 1.0


class Answers:
    """When the lab answered each request (after its latency), by the lab's own clock."""

    def __init__(self, lab: RunningLab) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[float, str, str]] = []
        answer = lab.server.answer

        def timed(req: Any) -> Any:
            with self.lock:
                self.seen.append((time.monotonic(), req.method, req.path))
            return answer(req)

        lab.server.answer = timed  # type: ignore[method-assign]  # the lab's side: castui is untouched

    def take(self) -> list[tuple[float, str, str]]:
        with self.lock:
            taken, self.seen = self.seen, []
        return taken


def later_rounds(answers: list[tuple[float, str, str]]) -> list[str]:
    """Requests answered at least one more round trip after the run's first answer."""
    first = min(at for at, _, _ in answers)
    return sorted(path for at, _, path in answers if at >= first + LATENCY_S * 0.75)


@pytest.fixture
def slow_lab() -> Iterator[tuple[RunningLab, Answers]]:
    with start_lab("demo") as lab:
        answers = Answers(lab)
        lab.server.state.faults.append(Fault("latency", seconds=LATENCY_S))
        yield lab, answers


def test_a_rerun_reads_everything_it_knows_in_one_round(slow_lab: tuple[RunningLab, Answers]) -> None:
    lab, answers = slow_lab

    async def run() -> tuple[list[str], list[str], Any, Any]:
        async with Session(lab_settings(lab)) as session:
            first = await session.diagnose()
            cold = later_rounds(answers.take())
            again = await session.diagnose()
            return cold, later_rounds(answers.take()), first, again

    cold, warm, first, again = asyncio.run(run())
    cluster_id = lab.cluster.state.castai.clusters[0]["id"]
    # cold: the id comes from the agent's ConfigMap, so the cluster's CAST AI reads are a round later
    assert f"/v1/kubernetes/clusters/{cluster_id}/policies" in cold
    assert not any(path.endswith("/configmaps/castai-agent-metadata") for path in cold)
    # warm: nothing waits, the agent's key test included (the last run's key is tested at once)
    assert warm == []
    assert [(s.id, s.verdict) for s in again.symptoms] == [(s.id, s.verdict) for s in first.symptoms]


def test_a_rerun_follows_a_cluster_id_that_changed(slow_lab: tuple[RunningLab, Answers]) -> None:
    """The agent re-registered between two runs: the re-run's speculative reads under the old id are
    not used; it reads and reports the new cluster."""
    lab, _ = slow_lab
    lab.server.state.faults.clear()
    castai = lab.cluster.state.castai
    old_id, new_id = castai.clusters[0]["id"], "0a0a0a0a-1111-4222-8333-444444444444"

    async def run() -> tuple[str | None, str | None]:
        async with Session(lab_settings(lab)) as session:
            await session.diagnose()
            before = session.cluster_id
            with lab.cluster.state.lock:
                castai.clusters.append({**copy.deepcopy(castai.clusters[0]), "id": new_id, "name": "re-registered"})
                castai.policies[new_id] = copy.deepcopy(castai.policies[old_id])
                castai.node_templates[new_id] = copy.deepcopy(castai.node_templates.get(old_id, []))
                castai.workloads[new_id] = copy.deepcopy(castai.workloads.get(old_id, []))
                metadata = lab.cluster.state.find("configmaps", "castai-agent", "castai-agent-metadata")
                assert metadata is not None
                metadata["data"]["CLUSTER_ID"] = new_id
                lab.cluster.state.resource_version += 1
            await session.diagnose()
            return before, session.cluster_id

    before, after = asyncio.run(run())
    assert (before, after) == (old_id, new_id)
    assert lab.cluster.state.request_log.count(("GET", f"/v1/kubernetes/clusters/{new_id}/policies")) == 1


def test_a_rerun_tests_the_agent_key_the_secret_holds_now(slow_lab: tuple[RunningLab, Answers]) -> None:
    """The agent's key was rotated between two runs (to one CAST AI refuses): the re-run's early test of
    the old key is not used; the key in the Secret now is tested, a round later, and reported."""
    import base64

    from castui.lab.scenarios import AGENT_KEY, NS

    lab, answers = slow_lab
    rotated = "castui-lab-rotated-agent-key-0123456789"

    async def run() -> tuple[Any, Any, list[str]]:
        async with Session(lab_settings(lab)) as session:
            first = await session.diagnose()
            with lab.cluster.state.lock:
                secret = lab.cluster.state.find("secrets", NS, "castai-agent")
                assert secret is not None
                secret["data"]["API_KEY"] = base64.b64encode(rotated.encode()).decode()
                lab.cluster.state.castai.api_keys[rotated] = {"status": 401}
                lab.cluster.state.resource_version += 1
            answers.take()
            again = await session.diagnose()
            return first, again, later_rounds(answers.take())

    first, again, later = asyncio.run(run())
    assert lab.cluster.state.castai.api_keys[AGENT_KEY]["status"] == 200

    def agent_key(diagnosis: Any) -> Any:
        return next(c.summary for s in diagnosis.symptoms for c in s.checks if c.id == "agent-key")

    assert agent_key(first) == "API answers 200"
    assert agent_key(again) == "API answers 401"
    assert later == ["/v1/kubernetes/external-clusters"]  # the new key's test, after the Secret's answer


def test_a_big_list_answering_page_after_page_is_not_a_timeout(tmp_path: Any) -> None:
    """Seven pages at 0.4 s each with a 1 s timeout: each page restarts it, so the list is read whole
    (the 10 s per-check timeout used to cover a 100,000-pod list's twenty pages together)."""
    from castui.lab import objects as k8s

    with start_lab("healthy", workdir=tmp_path) as lab:
        node = lab.cluster.state.items("nodes")[0]["metadata"]["name"]
        for i in range(60):
            lab.cluster.add("pods", k8s.pod(f"web-{i:02d}", "shop", lab.cluster.now, node_name=node, owner=("ReplicaSet", "web")))
        total = len(lab.cluster.state.items("pods"))
        lab.server.state.faults.append(Fault("latency", path=r"^/api/v1/pods$", seconds=0.4))

        async def run() -> int:
            async with Session(lab_settings(lab, timeout=1.0)) as session:
                facts = session.new_facts()
                return await facts.kube_fold("count", "pods", lambda pages: sum(len(p) for p in pages), page_size=10)

        assert asyncio.run(run()) == total
        assert lab.server.state.request_log.count(("GET", "/api/v1/pods")) == -(-total // 10)
