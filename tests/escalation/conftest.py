"""Shared helpers for the escalation tests: settings for a lab or a replay, bundles made in-process,
and castui's state and config kept in the test's own directories."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from castui.bundle import BundleResult, collect_bundle
from castui.config import Settings, load_settings
from castui.diagnosis import Diagnosis
from castui.support import open_session


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Audit log, suppressions and config of this test only; no CAST AI settings from the machine."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("CASTAI_API_KEY", "CASTAI_API_URL", "CASTAI_CLUSTER_ID", "CASTUI_NAMESPACE", "KUBECONFIG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    yield


def settings_for(lab: Any, **flags: Any) -> Settings:
    """What `resolved_settings` makes for a lab or a replay (RunningLab and RunningReplay alike)."""
    settings = load_settings({**lab.settings_overrides(), **flags}, env={}, path=Path("/nonexistent/castui.toml"))
    settings.api_key = SecretStr(lab.api_key) if lab.api_key else None
    return settings


async def make_bundle(lab: Any, output: Path, *, since: timedelta = timedelta(hours=1), **flags: Any) -> BundleResult:
    settings = settings_for(lab, **flags)
    async with open_session(settings, lab) as session:
        return await collect_bundle(session, output, since=since)


async def diagnose(lab: Any, symptoms: list[str] | None = None, **flags: Any) -> Diagnosis:
    async with open_session(settings_for(lab, **flags), lab) as session:
        return await session.diagnose(symptoms)


def verdicts(diagnosis: Diagnosis | dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    """symptom → (verdict, cause → verdict): what a replay must reproduce."""
    data = diagnosis.to_json_dict() if isinstance(diagnosis, Diagnosis) else diagnosis
    return {s["id"]: (s["verdict"], {c["id"]: c["verdict"] for c in s["causes"]}) for s in data["symptoms"]}


def confirmed(diagnosis: Diagnosis) -> set[str]:
    return {c.id for _, c in diagnosis.confirmed()}


def bundle_files(path: Path) -> dict[str, bytes]:
    """Every regular file of a bundle, by its path under the top directory."""
    with tarfile.open(path, "r:gz") as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def bundle_json(path: Path, name: str) -> Any:
    return json.loads(bundle_files(path)[name])


def raw_answer(files: dict[str, bytes], *key: Any) -> Any:
    for answer in json.loads(files["raw/answers.json"])["answers"]:
        if answer["key"] == list(key):
            return answer
    raise AssertionError(f"no raw answer for {list(key)}")


def helm_release_payload(secret: dict[str, Any]) -> dict[str, Any]:
    """A Helm release Secret's payload as Helm reads it: base64(base64(gzip(JSON)))."""
    import base64

    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def gunzip_all(data: bytes) -> bytes:
    return gzip.GzipFile(fileobj=io.BytesIO(data)).read()
