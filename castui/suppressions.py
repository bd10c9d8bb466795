"""Known, accepted problems: a suppressed cause is still shown ("suppressed: why,
until when"), it just no longer sets the exit code. An expired one says so and
stops applying. Stored in the state directory as JSON."""

from __future__ import annotations

import getpass
import json
import os
from datetime import date, datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from castui.config import state_dir
from castui.diagnosis import Suppression, SymptomResult
from castui.errors import ConfigurationError


class SuppressionRecord(BaseModel):
    cause: str
    cluster: str | None = None
    reason: str
    until: date | None = None
    by: str = Field(default_factory=lambda: _user())
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    def expired(self, today: date) -> bool:
        return self.until is not None and self.until < today

    def matches(self, cause_id: str, cluster_id: str | None) -> bool:
        return self.cause == cause_id and (self.cluster is None or self.cluster == cluster_id)


def parse_until(text: str | None, today: date) -> date | None:
    """The last day a suppression applies; ValueError with the reason for a non-date or a day already past
    (such a suppression would never apply, silently)."""
    if not text:
        return None
    try:
        until = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if until < today:
        raise ValueError(f"{until} is in the past (today is {today}): the suppression would never apply")
    return until


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def store_path() -> Path:
    return state_dir() / "suppressions.json"


def load() -> list[SuppressionRecord]:
    path = store_path()
    if not path.is_file():
        return []
    try:
        return [SuppressionRecord.model_validate(item) for item in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, ValidationError, TypeError) as exc:
        raise ConfigurationError(f"suppressions file {path} is unreadable: {exc}") from None


def save(records: list[SuppressionRecord]) -> None:
    """The whole file at once (temp file and rename): a reader never sees half of it."""
    from castui.atomic import write_atomic

    data = json.dumps([r.model_dump(mode="json") for r in records], indent=2) + "\n"
    write_atomic(store_path(), data.encode("utf-8"))


def add(record: SuppressionRecord) -> None:
    from castui.atomic import locked

    with locked(store_path()):  # read-modify-write: concurrent `castui suppress` would lose records
        records = [r for r in load() if not (r.cause == record.cause and r.cluster == record.cluster)]
        save([*records, record])


def remove(cause: str, cluster: str | None = None) -> int:
    from castui.atomic import locked

    with locked(store_path()):
        records = load()
        kept = [r for r in records if not (r.cause == cause and (cluster is None or r.cluster == cluster))]
        save(kept)
    return len(records) - len(kept)


def apply_suppressions(results: list[SymptomResult], cluster_id: str | None, today: date | None = None) -> None:
    """Mark suppressed causes in place; the exit code and the app read `suppressed`."""
    try:
        records = load()
    except ConfigurationError:
        return  # a broken file must not break a diagnosis; `castui suppress --list` reports it
    if not records:
        return
    today = today or datetime.now(timezone.utc).date()
    for symptom in results:
        for cause in symptom.causes:
            record = next((r for r in records if r.matches(cause.id, cluster_id)), None)
            if record:
                cause.suppressed = Suppression(
                    reason=record.reason,
                    until=record.until.isoformat() if record.until else None,
                    by=record.by,
                    expired=record.expired(today),
                )
