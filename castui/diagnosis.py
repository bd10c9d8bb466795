"""The result model: what a diagnosis run found, shared by every output (text,
Markdown, JSON, the app, bundles). `castui.diagnosis/v2` is a public contract:
fields may be added, never removed or renamed.

v2 (decision tree v2, from CAST AI's own code) adds the cause verdict `latent`: the
condition holds but explains no observed symptom. It is a risk, never a failure."""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA = "castui.diagnosis/v2"


class CauseVerdict(StrEnum):
    CONFIRMED = "confirmed"
    #: the condition holds, but its symptom is not observed: a risk, shown below problems
    LATENT = "latent"
    RULED_OUT = "ruled_out"
    UNKNOWN = "unknown"


class SymptomVerdict(StrEnum):
    PROBLEM = "problem"
    HEALTHY = "healthy"
    UNKNOWN = "unknown"


class CheckStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"  # could not check


class LogSource(BaseModel):
    """Which container's log a piece of `log` evidence is, so the app can read it again (follow)."""

    namespace: str
    pod: str
    #: None: the pod's only container
    container: str | None = None
    #: the previous (exited) container's log: it grows no more
    previous: bool = False


class Evidence(BaseModel):
    """One piece of what castui saw, rendered by an evidence pane."""

    kind: Literal["log", "events", "json", "table", "text"] = "text"
    title: str
    lines: list[str] = Field(default_factory=list)
    #: for `log`: indexes into `lines` that matter; for `json`: the dotted path that matters
    highlight: list[int] = Field(default_factory=list)
    path: str | None = None
    #: for `json`: the document; for `table`/`events`: rows of cells, first row the header
    data: Any = None
    #: for `log`: the container it was read from (None: not a pod's log, or not known)
    source: LogSource | None = None


class ApiCall(BaseModel):
    """A CAST AI API change castui can make itself after showing the diff."""

    method: Literal["PUT", "POST", "PATCH"]
    path: str
    body: dict[str, Any]
    #: dotted paths → (before, after), for the confirmation's diff
    changes: dict[str, tuple[Any, Any]] = Field(default_factory=dict)
    #: the JSON merge patch (RFC 7386) that makes the change: applied to the document read when the
    #: fix runs, so a change made meanwhile by someone else is kept (`body` is only what it looked like)
    patch: dict[str, Any] = Field(default_factory=dict)


class Fix(BaseModel):
    title: str
    explanation: str = ""
    commands: list[list[str]] = Field(default_factory=list)
    mutates: bool = True
    #: symptom ids to re-run after the fix
    recheck: list[str] = Field(default_factory=list)
    api_call: ApiCall | None = None
    #: standard input for the command (a manifest for `kubectl apply -f -`)
    stdin: str | None = None
    note: str | None = None

    def shell_lines(self) -> list[str]:
        """Commands as a person would paste them. `${VAR}` references stay expandable."""
        lines = [shell_join(argv) for argv in self.commands]
        if self.stdin and lines:
            body = self.stdin.rstrip("\n")
            end = next(d for d in ("EOF", *(f"EOF_{n}" for n in range(1, 1000))) if d not in body.splitlines())
            lines[-1] += f" <<'{end}'\n{body}\n{end}"
        return lines


#: the only references a printed command leaves for the shell to expand; everything else is literal
SHELL_REFERENCES = ("${CASTAI_API_KEY}",)


def shell_join(argv: list[str]) -> str:
    """Quote an argv for a POSIX shell: every part single-quoted (inert), except each
    `${CASTAI_API_KEY}`, which gets its own double quotes so the shell fills in the key."""
    return " ".join(_shell_word(arg) for arg in argv)


def _shell_word(arg: str) -> str:
    if not any(ref in arg for ref in SHELL_REFERENCES):
        return shlex.quote(arg)
    pattern = "(" + "|".join(re.escape(ref) for ref in SHELL_REFERENCES) + ")"
    parts = [part for part in re.split(pattern, arg) if part]
    return "".join(f'"{part}"' if part in SHELL_REFERENCES else shlex.quote(part) for part in parts)


class Suppression(BaseModel):
    reason: str
    until: str | None = None
    by: str | None = None
    expired: bool = False


class CauseResult(BaseModel):
    id: str
    title: str
    verdict: CauseVerdict
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)
    fix: Fix | None = None
    checks: list[str] = Field(default_factory=list)
    suppressed: Suppression | None = None


class CheckResult(BaseModel):
    id: str
    title: str
    status: CheckStatus
    duration_ms: float | None = None
    reason: str | None = None
    summary: str | None = None


class SymptomResult(BaseModel):
    id: str
    title: str
    verdict: SymptomVerdict
    summary: str
    observed: bool = False
    checks: list[CheckResult] = Field(default_factory=list)
    causes: list[CauseResult] = Field(default_factory=list)


class Target(BaseModel):
    """Where the diagnosis looked."""

    context: str | None = None
    kube_cluster: str | None = None
    cluster_id: str | None = None
    cluster_name: str | None = None
    region: str | None = None
    api_url: str | None = None
    namespace: str = "castai-agent"
    lab: str | None = None
    bundle: str | None = None
    captured_at: datetime | None = None


class StatusPage(BaseModel):
    available: bool
    indicator: str | None = None
    description: str | None = None
    incidents: list[dict[str, Any]] = Field(default_factory=list)
    reason: str | None = None


class Diagnosis(BaseModel):
    schema_: str = Field(SCHEMA, alias="schema")
    castui_version: str
    generated_at: datetime
    duration_ms: float | None = None
    target: Target
    symptoms: list[SymptomResult]
    status_page: StatusPage | None = None
    exit_code: int = 0

    model_config = {"populate_by_name": True}

    def confirmed(self) -> list[tuple[SymptomResult, CauseResult]]:
        return [
            (s, c)
            for s in self.symptoms
            for c in s.causes
            if c.verdict is CauseVerdict.CONFIRMED
        ]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def exit_code_for(symptoms: list[SymptomResult]) -> int:
    """0 all clear and every check ran; 1 a cause confirmed; 3 nothing confirmed, something unknown.

    Latent causes are risks, not failures: they never set 1. Suppressed causes (that have not
    expired) do not count.
    """
    active = [c for s in symptoms for c in s.causes if not (c.suppressed and not c.suppressed.expired)]
    if any(c.verdict is CauseVerdict.CONFIRMED for c in active):
        return 1
    if any(c.verdict is CauseVerdict.UNKNOWN for c in active):
        return 3
    return 0
