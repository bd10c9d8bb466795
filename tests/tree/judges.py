"""Judges are pure functions of observations: these helpers feed them recorded JSON (what a
check gathered, as a bundle records it) without a cluster, so each rule has a one-line test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from castui.config import Settings, load_settings
from castui.diagnosis import CauseVerdict
from castui.tree.model import Judgement, Observations

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


@dataclass
class RecordedRun:
    """What a judge may consult besides the observations: the settings and the run's clock."""

    settings: Settings = field(default_factory=lambda: load_settings({}, env={}))
    now: datetime = NOW


def observations(values: dict[str, Any], *, failures: dict[str, str] | None = None, named: bool = False,
                 nodes: list[str] | None = None, now: datetime = NOW) -> Observations:
    settings = load_settings({"nodes": nodes or []}, env={})
    run = RecordedRun(settings=settings, now=now)
    return Observations(values, failures or {}, run.settings, run.now, named=named)


def verdict(judge: Any, values: dict[str, Any], **kwargs: Any) -> CauseVerdict:
    judgement: Judgement = judge(observations(values, **kwargs))
    return judgement.verdict
