"""Runs symptoms' checks concurrently and judges their causes, streaming results.

Each check runs as its own task with the run's timeout (enforced in `Facts`); a
check that fails becomes "could not check: why" and the others go on. Causes are
judged once their symptom's checks are done. Events go to `on_event` as they
happen, so the app can draw the tree live and the CLI can show progress.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from castui.clients.errors import CastuiError
from castui.diagnosis import (
    CauseResult,
    CauseVerdict,
    CheckResult,
    CheckStatus,
    Evidence,
    SymptomResult,
    SymptomVerdict,
)
from castui.engine.facts import Facts
from castui.engine.fixes import render_fix
from castui.tree.model import (
    Check,
    CouldNotCheck,
    Judgement,
    Observations,
    Symptom,
    unknown,
)

SKIPPED = "skipped: it creates a pod in the cluster; run with --active (or agree in the app) to include it"


@dataclass(frozen=True)
class CheckStarted:
    symptom_id: str
    check_id: str


@dataclass(frozen=True)
class CheckFinished:
    symptom_id: str
    result: CheckResult


@dataclass(frozen=True)
class SymptomFinished:
    result: SymptomResult


RunEvent = CheckStarted | CheckFinished | SymptomFinished
Consent = Callable[[Check], Awaitable[bool]]


def describe(error: BaseException) -> str:
    """The one place an exception becomes words for a person."""
    if isinstance(error, CastuiError):
        return str(error)
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timed out"
    return f"unexpected {type(error).__name__}: {error}"


async def run_symptoms(
    symptoms: Iterable[Symptom],
    facts: Facts,
    *,
    on_event: Callable[[RunEvent], Any] | None = None,
    consent: Consent | None = None,
    named: bool = False,
) -> list[SymptomResult]:
    """`named`: the user named these symptoms (rather than "run every check"); some are
    observed only then (guide v2: a missing key, the evictor complaint)."""
    emit = on_event or (lambda event: None)
    runs = [run_symptom(s, facts, emit=emit, consent=consent, named=named) for s in symptoms]
    return not_latent_where_confirmed(list(await asyncio.gather(*runs)))


def not_latent_where_confirmed(results: list[SymptomResult]) -> list[SymptomResult]:
    """A cause shared by two symptoms (network-blocked, invalid-api-key) that is confirmed under one
    explains an observed symptom, so it is no latent risk under the other: not applicable there."""
    confirmed_under = {c.id: s.id for s in results for c in s.causes if c.verdict is CauseVerdict.CONFIRMED}
    for symptom in results:
        for cause in symptom.causes:
            if cause.verdict is CauseVerdict.LATENT and cause.id in confirmed_under:
                cause.verdict = CauseVerdict.RULED_OUT
                cause.reason = f"not a separate risk: confirmed under {confirmed_under[cause.id]}, where its symptom is observed"
                cause.fix = None
    return results


async def run_symptom(
    symptom: Symptom,
    facts: Facts,
    *,
    emit: Callable[[RunEvent], Any],
    consent: Consent | None = None,
    named: bool = False,
) -> SymptomResult:
    values: dict[str, Any] = {}
    failures: dict[str, str] = {}
    results: dict[str, CheckResult] = {}

    async def run_check(check: Check) -> None:
        emit(CheckStarted(symptom.id, check.id))
        started = time.perf_counter()
        status, summary, reason = CheckStatus.OK, None, None
        try:
            if check.active and not (facts.settings.active or await _agreed(check, facts, consent)):
                values[check.id] = None
                summary = SKIPPED
            else:
                values[check.id] = await check.gather(facts)
                summary = check.summarise(values[check.id]) if check.summarise else None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure is "could not check", never a crash
            status, reason = CheckStatus.FAILED, describe(error)
            failures[check.id] = reason
        result = CheckResult(
            id=check.id,
            title=check.title,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            reason=reason,
            summary=summary,
        )
        results[check.id] = result
        emit(CheckFinished(symptom.id, result))

    await asyncio.gather(*(run_check(c) for c in symptom.checks))
    observations = Observations(values, failures, facts.settings, facts.now, named=named)
    observed, summary = observe(symptom, observations)
    causes = [await judge_cause(symptom, cause, observations, facts, observed=observed) for cause in symptom.causes]
    causes = rank_causes(symptom, causes)
    verdict, summary = symptom_verdict(observed, summary, causes)
    result = SymptomResult(
        id=symptom.id,
        title=symptom.title,
        verdict=verdict,
        summary=summary,
        observed=bool(observed),
        checks=[results[c.id] for c in symptom.checks],
        causes=causes,
    )
    emit(SymptomFinished(result))
    return result


async def _agreed(check: Check, facts: Facts, consent: Consent | None) -> bool:
    """Ask before an active check; read-only never asks, since the engine would refuse it anyway."""
    return not facts.settings.read_only and consent is not None and await consent(check)


VERDICT_ORDER = (CauseVerdict.CONFIRMED, CauseVerdict.UNKNOWN, CauseVerdict.LATENT, CauseVerdict.RULED_OUT)


def rank_causes(symptom: Symptom, causes: list[CauseResult]) -> list[CauseResult]:
    """Confirmed first, then unknown, latent, ruled out; within a verdict, a cause before the
    causes it explains (a network block before the heartbeat failure it makes), so the first
    fix offered is the root cause's."""
    explained_by = {c.id: set(c.explained_by) for c in symptom.causes}

    def depth(cause_id: str, seen: frozenset[str] = frozenset()) -> int:
        parents = [p for p in explained_by.get(cause_id, ()) if p not in seen]
        return 1 + max((depth(p, seen | {cause_id}) for p in parents), default=-1)

    return sorted(causes, key=lambda c: (VERDICT_ORDER.index(c.verdict), depth(c.id)))


async def judge_cause(symptom: Symptom, cause: Any, observations: Observations, facts: Facts, *,
                      observed: bool | None = True) -> CauseResult:
    reading = observations.tracked()
    try:
        judgement: Judgement = cause.judge(reading)
    except CouldNotCheck as missing:
        judgement = unknown(f"could not check: {missing.reason}")
    except Exception as error:  # noqa: BLE001 - a judge bug must not hide the other causes
        judgement = unknown(f"could not judge: {describe(error)}")
    if judgement.verdict is CauseVerdict.CONFIRMED and not observed:
        # guide v2, verdict model: a cause is confirmed only when its symptom is observed
        why = "the symptom is not observed" if observed is False else "the symptom could not be observed"
        judgement = Judgement(CauseVerdict.LATENT, f"{judgement.reason} ({why}: a risk, not a cause)",
                              judgement.evidence, judgement.fix_args)
    if judgement.verdict is CauseVerdict.CONFIRMED and not judgement.evidence:
        judgement = Judgement(judgement.verdict, judgement.reason,
                              (Evidence(kind="text", title="What castui saw", lines=[judgement.reason]),), judgement.fix_args)
    fix = None
    if cause.fix is not None and judgement.verdict in (CauseVerdict.CONFIRMED, CauseVerdict.LATENT):
        try:
            fix = await render_fix(cause.fix, judgement, facts)
        except Exception as error:  # noqa: BLE001 - a broken template must not lose the finding
            judgement = Judgement(judgement.verdict, f"{judgement.reason} (the fix could not be prepared: {describe(error)})",
                                  judgement.evidence)
    return CauseResult(
        id=cause.id,
        title=cause.title,
        verdict=judgement.verdict,
        reason=judgement.reason,
        evidence=list(judgement.evidence),
        fix=fix,
        checks=reading.reads,
    )


def observe(symptom: Symptom, observations: Observations) -> tuple[bool | None, str]:
    """Whether the symptom itself is seen (True/False), or None when it cannot be observed."""
    try:
        observation = symptom.observe(observations)
        return observation.observed, observation.summary
    except CouldNotCheck as missing:
        return None, f"could not observe: {missing.reason}"
    except Exception as error:  # noqa: BLE001
        return None, f"could not observe: {describe(error)}"


def symptom_verdict(observed: bool | None, summary: str, causes: list[CauseResult]) -> tuple[SymptomVerdict, str]:
    """Guide v2: `problem` only when observed; `healthy` when checked and not observed;
    `unknown` when the symptom could not be observed."""
    if observed:
        if not any(c.verdict is CauseVerdict.CONFIRMED for c in causes):
            summary += "; no cause confirmed: escalate (castui bundle, status page, support)"
        return SymptomVerdict.PROBLEM, summary
    if observed is None:
        return SymptomVerdict.UNKNOWN, summary
    return SymptomVerdict.HEALTHY, summary
