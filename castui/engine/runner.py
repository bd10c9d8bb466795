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
    SymptomResult,
    SymptomVerdict,
)
from castui.engine.facts import Facts
from castui.engine.fixes import render_fix
from castui.tree.model import Check, CouldNotCheck, Judgement, Observations, Symptom, unknown

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
) -> list[SymptomResult]:
    emit = on_event or (lambda event: None)
    runs = [run_symptom(s, facts, emit=emit, consent=consent) for s in symptoms]
    return list(await asyncio.gather(*runs))


async def run_symptom(
    symptom: Symptom,
    facts: Facts,
    *,
    emit: Callable[[RunEvent], Any],
    consent: Consent | None = None,
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
    observations = Observations(values, failures, facts.settings.thresholds, facts)
    causes = [await judge_cause(symptom, cause, observations, facts) for cause in symptom.causes]
    causes.sort(key=lambda c: [CauseVerdict.CONFIRMED, CauseVerdict.UNKNOWN, CauseVerdict.RULED_OUT].index(c.verdict))
    verdict, observed, summary = symptom_verdict(symptom, observations, causes)
    result = SymptomResult(
        id=symptom.id,
        title=symptom.title,
        verdict=verdict,
        summary=summary,
        observed=observed,
        checks=[results[c.id] for c in symptom.checks],
        causes=causes,
    )
    emit(SymptomFinished(result))
    return result


async def _agreed(check: Check, facts: Facts, consent: Consent | None) -> bool:
    """Ask before an active check; read-only never asks, since the engine would refuse it anyway."""
    return not facts.settings.read_only and consent is not None and await consent(check)


async def judge_cause(symptom: Symptom, cause: Any, observations: Observations, facts: Facts) -> CauseResult:
    try:
        judgement: Judgement = cause.judge(observations)
    except CouldNotCheck as missing:
        judgement = unknown(f"could not check: {missing.reason}")
    except Exception as error:  # noqa: BLE001 - a judge bug must not hide the other causes
        judgement = unknown(f"could not judge: {describe(error)}")
    fix = None
    if cause.fix is not None and judgement.verdict is CauseVerdict.CONFIRMED:
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
        checks=list(cause.needs),
    )


def symptom_verdict(
    symptom: Symptom, observations: Observations, causes: list[CauseResult]
) -> tuple[SymptomVerdict, bool, str]:
    try:
        observation = symptom.observe(observations)
        observed, summary = observation.observed, observation.summary
    except CouldNotCheck as missing:
        observed, summary = None, f"could not observe: {missing.reason}"
    except Exception as error:  # noqa: BLE001
        observed, summary = None, f"could not observe: {describe(error)}"
    confirmed = [c for c in causes if c.verdict is CauseVerdict.CONFIRMED]
    if observed or confirmed:
        if observed and not confirmed:
            summary += "; no cause confirmed: escalate (castui bundle, status page, support)"
        return SymptomVerdict.PROBLEM, bool(observed), summary
    if observed is None and any(c.verdict is CauseVerdict.UNKNOWN for c in causes):
        return SymptomVerdict.UNKNOWN, False, summary
    return SymptomVerdict.HEALTHY, False, summary
