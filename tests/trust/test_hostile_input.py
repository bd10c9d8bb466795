"""Names from the cluster and the API are data, never code: a release, pod, PDB,
namespace or cluster named with shell syntax, quotes, newlines, terminal escapes or
Rich markup stays one argument in every fix command, survives a real shell as
that same argument, and is shown literally (control characters escaped) in text.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from castui.diagnosis import Diagnosis, Fix
from castui.lab import objects as k8s
from castui.lab import start_lab
from castui.lab.scenarios import LabCluster, build, empty_node
from castui.report.markdown import render_markdown
from castui.report.redact import Redactor
from castui.report.text import printable, render_text
from tests.core.helpers import castui, diagnose
from tests.trust.helpers import lab_flags

MARKER = "pwned-by-castui"
HOSTILE = {
    "command-substitution": f"evil$(touch {MARKER})",
    "backticks": f"evil`touch {MARKER}`",
    "semicolon": f"evil;touch {MARKER}",
    "quotes": "it's \"quoted\"",
    "newline": f"evil\ntouch {MARKER}",
    "ansi-escapes": "\x1b[2J\x1b[31mred\x1b]0;owned\x07",
    "rich-markup": "[bold red]shouting[/]",
    "shell-variable": "$HOME",
    "key-reference": "${CASTAI_API_KEY}",
}
#: where a hostile name lands in a fix command, by the cause that builds it
#: (guide v2: the PDB and the pods the Evictor won't move are looked at with a read-only kubectl, the node's mark removed)
USES = {"release-not-deployed": "release", "pdb-blocking-eviction": "pdb name",
        "system-pods-blocking-drain": "pod name", "node-removal-disabled": "node name"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BUILT_AT = datetime.now(timezone.utc).replace(microsecond=0)


def hostile_cluster(value: str) -> LabCluster:
    """A healthy lab where a few things are broken and each carries the hostile name."""
    lab = build("healthy", now=BUILT_AT)
    now = lab.now
    lab.cluster["name"] = value  # the CAST AI API's name for the cluster
    lab.release(value, "castai-agent", status="failed", config={"provider": "eks"})  # a failed release
    lab.add("namespaces", k8s.namespace(value, now))
    # a cordoned node CAST AI must keep (removal-disabled), held by a PDB at 0 and a bare pod
    node = empty_node(lab, name=value, labels={"autoscaling.cast.ai/removal-disabled": "true"}, cordoned=True)
    # (in namespace shop: the lab cannot list a namespace whose name needs quoting in a URL path)
    lab.add("pods", k8s.pod(value, "shop", now, node_name=node, labels={"app": "hostile"},
                            owner=("ReplicaSet", "hostile-5d4c3b2a1")))
    lab.add("poddisruptionbudgets", k8s.pdb(value, "shop", now, selector={"app": "hostile"}, allowed=0, healthy=1, min_available=1))
    lab.add("pods", k8s.pod(value, "kube-system", now, node_name=node, labels={"run": "x"}))
    return lab


@pytest.fixture(scope="module", params=sorted(HOSTILE), ids=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest) -> tuple[str, Diagnosis]:
    value = HOSTILE[request.param]
    with start_lab("hostile", cluster=hostile_cluster(value)) as lab:
        return value, diagnose(lab)


def fixes_naming(diagnosis: Diagnosis, value: str) -> dict[str, Fix]:
    fixes = {c.id: c.fix for _, c in diagnosis.confirmed() if c.fix is not None}
    assert set(USES) <= set(fixes), f"expected fixes for {sorted(USES)}, got {sorted(fixes)}"
    return {cause: fixes[cause] for cause in USES}


def test_a_hostile_name_stays_one_argument_of_the_fix(hostile: tuple[str, Diagnosis]) -> None:
    value, diagnosis = hostile
    for cause, fix in fixes_naming(diagnosis, value).items():
        if fix.commands:
            assert any(value in argv for argv in fix.commands), f"{cause}: the {USES[cause]} is not one argument: {fix.commands}"
        else:  # castui refused to offer a command, and says why
            assert "${" in value and fix.note and "${" in fix.note


def test_shell_lines_split_back_into_the_same_arguments(hostile: tuple[str, Diagnosis]) -> None:
    value, diagnosis = hostile
    for fix in fixes_naming(diagnosis, value).values():
        for argv, line in zip(fix.commands, fix.shell_lines()):
            command = line.split(" <<'EOF'\n")[0] if fix.stdin else line
            assert shlex.split(command) == argv


def test_a_real_shell_runs_nothing_hidden_in_a_name_and_expands_only_castuis_references(
    hostile: tuple[str, Diagnosis], tmp_path: Path
) -> None:
    """Each fix line goes through bash with the programs replaced by a function that prints its argv."""
    value, diagnosis = hostile
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CASTAI_API_KEY": "key-from-env", "CASTAI_CLUSTER_ID": "id-from-env"}
    for fix in fixes_naming(diagnosis, value).values():
        for argv, line in zip(fix.commands, fix.shell_lines()):
            script = 'for p in helm kubectl curl terraform; do eval "$p() { printf \'%s\\0\' $p \\"\\$@\\"; }"; done\n' + line
            result = subprocess.run(["bash", "-c", script], capture_output=True, cwd=tmp_path, env=env, timeout=30)
            assert result.returncode == 0, result.stderr
            ran = result.stdout.decode().split("\0")[:-1]
            expected = [a.replace("${CASTAI_API_KEY}", "key-from-env").replace("${CASTAI_CLUSTER_ID}", "id-from-env")
                        if value not in a else a for a in argv]
            assert ran == expected
            assert not (tmp_path / MARKER).exists(), f"the shell ran code from the name {value!r}"


def test_text_output_shows_names_literally_without_terminal_control(hostile: tuple[str, Diagnosis]) -> None:
    value, diagnosis = hostile
    text = render_text(diagnosis, Redactor())
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert printable(value) in text
    lines = text.splitlines()
    if "\n" in value:  # a newline in a name cannot start a line of its own outside a quoted command
        assert not any(line.startswith("touch ") for line in lines)


def test_markdown_output_has_no_terminal_control_either(hostile: tuple[str, Diagnosis]) -> None:
    value, diagnosis = hostile
    assert not CONTROL.search(render_markdown(diagnosis, Redactor()))


def test_json_output_keeps_names_exactly(hostile: tuple[str, Diagnosis]) -> None:
    value, diagnosis = hostile
    document = json.loads(json.dumps(diagnosis.to_json_dict()))
    commands = [argv for s in document["symptoms"] for c in s["causes"] if c["fix"] for argv in c["fix"]["commands"]]
    assert any(value in argv for argv in commands) or "${" in value


def test_printable_escapes_control_characters_and_keeps_the_rest() -> None:
    assert printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert printable("a\nb\tc\x07") == "a\\nb\\tc\\x07"
    assert printable("[bold]ok[/] ünïcødé $(x) `y`") == "[bold]ok[/] ünïcødé $(x) `y`"
    assert printable("\u202eevil") == "\\u202eevil"  # right-to-left override


def test_castui_diagnose_prints_no_escape_sequence_from_the_cluster() -> None:
    with start_lab("hostile", cluster=hostile_cluster(HOSTILE["ansi-escapes"])) as lab:
        result = castui("diagnose", *lab_flags(lab), env={"CASTAI_API_KEY": lab.api_key or ""})
    assert result.returncode == 1, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "\\x1b[2J\\x1b[31mred\\x1b]0;owned\\x07" in result.stdout
