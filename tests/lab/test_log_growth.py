"""A lab left running keeps writing its logs as real components do: the lines once served stay as they were
(text and times), and the lines the component writes meanwhile come after them. castui's follow (`F` on a
log) then shows only those new lines. Each test moves the lab's clock at once (`LabClock.advance`), never
sleeps, and reads the logs over HTTP as kubectl and castui do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from castui.diagnosis import LogSource
from castui.engine.log_follow import FOLLOW_TAIL, LogTail, complete_lines
from castui.engine.session import Session
from castui.lab import KUBE_TOKEN, RunningLab, start_lab
from castui.lab.clock import STEP_S
from castui.lab.scenarios import NS
from castui.tree.logs import parse_line
from tests.core.helpers import lab_settings

MINUTE = 60.0
HOUR = 3600.0


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningLab]:
    with start_lab(getattr(request, "param", "heartbeat-failing"), workdir=tmp_path) as running:
        yield running


def pod_of(lab: RunningLab, app: str, replica: int = 0) -> str:
    """The agent's leader is its first pod; cluster-controller's leader the first of its pods by name."""
    names = [p["metadata"]["name"] for p in lab.cluster.pods_of(app)]
    return (names if app == "castai-agent" else sorted(names))[replica]


def read(lab: RunningLab, pod: str, container: str, **params: Any) -> httpx.Response:
    """GET pods/log as kubectl does."""
    with httpx.Client(base_url=lab.url, headers={"Authorization": f"Bearer {KUBE_TOKEN}"}) as client:
        response = client.get(f"/api/v1/namespaces/{NS}/pods/{pod}/log", params={"container": container, **params})
    response.raise_for_status()
    return response


def lines_of(lab: RunningLab, pod: str, container: str, **params: Any) -> list[str]:
    return complete_lines(read(lab, pod, container, **params).text)


def time_of(line: str) -> datetime:
    when = parse_line(line).time
    assert when is not None, f"no time in {line!r}"
    return when


def advance(lab: RunningLab, seconds: float) -> datetime:
    clock = lab.cluster.state.clock
    clock.advance(seconds)
    return clock.now()


def test_a_log_read_again_later_starts_with_what_was_read_and_ends_with_newer_lines(lab: RunningLab) -> None:
    """heartbeat-failing's leader keeps failing its delta every 15 s: five minutes on, its log holds the same
    lines, then about 20 more of that error, stamped in those five minutes."""
    leader = pod_of(lab, "castai-agent")
    before = lines_of(lab, leader, "agent")
    now = advance(lab, 5 * MINUTE)
    after = lines_of(lab, leader, "agent")
    assert after[: len(before)] == before, "lines once served keep their text and times"
    new = after[len(before):]
    assert len(new) >= 16, new
    assert all("failed sending delta" in line and "status_code=502" in line for line in new), new
    times = [time_of(line) for line in new]
    assert times == sorted(times) and times[0] > time_of(before[-1]) and times[-1] <= now
    assert now - times[-1] < timedelta(seconds=STEP_S + 15), "written up to the lab's time"


@pytest.mark.parametrize("lab", ["cluster-controller-not-running"], indirect=True)
def test_follow_across_a_clock_step_shows_only_the_new_lines(lab: RunningLab) -> None:
    """castui's follow (Session.read_log, then LogTail) across a step of the lab's clock: the lines written
    meanwhile are new, nothing is shown twice, and no "lines may be missing here"."""
    source = LogSource(namespace=NS, pod=pod_of(lab, "castai-cluster-controller"), container="cluster-controller")

    async def run() -> None:
        async with Session(lab_settings(lab), lab=lab.scenario) as session:
            first = complete_lines(await session.read_log(source, tail=FOLLOW_TAIL))
            tail = LogTail.of(first)
            advance(lab, 2 * MINUTE)
            again = await session.read_log(source, tail=FOLLOW_TAIL)
            fresh, gap = tail.advance(again)
            assert not gap, "the read overlaps what was shown"
            assert fresh == complete_lines(again)[len(complete_lines(again)) - len(fresh):]
            assert len(fresh) >= 8 * 4, fresh  # a poll and 3 failed retries every 15 s
            assert {parse_line(line).msg.split(":")[0] for line in fresh} == {"polling actions"}
            assert min(time_of(line) for line in fresh) > max(time_of(line) for line in first)
            assert tail.advance(await session.read_log(source, tail=FOLLOW_TAIL)) == ([], False), "nothing new since"

    asyncio.run(run())


def test_lines_appended_by_a_test_stay_and_the_component_writes_on_after_them(lab: RunningLab) -> None:
    leader = pod_of(lab, "castai-agent")
    lab.append_log(leader, "written meanwhile", container="agent")
    before = lines_of(lab, leader, "agent")
    assert before[-1] == "written meanwhile"
    advance(lab, 2 * MINUTE)
    after = lines_of(lab, leader, "agent")
    assert after[: len(before)] == before and len(after) > len(before)


def test_a_container_that_writes_nothing_more_keeps_its_log_byte_for_byte(lab: RunningLab) -> None:
    """The waiting cluster-controller replica logged once, three days ago; the lab's step changes nothing."""
    follower = pod_of(lab, "castai-cluster-controller", replica=1)
    before = read(lab, follower, "cluster-controller").content
    advance(lab, HOUR)
    assert read(lab, follower, "cluster-controller").content == before


@pytest.mark.parametrize("lab", ["wrong-provider"], indirect=True)
def test_a_crash_looping_container_writes_nothing_while_it_waits(lab: RunningLab) -> None:
    agent = pod_of(lab, "castai-agent")
    before = read(lab, agent, "agent").content
    advance(lab, 10 * MINUTE)
    assert read(lab, agent, "agent").content == before


def test_a_log_stays_bounded_dropping_its_oldest_lines(lab: RunningLab) -> None:
    """As the kubelet keeps a container's log under its size limit: whole lines, the newest kept."""
    leader = pod_of(lab, "castai-agent")
    lab.cluster.state.log_max_bytes = 4096
    first = lines_of(lab, leader, "agent")
    now = advance(lab, HOUR)
    body = read(lab, leader, "agent").text
    assert 3000 < len(body.encode()) <= 4096 and body.endswith("\n")
    lines = body.splitlines()
    assert lines[0].startswith('time="') and first[0] not in lines, "the oldest lines went, whole"
    assert now - time_of(lines[-1]) < timedelta(seconds=STEP_S + 15)


def test_tail_since_limit_and_previous_read_the_grown_log_as_the_kubelet_does(lab: RunningLab) -> None:
    leader = pod_of(lab, "castai-agent")
    now = advance(lab, HOUR)
    whole = lines_of(lab, leader, "agent")
    assert lines_of(lab, leader, "agent", tailLines=3) == whole[-3:]
    recent = lines_of(lab, leader, "agent", sinceSeconds=STEP_S * 3)
    assert recent and recent == whole[len(whole) - len(recent):]
    assert all(now - time_of(line) <= timedelta(seconds=STEP_S * 3) for line in recent)
    assert len(recent) < len(whole) and now - time_of(whole[len(whole) - len(recent) - 1]) > timedelta(seconds=STEP_S * 3)
    since = (now - timedelta(seconds=STEP_S * 5)).replace(microsecond=0)
    assert lines_of(lab, leader, "agent", sinceTime=since.strftime("%Y-%m-%dT%H:%M:%SZ")) == [
        line for line in whole if time_of(line) >= since]
    assert lines_of(lab, leader, "agent", sinceSeconds=STEP_S * 3, tailLines=2) == recent[-2:]
    assert read(lab, leader, "agent", limitBytes=100).content == "\n".join(whole).encode()[:100]
    with pytest.raises(httpx.HTTPStatusError):
        read(lab, leader, "agent", previous="true")  # this container never restarted


@pytest.mark.parametrize("lab", ["invalid-api-key-rotated"], indirect=True)
def test_a_restart_an_hour_on_starts_a_new_log_that_grows_with_the_healed_agents_lines(lab: RunningLab) -> None:
    """`kubectl rollout restart` once the Secret's key is good: the new containers log from the lab's time of
    the restart (not the time the lab was built), their 401s end, and their healthy deltas follow."""
    leader = pod_of(lab, "castai-agent")
    assert "status_code=401" in lines_of(lab, leader, "agent")[-1]
    now = advance(lab, HOUR)
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now.isoformat()}}}}}
    with httpx.Client(base_url=lab.url, headers={"Authorization": f"Bearer {KUBE_TOKEN}"}) as client:
        client.patch(f"/apis/apps/v1/namespaces/{NS}/deployments/castai-agent", json=patch,
                     headers={"Content-Type": "application/strategic-merge-patch+json"}).raise_for_status()
    restarted = lines_of(lab, leader, "agent")
    assert "running agent version" in restarted[0] and now - time_of(restarted[0]) < timedelta(minutes=5)
    advance(lab, 5 * MINUTE)
    later = lines_of(lab, leader, "agent")
    assert later[: len(restarted)] == restarted and len(later) >= len(restarted) + 16
    assert all("delta upload finished" in line for line in later[len(restarted):])
