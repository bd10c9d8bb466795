"""Every command castui runs, prints or copies names the cluster it diagnosed, and pastes inertly.

- Each printed line of every fix of every lab scenario (and of the hostile lab) goes through
  real bash with recording stand-ins for kubectl, helm, curl, terraform and sh: the argv bash
  hands over is castui's own argv, `${CASTAI_API_KEY}` being the only thing it filled in.
- kubectl and helm name `--context` and `--kubeconfig`; API paths carry the literal cluster id.
- A context switched in another shell changes nothing: the fix still goes to the diagnosed one.
  A context edited to point at another server is refused before anything runs.
- The printed API fixes of `demo`, run through bash against the lab in every order, compose:
  afterwards every one of their causes is ruled out (a whole-document PUT would undo the others).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from castui.diagnosis import CauseVerdict, Fix
from castui.engine.execute import apply_api_call, run_command
from castui.engine.session import Session
from castui.lab import start_lab
from castui.lab.hostile import build_hostile
from castui.lab.scenarios import CLUSTER_ID, SCENARIOS
from tests.core.helpers import lab_settings
from tests.trust.helpers import standin

TOOLS = ("kubectl", "helm", "curl", "terraform", "sh")
KEY = "key-from-env"


def fixes_of(lab: Any) -> list[tuple[str, Fix]]:
    async def run() -> list[tuple[str, Fix]]:
        async with Session(lab_settings(lab), lab=lab.scenario) as session:
            diagnosis = await session.diagnose()
        return [(c.id, c.fix) for s in diagnosis.symptoms for c in s.causes if c.fix is not None and c.fix.commands]

    return asyncio.run(run())


@pytest.fixture(scope="module")
def every_fix() -> dict[str, tuple[Any, list[tuple[str, Fix]]]]:
    found = {}
    for name in [*sorted(SCENARIOS), "hostile"]:
        with start_lab(name if name != "hostile" else "demo", cluster=build_hostile() if name == "hostile" else None) as lab:
            found[name] = (lab.kubeconfig, fixes_of(lab))
    return found


def recorders(bin_dir: Path, out: Path) -> None:
    for tool in TOOLS:
        standin(bin_dir, tool, f'printf "%s\\0" "{tool}" "$@" > "{out}/argv"\ncat > "{out}/stdin"\n')


def test_every_printed_command_pastes_into_bash_as_castuis_own_argv(every_fix: dict[str, Any], tmp_path: Path) -> None:
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir()
    out.mkdir()
    recorders(bin_dir, out)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "CASTAI_API_KEY": KEY,
           "CASTAI_CLUSTER_ID": "id-from-env", "HOSTILE": "expanded"}
    seen: set[str] = set()
    for scenario, (kubeconfig, fixes) in every_fix.items():
        for cause, fix in fixes:
            for argv, line in zip(fix.commands, fix.shell_lines()):
                if argv[0] not in TOOLS:
                    continue
                (out / "argv").unlink(missing_ok=True)
                result = subprocess.run(["bash", "-c", line], capture_output=True, env=env, cwd=tmp_path, timeout=30,
                                        stdin=subprocess.DEVNULL)
                assert result.returncode == 0, (scenario, cause, line, result.stderr)
                ran = (out / "argv").read_bytes().decode().split("\0")[:-1]
                assert ran == [a.replace("${CASTAI_API_KEY}", KEY) for a in argv], (scenario, cause, line)
                if fix.stdin:
                    assert (out / "stdin").read_text() == fix.stdin.rstrip("\n") + "\n"
                # pinned: the diagnosed context and kubeconfig; the literal cluster id; no other reference
                if argv[0] in ("kubectl", "helm"):
                    flag = "--context" if argv[0] == "kubectl" else "--kube-context"
                    assert argv[1:5] == [flag, "castui-lab", "--kubeconfig", str(kubeconfig)], (scenario, cause, argv)
                assert not any("${CASTAI_CLUSTER_ID}" in a for a in argv)
                if argv[0] == "sh":
                    assert argv[4].endswith(f"/v1/kubernetes/clusters/{CLUSTER_ID}/policies")
                seen.add(argv[0])
    assert {"kubectl", "helm", "sh"} <= seen  # every kind of command castui prints went through bash


def test_a_context_switched_elsewhere_does_not_move_the_fix(tmp_path: Path) -> None:
    """Diagnosed without --context (the current one); then the current context changes in
    another shell: the command castui runs still names the context it diagnosed."""
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir()
    out.mkdir()
    recorders(bin_dir, out)
    with start_lab("heartbeat-failing") as lab:
        kubeconfig = tmp_path / "kubeconfig"
        doc = yaml.safe_load(lab.kubeconfig.read_text())
        doc["clusters"].append({"name": "staging", "cluster": {"server": "https://127.0.0.1:1"}})
        doc["contexts"].append({"name": "staging", "context": {"cluster": "staging", "user": doc["users"][0]["name"]}})
        doc["current-context"] = "castui-lab"
        kubeconfig.write_text(yaml.safe_dump(doc))
        settings = lab_settings(lab, kubeconfig=str(kubeconfig), context=None)

        async def run() -> Any:
            async with Session(settings) as session:
                diagnosis = await session.diagnose(["agent-disconnected"])
                fix = next(c.fix for s in diagnosis.symptoms for c in s.causes if c.id == "heartbeat-failing")
                assert fix is not None
                doc["current-context"] = "staging"  # another shell: `kubectl config use-context staging`
                kubeconfig.write_text(yaml.safe_dump(doc))
                os.environ["PATH"], saved = f"{bin_dir}:{os.environ['PATH']}", os.environ["PATH"]
                try:
                    return fix, await run_command(settings, fix, fix.commands[0], target="t", session=session)
                finally:
                    os.environ["PATH"] = saved

        fix, result = asyncio.run(run())
    assert result.ok, result.error
    ran = (out / "argv").read_bytes().decode().split("\0")[:-1]
    assert ran[:5] == ["kubectl", "--context", "castui-lab", "--kubeconfig", str(kubeconfig)]
    assert fix.shell_lines()[0].startswith(f"kubectl --context castui-lab --kubeconfig {kubeconfig} rollout restart")


@pytest.mark.parametrize("kind", ["command", "api"])
def test_a_context_now_pointing_at_another_server_is_refused(tmp_path: Path, kind: str) -> None:
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir()
    out.mkdir()
    recorders(bin_dir, out)
    scenario, symptom, cause_id = (("heartbeat-failing", "agent-disconnected", "heartbeat-failing") if kind == "command"
                                   else ("unschedulable-pods-disabled", "no-scale-up", "unschedulable-pods-disabled"))
    with start_lab(scenario) as lab:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(lab.kubeconfig.read_text())
        settings = lab_settings(lab, kubeconfig=str(kubeconfig))

        async def run() -> Any:
            async with Session(settings) as session:
                diagnosis = await session.diagnose([symptom])
                fix = next(c.fix for s in diagnosis.symptoms for c in s.causes if c.id == cause_id)
                doc = yaml.safe_load(kubeconfig.read_text())
                doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"  # someone re-pointed the context
                kubeconfig.write_text(yaml.safe_dump(doc))
                if kind == "api":
                    return await apply_api_call(session, fix, target="t")
                os.environ["PATH"], saved = f"{bin_dir}:{os.environ['PATH']}", os.environ["PATH"]
                try:
                    return await run_command(settings, fix, fix.commands[0], target="t", session=session)
                finally:
                    os.environ["PATH"] = saved

        result = asyncio.run(run())
        unchanged = kind == "command" or lab.cluster.policies["unschedulablePods"]["enabled"] is False
    assert not result.ok and "now points at https://127.0.0.1:1" in (result.error or "")
    assert not (out / "argv").exists() and unchanged  # nothing ran, nothing changed


API_CAUSES = ("unschedulable-pods-disabled", "evictor-aggressive-mode", "evictor-cycle-short")


@pytest.mark.parametrize("order", list(itertools.permutations(API_CAUSES)), ids="-then-".join)
def test_printed_api_fixes_compose_in_any_order(order: tuple[str, ...], tmp_path: Path) -> None:
    with start_lab("demo") as lab:
        lines = {cause: [line for argv, line in zip(fix.commands, fix.shell_lines()) if argv[0] == "sh"]
                 for cause, fix in fixes_of(lab) if fix.api_call is not None}
        assert set(API_CAUSES) <= set(lines)
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CASTAI_API_KEY": str(lab.api_key)}
        for cause in order:  # printed minutes ago, pasted one after another
            for line in lines[cause]:
                result = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env, timeout=30)
                assert result.returncode == 0, (cause, result.stderr)
        after = {c.id: c.verdict for s in asyncio.run(_diagnose(lab)).symptoms for c in s.causes}
    assert {cause: after[cause] for cause in API_CAUSES} == dict.fromkeys(API_CAUSES, CauseVerdict.RULED_OUT)


async def _diagnose(lab: Any) -> Any:
    async with Session(lab_settings(lab), lab=lab.scenario) as session:
        return await session.diagnose()
