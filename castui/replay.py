"""Replaying a bundle: `castui --bundle FILE` and `castui diagnose --bundle FILE` show what the cluster
looked like at capture time (Session judges time-dependent checks at `captured_at`).

The bundle's raw answers become a `RecordedSource`: every read the original run made is answered by
its key, a recorded failure (a 403, a timeout) is raised again as the same kind of error with the same
words. No server, no socket. The session is read-only: the engine refuses to execute anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from castui.bundle import REPLAY_KEY, Manifest, RawAnswers, read_bundle
from castui.engine.facts import describe_fetch
from castui.engine.source import RecordedSource, raw_key


@dataclass
class RunningReplay:
    """What `resolved_settings` hands a command for a bundle, like a lab: settings overrides, an API key,
    the source a Session reads through, stop()."""

    bundle: str
    manifest: Manifest
    source: RecordedSource
    api_key: str | None
    scenario: None = None

    @property
    def captured_at(self) -> datetime:
        return self.manifest.captured_at

    @property
    def kube_cluster(self) -> str | None:
        return self.manifest.kube_cluster

    def settings_overrides(self) -> dict[str, Any]:
        replay = self.manifest.replay
        overrides: dict[str, Any] = {
            "context": self.manifest.kube_context or "castui-replay",
            "namespace": replay.namespace,
            "cluster_id": replay.cluster_id,
            "workloads": replay.workloads or None,
            "read_only": True,
        }
        if self.manifest.api_url and self.manifest.api_url.startswith(("http://", "https://")):
            overrides["api_url"] = self.manifest.api_url  # shown in the header; never called (read-only, recorded)
        if replay.thresholds:
            overrides["thresholds"] = replay.thresholds
        return overrides

    def stop(self) -> None:
        """Nothing runs for a replay; kept so a replay stands where a lab does."""

    def __enter__(self) -> RunningReplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_replay(path: Path) -> RunningReplay:
    """A bundle's raw answers, ready to answer a session; ConfigurationError if it is not a bundle."""
    manifest, answers, _ = read_bundle(path)
    return RunningReplay(bundle=str(path), manifest=manifest, source=recorded_source(answers),
                         api_key=REPLAY_KEY if manifest.replay.had_api_key else None)


def recorded_source(raw: RawAnswers) -> RecordedSource:
    """Answers and failures by key; when a bundle holds one key twice, the first answer wins (the run read it first)."""
    answers: dict[str, Any] = {}
    failures: dict[str, dict[str, Any]] = {}
    for answer in raw.answers:
        name = raw_key(answer.key)
        if answer.error is not None:
            failures.setdefault(name, answer.error.model_dump())
        else:
            answers.setdefault(name, answer.value)
    return RecordedSource(answers, {k: v for k, v in failures.items() if k not in answers}, describe_fetch)
