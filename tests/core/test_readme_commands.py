"""Every `castui …` command in the README's shell blocks runs, as written, against lab clusters behind
contexts named as in the README (prod-eu, prod-us): no traceback, and an exit code the README
documents for a run (0, 1 or 3; never 2, a usage error, which would mean the README is wrong). The
app's commands run in a pseudo-terminal until their first screen, then `q`. And every key of the
README's key table is the default key of that action id in the app."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from castui.lab.fleet import RunningFleet, start_fleet

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SUBCOMMANDS = {"diagnose", "lab", "suppress", "completion", "bundle", "report", "config"}
RUN_CODES = {0, 1, 3}


def readme_commands() -> list[str]:
    """The `castui …` lines of the README's sh blocks, in order."""
    found, inside, lang = [], False, ""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside, lang = (False, "") if inside else (True, line[3:].strip())
            continue
        if inside and lang in ("sh", "bash") and re.match(r"^castui(\s|$)", line):
            found.append(line)
    return found


def as_run(line: str) -> str:
    """Optional parts as the README writes them: `[--since 1h]` is used, `[--cluster ID]` (a placeholder)
    is left out, `[a|b]` takes `a`."""
    def optional(match: re.Match[str]) -> str:
        part = match.group(1)
        return "" if re.search(r"\b[A-Z]{2,}\b", part) else part.split("|")[0]

    return re.sub(r"\[([^\]]*)\]", optional, line)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningFleet]:
    with start_fleet(("healthy", "demo", "chart-outdated"), workdir=tmp_path_factory.mktemp("fleet")) as running:
        yield running


@pytest.fixture
def machine(fleet: RunningFleet, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment of a user whose kubeconfig has prod-eu and prod-us, with their key exported."""
    config = yaml.safe_load(fleet.kubeconfig.read_text())
    names = {"lab-demo": "prod-eu", "lab-chart-outdated": "prod-us"}
    for context in config["contexts"]:
        context["name"] = names.get(context["name"], context["name"])
    config["current-context"] = "prod-eu"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    settings = tmp_path / "config" / "castui" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f'helm_repo_url = "{fleet.api_url}/helm-charts"\nstatus_url = "{fleet.api_url}/status"\n')
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "home").mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8", "TERM": "xterm-256color",
           "KUBECONFIG": str(kubeconfig), "CASTAI_API_URL": fleet.api_url, "CASTAI_API_KEY": fleet.api_key,
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}
    return env, work


def run_cli(argv: list[str], env: dict[str, str], cwd: Path, stdout_to: Path | None) -> tuple[int, str]:
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    if stdout_to is not None:
        stdout_to.parent.mkdir(parents=True, exist_ok=True)
        stdout_to.write_text(result.stdout)
    return result.returncode, result.stdout + result.stderr


def run_server(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """A `lab serve`: until it says it serves, then stopped as a terminal's kill would."""
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in process.stdout:
        seen.append(line)
        if "serving; press Ctrl-C" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)  # Ctrl-C, as it says
    code = process.wait(timeout=30)
    rest = process.stdout.read()
    return code, "".join(seen) + rest


def run_app(args: list[str], env: dict[str, str], cwd: Path, tmp_path: Path) -> str:
    """The app in a 120×40 tmux pane: its first screen, then `q` (and `y` when it asks); it must end."""
    from tests.app import test_tmux as terminal

    tmp_path.mkdir(parents=True, exist_ok=True)
    with terminal.castui_in_tmux(tmp_path, *args, env={k: v for k, v in env.items() if k != "TERM"}, cwd=cwd):
        shown = terminal.wait_until(lambda text: "What do you see?" in text or "castui fleet:" in text, "the first screen",
                                    timeout=60)
        terminal.send("q")
        text = terminal.wait_until(lambda text: "Quit castui?" in text or "What do you see?" not in text
                                   and "castui fleet:" not in text, "q to quit or ask", timeout=20)
        if "Quit castui?" in text:
            terminal.send("y")
        assert terminal.OUTPUT is not None
        deadline = time.monotonic() + 20
        while not terminal.OUTPUT.closed and time.monotonic() < deadline:
            terminal.OUTPUT.wait(deadline - time.monotonic())
        assert terminal.OUTPUT.closed, "the app quits on q"
    return shown


def test_every_readme_command_runs(machine: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, work = machine
    commands = readme_commands()
    assert len(commands) >= 15, commands
    for line in commands:
        words = shlex.split(as_run(line), comments=True)
        stdout_to = None
        if ">" in words:
            at = words.index(">")
            stdout_to = Path(os.path.expanduser(words[at + 1].replace("~", env["HOME"], 1))) if words[at + 1] else None
            stdout_to = stdout_to if stdout_to.is_absolute() else work / stdout_to
            words = words[:at]
        argv = [sys.executable, "-m", "castui", *words[1:]]
        command = next((w for w in words[1:] if not w.startswith("-")), None)
        if words[1:3] == ["lab", "serve"]:
            code, output = run_server(argv, env, work)
            assert code == 0 and "export" in output, (line, output[-2000:])
        elif command not in SUBCOMMANDS or words[1:2] and words[1].startswith("-") and "diagnose" not in words:
            output = run_app(words[1:], env, work, tmp_path / f"pane-{commands.index(line)}")
        else:
            code, output = run_cli(argv, env, work, stdout_to)
            assert code in RUN_CODES, (line, code, output[-2000:])
        assert "Traceback" not in output, (line, output[-3000:])


KEY_NAMES = {"?": "question_mark", "/": "slash", "]": "right_square_bracket", "[": "left_square_bracket", ":": "colon",
             "F1": "f1"}


def readme_keys() -> list[tuple[str, str]]:
    """(action id, key) pairs of the README's key table."""
    pairs = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`") or "." not in cells[0]:
            continue
        ids = re.findall(r"`([a-z]+\.[a-z0-9-]+)`", cells[0])
        keys = [group for group in cells[1].split(" / ")]
        if len(ids) != len(keys):
            continue
        for action_id, key_group in zip(ids, keys):
            for key in re.findall(r"`([^`]+)`", key_group):
                pairs.append((action_id, KEY_NAMES.get(key, key)))
    return pairs


def test_every_key_in_the_readme_table_is_bound_by_default() -> None:
    from castui.app import all_bindings

    defaults: dict[str, set[str]] = {}
    for binding in all_bindings():
        if binding.id:
            defaults.setdefault(binding.id, set()).update(k.strip() for k in binding.key.split(","))
    pairs = readme_keys()
    assert len(pairs) >= 30, pairs
    wrong = [(action_id, key) for action_id, key in pairs if key not in defaults.get(action_id, set())]
    assert not wrong, f"README keys that are not the app's defaults: {wrong}"
