"""A lab left running keeps its story: an hour on its clock (moved at once, not waited for), castui
judging at that hour sees the same verdicts as at the start. A frozen lab would not: its eviction
storm would be an hour old."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from castui.engine.session import Session
from castui.lab import KUBE_TOKEN, RunningLab, start_lab
from castui.lab.scale import build_scaled, parse_scale, warm
from castui.lab.scenarios import SCENARIOS
from tests.core.helpers import lab_settings

HOUR = 3600.0


def verdicts_at(lab: RunningLab, when: datetime) -> dict[tuple[str, str], str]:
    """Every cause's verdict, judged as castui would at `when` (its clock then)."""

    async def run() -> dict[tuple[str, str], str]:
        async with Session(lab_settings(lab), captured_at=when) as session:
            diagnosis = await session.diagnose()
        return {(s.id, c.id): c.verdict.value for s in diagnosis.symptoms for c in s.causes}

    return asyncio.run(run())


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningLab]:
    with start_lab(request.param, workdir=tmp_path) as running:
        yield running


# every scenario: some verdicts hang on an age (a snapshot, evictions and drains in the last hour, a pending
# release, a key's expiry, how long the workload autoscaler has run), others on logs that grow meanwhile
# (errors that persist, the leader told by its lines, an action rejected again)
@pytest.mark.parametrize("lab", sorted(SCENARIOS), indirect=True)
def test_an_hour_later_the_verdicts_are_the_same(lab: RunningLab) -> None:
    clock = lab.cluster.state.clock
    at_start = verdicts_at(lab, clock.now())
    clock.advance(HOUR)
    assert verdicts_at(lab, clock.now()) == at_start
    clock.advance(HOUR / 2)
    assert verdicts_at(lab, clock.now()) == at_start


@pytest.mark.parametrize("lab", ["eviction-storm"], indirect=True)
def test_a_frozen_lab_would_drift(lab: RunningLab) -> None:
    """Without its clock the same hour ages the storm's evictions out of the last hour: the test above can fail."""
    clock = lab.cluster.state.clock
    at_start = verdicts_at(lab, clock.now())
    lab.cluster.state.clock = None
    clock.advance(HOUR)
    later = verdicts_at(lab, clock.now())
    assert at_start[("evictor-aggressive", "eviction-storm")] == "confirmed"
    assert later[("evictor-aggressive", "eviction-storm")] == "ruled_out"


def test_a_big_generated_store_keeps_its_times_and_the_small_ones_move(tmp_path: Path) -> None:
    """6,000 generated events (kept as encoded JSON) stay as built, in the objects and the answers alike;
    the agent's snapshot time, which verdicts read as recent, moves with the clock."""
    with start_lab("scaled", cluster=build_scaled(parse_scale("nodes=5,pods=100,events=6000,pod_size=small")),
                   workdir=tmp_path) as lab:
        warm(lab.cluster)
        state = lab.cluster.state
        snapshot = state.castai.clusters[0]["agentSnapshotReceivedAt"]
        with httpx.Client(base_url=lab.url, headers={"Authorization": f"Bearer {KUBE_TOKEN}"}) as client:
            before = client.get("/api/v1/events", params={"limit": 5}).json()["items"]
            state.clock.advance(HOUR)
            after = client.get("/api/v1/events", params={"limit": 5}).json()["items"]
        assert after == before
        for event in after:
            stored = state.find("events", event["metadata"]["namespace"], event["metadata"]["name"])
            assert stored is not None and event["lastTimestamp"] == stored["lastTimestamp"]
        moved = datetime.fromisoformat(state.castai.clusters[0]["agentSnapshotReceivedAt"]) - datetime.fromisoformat(snapshot)
        assert abs(moved.total_seconds() - HOUR) < 120


def test_a_lab_built_on_a_fixed_past_clock_stays_frozen(tmp_path: Path) -> None:
    """Tests that judge a scenario at a fixed moment (snapshots) keep every byte the same."""
    from datetime import timezone

    from castui.lab.scenarios import build

    fixed = datetime(2025, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
    with start_lab("healthy", cluster=build("healthy", now=fixed), workdir=tmp_path) as lab:
        assert lab.cluster.state.clock is None
        assert verdicts_at(lab, fixed)[("agent-disconnected", "heartbeat-failing")] != "confirmed"
