"""A crafted bundle gets one clear error and exit 2, never a traceback, never the machine's
memory: members are streamed with limits (a gzip bomb stops at the limit), and malformed raw
answers or manifests are refused before anything is replayed."""

from __future__ import annotations

import gzip
import io
import json
import resource
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from castui.bundle import MAX_MEMBER_BYTES
from castui.lab import start_lab

from .conftest import bundle_files, make_bundle

import asyncio


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("good") / "b.tar.gz"
    with start_lab("healthy") as lab:
        asyncio.run(make_bundle(lab, path))
    return bundle_files(path)


def write(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"bundle/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def replay(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "s"), "XDG_CONFIG_HOME": str(tmp_path / "c")}
    return subprocess.run([sys.executable, "-m", "castui", "diagnose", "--bundle", str(path)], capture_output=True, text=True,
                          env=env, timeout=120, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)))


def answers_of(good: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(good["raw/answers.json"])


MALFORMED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not json": lambda a: b"{not json",
    "a list": lambda a: [],
    "answers not a list": lambda a: {**a, "answers": {"x": 1}},
    "a key that is a number": lambda a: {**a, "answers": [{"key": 5, "value": []}]},
    "a key holding objects": lambda a: {**a, "answers": [{"key": [{"x": 1}], "value": []}]},
    "an empty key": lambda a: {**a, "answers": [{"key": [], "value": []}]},
    "an error without a kind": lambda a: {**a, "answers": [{"key": ["list", "pods"], "error": {"message": 3}}]},
    "another format": lambda a: {**a, "format": "something/v9"},
}


@pytest.mark.parametrize("how", sorted(MALFORMED))
def test_malformed_raw_answers_are_one_clear_error(how: str, good_bundle: dict[str, bytes], tmp_path: Path) -> None:
    changed = MALFORMED[how](answers_of(good_bundle))
    data = changed if isinstance(changed, bytes) else json.dumps(changed).encode()
    result = replay(write(tmp_path / "b.tar.gz", {**good_bundle, "raw/answers.json": data}), tmp_path)
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert "Traceback" not in result.stderr and result.stderr.startswith("castui: ")
    assert len(result.stderr.strip().splitlines()) <= 2  # the error and its hint


def test_a_gzip_bomb_stops_at_the_limit(good_bundle: dict[str, bytes], tmp_path: Path) -> None:
    """~1 MB on disk that expands past the answers' limit: refused while streaming, in bounded memory
    (the child may not use more than 1 GiB of address space)."""
    bomb = tmp_path / "bomb.tar.gz"
    size = MAX_MEMBER_BYTES["raw/answers.json"] + 1
    manifest = good_bundle["manifest.json"]
    head = tarfile.TarInfo("bundle/manifest.json")
    head.size = len(manifest)
    body = tarfile.TarInfo("bundle/raw/answers.json")
    body.size = size
    prefix = head.tobuf() + manifest + b"\0" * (-len(manifest) % 512) + body.tobuf()
    block = gzip.compress(b" " * (1 << 20))  # gzip members concatenate: a MiB of spaces, a few hundred bytes each
    with bomb.open("wb") as out:
        out.write(gzip.compress(prefix))
        for _ in range(size // (1 << 20) + 1):
            out.write(block)
    assert bomb.stat().st_size < 4 * 1024 * 1024
    result = replay(bomb, tmp_path)
    assert result.returncode == 2 and "over castui's limit" in result.stderr and "Traceback" not in result.stderr


def test_a_header_that_lies_about_its_size_is_caught(good_bundle: dict[str, bytes], tmp_path: Path) -> None:
    result = replay(write(tmp_path / "b.tar.gz", {**good_bundle, "manifest.json": b"{" * (MAX_MEMBER_BYTES["manifest.json"] + 1)}),
                    tmp_path)
    assert result.returncode == 2 and "manifest.json" in result.stderr and "Traceback" not in result.stderr
