"""The shapes of the decision tree: a symptom has checks (what castui looks at)
and causes (what it concludes from them), and a cause has a fix.

Symptom modules in this package declare these as data; `castui.engine` runs them.
Judges are plain functions of what the checks saw, so they are easy to read and
to test, and they never do I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from castui.diagnosis import CauseVerdict, Evidence

if TYPE_CHECKING:
    from datetime import datetime

    from castui.config import Settings, Thresholds
    from castui.tree.reader import Reader


class CouldNotCheck(Exception):
    """Raised by `Observations[...]` when the check behind it failed; the engine turns it into `unknown`."""

    def __init__(self, check_id: str, reason: str) -> None:
        super().__init__(f"could not check {check_id}: {reason}")
        self.check_id = check_id
        self.reason = reason


@dataclass(frozen=True)
class Judgement:
    verdict: CauseVerdict
    reason: str
    evidence: tuple[Evidence, ...] = ()
    #: values the fix's command templates use (`{release}`, `{pod}`, …)
    fix_args: Mapping[str, Any] = field(default_factory=dict)


def confirmed(reason: str, *evidence: Evidence, **fix_args: Any) -> Judgement:
    return Judgement(CauseVerdict.CONFIRMED, reason, evidence, fix_args)


def ruled_out(reason: str, *evidence: Evidence) -> Judgement:
    return Judgement(CauseVerdict.RULED_OUT, reason, evidence)


def unknown(reason: str, *evidence: Evidence) -> Judgement:
    return Judgement(CauseVerdict.UNKNOWN, reason, evidence)


def latent(reason: str, *evidence: Evidence, **fix_args: Any) -> Judgement:
    """The condition holds but explains nothing observed: a risk ("pods would stay Pending if …")."""
    return Judgement(CauseVerdict.LATENT, reason, evidence, fix_args)


class Observations:
    """What a symptom's checks saw, by check id, plus the run's thresholds and clock.

    Every read is recorded, so what a cause "needs" is what its judge read: the JSON
    `checks` of a cause is derived, never written by hand.
    """

    def __init__(self, values: dict[str, Any], failures: dict[str, str], settings: "Settings", now: "datetime",
                 *, named: bool = False) -> None:
        self._values = values
        self._failures = failures
        #: the run's settings and clock: a judge reads what the checks gathered, never the world
        self.settings = settings
        self.now = now
        self.thresholds: "Thresholds" = settings.thresholds
        #: the user named this symptom (`--symptom`, or picked it in the app), rather than "run every check"
        self.named = named
        self.reads: list[str] = []

    def tracked(self) -> "Observations":
        """The same observations with a fresh record of reads, for one judge."""
        view = Observations(self._values, self._failures, self.settings, self.now, named=self.named)
        return view

    def _read(self, check_id: str) -> None:
        if check_id not in self.reads and (check_id in self._values or check_id in self._failures):
            self.reads.append(check_id)

    def __getitem__(self, check_id: str) -> Any:
        self._read(check_id)
        if check_id in self._failures:
            raise CouldNotCheck(check_id, self._failures[check_id])
        return self._values[check_id]

    def get(self, check_id: str, default: Any = None) -> Any:
        """The value, or `default` when the check could not run."""
        self._read(check_id)
        return default if check_id in self._failures else self._values.get(check_id, default)

    def failed(self, check_id: str) -> str | None:
        self._read(check_id)
        return self._failures.get(check_id)

    @property
    def named_nodes(self) -> tuple[str, ...]:
        """Nodes the user named (`--node`, or picked in the app)."""
        return tuple(self.settings.nodes)

    @property
    def namespace(self) -> str:
        return self.settings.namespace


Gather = Callable[["Reader"], Awaitable[Any]]
Summarise = Callable[[Any], str]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    gather: Gather
    #: one line for the triage tree once the check has run
    summarise: Summarise | None = None
    #: an active check creates something in the cluster and runs only with consent
    active: bool = False



class _Keep(dict[str, Any]):
    """`str.format_map` that leaves unknown `{names}` as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: Mapping[str, Any]) -> str:
    """A fix template's `{names}` filled from `values`; unknown names stay, a malformed template is kept as is."""
    try:
        return template.format_map(_Keep(values))
    except (ValueError, IndexError, AttributeError):
        return template


CommandTemplates = Sequence[Sequence[str]] | Callable[[Mapping[str, Any]], list[list[str]]]


@dataclass(frozen=True)
class FixTemplate:
    title: str
    explanation: str
    #: argv templates; each argument is `str.format`-ed on its own, so a value never splits into two
    commands: CommandTemplates = ()
    mutates: bool = True
    recheck: tuple[str, ...] = ()
    #: a JSON merge patch (RFC 7386) for the cluster's policies; castui can PUT it itself
    policies_patch: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any] | None] | None = None
    #: fed to the (single) command's standard input, e.g. a manifest for `kubectl apply -f -`
    stdin: str | None = None
    note: str | None = None
    #: a note computed from the fix's values, e.g. the Terraform change when Terraform owns the release;
    #: a fix with guidance and no commands is shown, never offered for execution
    guidance: Callable[[Mapping[str, Any]], str | None] | None = None


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    judge: Callable[[Observations], Judgement]
    fix: FixTemplate | None = None
    #: causes in the same symptom that explain this one: their fix comes first ("as in 1")
    explained_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Observation:
    """Whether the symptom itself is seen: True, False, or None when it cannot be observed."""

    observed: bool | None
    summary: str


@dataclass(frozen=True)
class Symptom:
    id: str
    title: str
    #: one line that helps a person recognise the symptom
    recognise: str
    checks: tuple[Check, ...]
    causes: tuple[Cause, ...]
    observe: Callable[[Observations], Observation]
    #: a few words for narrow places (the fleet matrix, home's list)
    label: str = ""
    #: at most five characters: a column header of the fleet matrix (ten fit an 80-column terminal)
    abbrev: str = ""
