"""Running castui the way a user does, against a lab on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

from castui.config import Settings, load_settings
from castui.diagnosis import CauseVerdict, Diagnosis
from castui.engine.session import Session
from castui.lab import RunningLab


def lab_settings(lab: RunningLab, **flags: Any) -> Settings:
    settings = load_settings({**lab.settings_overrides(), **flags}, env={})
    if lab.api_key:
        from pydantic import SecretStr

        settings.api_key = SecretStr(lab.api_key)
    return settings


def diagnose(lab: RunningLab, symptoms: Iterable[str] | None = None, **flags: Any) -> Diagnosis:
    async def run() -> Diagnosis:
        async with Session(lab_settings(lab, **flags), lab=lab.scenario) as session:
            return await session.diagnose(symptoms)

    return asyncio.run(run())


def confirmed_ids(diagnosis: Diagnosis) -> set[str]:
    return {c.id for _, c in diagnosis.confirmed()}


def verdicts(diagnosis: Diagnosis) -> dict[tuple[str, str], CauseVerdict]:
    return {(s.id, c.id): c.verdict for s in diagnosis.symptoms for c in s.causes}


def castui(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed entry point, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "castui", *args], capture_output=True, text=True, timeout=timeout, env=full_env)
