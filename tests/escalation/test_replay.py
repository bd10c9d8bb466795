"""Replay: a bundle served again read-only gives the verdicts the live run gave, judged at capture time."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest

from castui import cli
from castui.clients.errors import ReadOnlyMode
from castui.diagnosis import ApiCall, Fix
from castui.engine.execute import FixOutcome, FixStatus, apply_api_call, run_command
from castui.lab import start_lab
from castui.lab.scenarios import CLUSTER_ID, SCENARIOS
from castui.replay import start_replay
from castui.support import open_session

from .conftest import bundle_files, confirmed, diagnose, make_bundle, settings_for, verdicts


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_diagnose_bundle_gives_the_live_verdicts(scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the scenario's user names symptoms or nodes: the bundle reads those nodes, the replay names the same
    wanted = SCENARIOS[scenario]
    with start_lab(scenario) as lab:
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz", nodes=list(wanted.nodes)))
        live = asyncio.run(diagnose(lab, list(wanted.named) or None, nodes=list(wanted.nodes)))
    assert confirmed(live) == wanted.confirms  # the live run itself is right

    code = cli.main(["diagnose", "--bundle", str(result.path), *wanted.diagnose_args(), "--format", "json"])

    replayed = json.loads(capsys.readouterr().out)
    assert verdicts(replayed) == verdicts(live)
    assert code == live.exit_code
    assert replayed["target"]["bundle"] == str(result.path)
    captured = result.diagnosis.generated_at.isoformat().replace("+00:00", "Z")
    assert replayed["target"]["captured_at"] == replayed["generated_at"] == captured


def test_a_forbidden_read_replays_as_forbidden(tmp_path: Path) -> None:
    with start_lab("eviction-storm") as lab:
        lab.cluster.state.kube_forbidden = {"lab-admin": {"events"}}
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz"))

    with start_replay(result.path) as replay:
        replayed = asyncio.run(_diagnose(replay))

    assert verdicts(replayed) == verdicts(result.diagnosis)
    storm = next(c for s in replayed.symptoms for c in s.causes if c.id == "eviction-storm")
    assert storm.verdict.value == "unknown" and "403 Forbidden" in storm.reason


def test_a_replay_judges_at_the_capture_time_its_manifest_names(tmp_path: Path) -> None:
    """Pods Pending for 3 minutes at capture are scaling in progress (a latent risk); judged a day later they
    would have waited past CAST AI's 15 minutes and the policy that is off would be confirmed."""
    with start_lab("trap-pending-in-progress") as lab:
        path = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz")).path
    later = tmp_path / "later.tar.gz"
    _rewrite(path, later, lambda manifest: {**manifest, "captured_at": _shift(manifest["captured_at"], days=1)})

    with start_replay(path) as replay:
        as_captured = asyncio.run(_diagnose(replay))
    with start_replay(later) as replay:
        a_day_later = asyncio.run(_diagnose(replay))

    assert "unschedulable-pods-disabled" not in confirmed(as_captured)
    assert "unschedulable-pods-disabled" in confirmed(a_day_later)


async def _diagnose(replay):  # type: ignore[no-untyped-def]
    async with open_session(settings_for(replay), replay) as session:
        return await session.diagnose()


def test_the_replayed_session_refuses_to_execute_anything(tmp_path: Path) -> None:
    with start_lab("unschedulable-pods-disabled") as lab:
        path = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz")).path

    with start_replay(path) as replay:
        settings = settings_for(replay)
        assert settings.read_only
        fix = Fix(title="restart the agent", commands=[["kubectl", "rollout", "restart", "deployment/castai-agent"]])
        with pytest.raises(ReadOnlyMode):
            asyncio.run(run_command(settings, fix, fix.commands[0], target="replay"))

        async def put_policies() -> None:
            async with open_session(settings, replay) as session:
                session.cluster_id = CLUSTER_ID
                call = ApiCall(method="PUT", path=f"/v1/kubernetes/clusters/{CLUSTER_ID}/policies", body={"enabled": True})
                await apply_api_call(session, Fix(title="enable", api_call=call), target="replay")

        with pytest.raises(ReadOnlyMode):
            asyncio.run(put_policies())


def test_a_replayed_session_refuses_even_a_read_only_command(tmp_path: Path) -> None:
    """`kubectl get networkpolicy` changes nothing, but it would read whatever cluster the context names now,
    not the recording: Session.execute refuses it, runs nothing and keeps nothing."""
    with start_lab("network-blocked") as lab:
        path = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz")).path

    async def execute() -> tuple[FixOutcome, int]:
        async with open_session(settings_for(replay), replay) as session:
            diagnosis = await session.diagnose(["agent-crashloop"])
            cause = next(c for s in diagnosis.symptoms for c in s.causes if c.id == "network-blocked")
            assert cause.fix is not None and not cause.fix.mutates and cause.fix.commands
            return await session.execute(cause.fix, cause=cause), len(session.executions)

    with start_replay(path) as replay:
        outcome, kept = asyncio.run(execute())
    assert outcome.status is FixStatus.REFUSED and outcome.run is None and kept == 0
    assert "replayed bundle" in (outcome.refused or "")


def test_castui_with_a_bundle_opens_on_the_replay_read_only(tmp_path: Path) -> None:
    with start_lab("healthy") as lab:
        path = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz")).path
    args = cli.build_parser().parse_args(["--bundle", str(path)])

    with cli.resolved_settings(args) as (settings, replay):
        assert settings.read_only and replay.bundle == str(path) and replay.scenario is None
        assert settings.context == "castui-lab" and settings.api_url == replay.manifest.api_url
        assert replay.captured_at is not None


def test_a_file_that_is_not_a_bundle_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "notes.tar.gz"
    junk.write_text("not a tarball")

    assert cli.main(["diagnose", "--bundle", str(junk)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "not a castui bundle" in err and "castui bundle" in err


def _rewrite(source: Path, target: Path, change) -> None:  # type: ignore[no-untyped-def]
    files = bundle_files(source)
    files["manifest.json"] = json.dumps(change(json.loads(files["manifest.json"]))).encode()
    with tarfile.open(target, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"bundle/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _shift(iso: str, **delta: float) -> str:
    from datetime import datetime

    return (datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(**delta)).isoformat()


async def test_the_app_on_a_replay_triages_read_only(tmp_path: Path) -> None:
    """`castui --bundle FILE`: the app opens on the replay, its run is judged at capture time and matches."""
    from castui.app import CastuiApp
    from castui.screens.triage_screen import TriageScreen
    from tests.app.conftest import finish_triage, wait_for_screen

    with start_lab("heartbeat-failing") as lab:
        result = await make_bundle(lab, tmp_path / "b.tar.gz")
    with start_replay(result.path) as replay:
        app = CastuiApp(settings_for(replay), lab=replay)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")  # agent-disconnected
            await wait_for_screen(pilot, TriageScreen, on_top=False)
            (diagnosis, _) = await finish_triage(pilot)
            assert app.settings.read_only and diagnosis.target.bundle == str(result.path)
            assert diagnosis.generated_at == result.diagnosis.generated_at
            assert verdicts(diagnosis)["agent-disconnected"] == verdicts(result.diagnosis)["agent-disconnected"]
            assert "heartbeat-failing" in confirmed(diagnosis)


#: run in a fresh interpreter: castui's CLI under an audit hook that logs (and refuses) every network socket use,
#: then which castui.lab modules were loaded
_AUDITED_REPLAY = """
import json, sys
events = []
def audit(event, args):
    if event in ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto"):
        events.append(event)
        raise OSError("replay must not use the network: " + event)
sys.addaudithook(audit)
from castui.cli import main
out = {}
for bundle in sys.argv[1:]:
    import contextlib, io
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = main(["diagnose", "--bundle", bundle, "--format", "json"])
    out[bundle] = {"code": code, "diagnosis": json.loads(text.getvalue())}
# the app re-runs on one session: a second run starts its reads early (Facts.prefetch), still from the bundle
import asyncio
from castui.cli import build_parser
from castui.cli_support import resolved_settings
from castui.support import open_session
async def twice(settings, replay):
    async with open_session(settings, replay) as session:
        return [(await session.diagnose()).exit_code for _ in range(2)]
with resolved_settings(build_parser().parse_args(["--bundle", sys.argv[1]])) as (settings, replay):
    asyncio.run(twice(settings, replay))
lab = sorted(m for m in sys.modules if m == "castui.lab" or m.startswith("castui.lab."))
print(json.dumps({"events": events, "lab": lab, "runs": out}))
"""


def test_replay_opens_no_socket_and_gives_every_scenarios_live_verdicts(tmp_path: Path) -> None:
    """`castui diagnose --bundle FILE` for a bundle of every scenario, in one process that audits sockets."""
    import subprocess
    import sys

    live = {}
    for scenario in sorted(SCENARIOS):
        with start_lab(scenario) as lab:
            result = asyncio.run(make_bundle(lab, tmp_path / f"{scenario}.tar.gz"))
        live[str(result.path)] = result.diagnosis

    run = subprocess.run([sys.executable, "-c", _AUDITED_REPLAY, *live], capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["events"] == [] and report["lab"] == []  # no network, and the lab never loaded
    for path, diagnosis in live.items():
        replayed = report["runs"][path]
        assert verdicts(replayed["diagnosis"]) == verdicts(diagnosis), path
        assert replayed["code"] == diagnosis.exit_code


def test_a_read_the_bundle_does_not_hold_is_unknown_not_clear(tmp_path: Path) -> None:
    """A bundle of an older castui lacks what newer checks read: those checks could not check, the rest replay."""
    with start_lab("eviction-storm") as lab:
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz"))
    older = tmp_path / "older.tar.gz"
    files = bundle_files(result.path)
    raw = json.loads(files["raw/answers.json"])
    raw["answers"] = [a for a in raw["answers"] if a["key"][:2] != ["list", "events"]]
    files["raw/answers.json"] = json.dumps(raw).encode()
    with tarfile.open(older, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"bundle/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with start_replay(older) as replay:
        replayed = asyncio.run(_diagnose(replay))

    storm = next(c for s in replayed.symptoms for c in s.causes if c.id == "eviction-storm")
    assert storm.verdict.value == "unknown" and "not recorded in the bundle" in storm.reason
    before, after = verdicts(result.diagnosis), verdicts(replayed)
    for symptom, (_, causes) in after.items():  # every other verdict is the live one or unknown, never a new all-clear
        assert all(v in (before[symptom][1][cause], "unknown") for cause, v in causes.items()), symptom
