"""`castui diagnose --format text`: for people, and for screen readers.

Confirmed causes first, each with its fix; no box drawing that carries meaning;
every state is a word and a symbol, colour only decorates (and goes with NO_COLOR).
"""

from __future__ import annotations

from castui.diagnosis import CauseVerdict, Diagnosis, SymptomVerdict
from castui.report.redact import Redactor
from castui.report.symbols import CAUSE, SYMPTOM, cause_badge, suppression_text
from castui.sanitise import printable
from castui.words import counted, symptom_summary

ANSI = {"red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m", "blue": "\x1b[34m", "dark_orange": "\x1b[35m",
        "bold": "\x1b[1m", "dim": "\x1b[2m"}
RESET = "\x1b[0m"
ORDER = [SymptomVerdict.PROBLEM, SymptomVerdict.UNKNOWN, SymptomVerdict.HEALTHY]


def headline(diagnosis: Diagnosis) -> str:
    t = diagnosis.target
    where = [f"context {t.context or '?'}", f"cluster {t.cluster_id or 'unknown'}" + (f" ({t.cluster_name})" if t.cluster_name else ""),
             f"namespace {t.namespace}"]
    if t.lab:
        where.append(f"lab scenario {t.lab}")
    if t.bundle:
        where.append(f"replay of {t.bundle} captured {t.captured_at:%Y-%m-%d %H:%M} UTC" if t.captured_at else f"replay of {t.bundle}")
    return f"castui {diagnosis.castui_version}: " + ", ".join(where)


def summary_line(diagnosis: Diagnosis) -> str:
    counts = {v: sum(1 for s in diagnosis.symptoms if s.verdict is v) for v in ORDER}
    confirmed = len(diagnosis.confirmed())
    latent = sum(1 for s in diagnosis.symptoms for c in s.causes if c.verdict is CauseVerdict.LATENT)
    risks = f", {counted(latent, 'latent risk')}" if latent else ""
    return (f"{counted(counts[SymptomVerdict.PROBLEM], 'problem')}, {counts[SymptomVerdict.UNKNOWN]} unknown, "
            f"{counts[SymptomVerdict.HEALTHY]} healthy; {counted(confirmed, 'cause')} confirmed{risks} (exit {diagnosis.exit_code})")


def render_text(diagnosis: Diagnosis, redactor: Redactor, *, color: bool = False, verbose: bool = False) -> str:
    out: list[tuple[str, str | None]] = []  # (line, style): data is made printable before any colour goes on

    def add(text: str, style: str | None = None) -> None:
        out.append((text, style))

    def paint(text: str, style: str | None) -> str:
        return f"{ANSI[style]}{text}{RESET}" if color and style in ANSI else text

    add(headline(diagnosis), "bold")
    add("")
    for symptom in sorted(diagnosis.symptoms, key=lambda s: ORDER.index(s.verdict)):
        symbol, word, style = SYMPTOM[symptom.verdict]
        add(f"{symbol} {word}: {symptom.id}: {symptom.title}", style)
        add(f"    {symptom_summary(symptom)}")
        for cause in symptom.causes:
            if cause.verdict is CauseVerdict.RULED_OUT and not verbose and symptom.verdict is SymptomVerdict.HEALTHY:
                continue
            c_symbol, c_word, c_style = cause_badge(cause)
            add(f"    {c_symbol} {c_word}: {cause.id}: {cause.reason}", c_style)
            if note := suppression_text(cause):
                add(f"        {note}")
            if cause.fix and cause.verdict in (CauseVerdict.CONFIRMED, CauseVerdict.LATENT):
                change = "changes the cluster" if cause.fix.mutates else "read-only"
                kind = "fix" if cause.verdict is CauseVerdict.CONFIRMED else "to remove the risk"
                add(f"        {kind} ({change}): {cause.fix.title}")
                for line in cause.fix.shell_lines():
                    for i, part in enumerate(line.split("\n")):  # a newline inside a quoted argument stays in it
                        add("          " + ("$ " if i == 0 else "  ") + part)
                if cause.fix.note:
                    add(f"        note: {cause.fix.note}")
        failed = [c for c in symptom.checks if c.reason]
        for check in failed:
            add(f"    ? could not check {check.id}: {check.reason}", "yellow")
        add("")
    if diagnosis.status_page is not None:
        page = diagnosis.status_page
        if page.available:
            add(f"CAST AI status page: {page.description or page.indicator}")
            for i in page.incidents:
                add(f"  incident: {i.get('name')} ({i.get('status')}, impact {i.get('impact')})")
        else:
            add(f"CAST AI status page: {page.reason or 'status page unavailable'}")
        add("")
    if any(s.verdict is SymptomVerdict.PROBLEM and not any(c.verdict is CauseVerdict.CONFIRMED for c in s.causes)
           for s in diagnosis.symptoms):
        add("Some problems have no confirmed cause: run `castui bundle` and `castui report` for the support hand-off.")
    add(summary_line(diagnosis))
    return redactor.text("\n".join(paint(printable(text), style) for text, style in out)) + "\n"


def verdict_words() -> dict[str, str]:
    return {v.value: w for v, (_, w, _) in CAUSE.items()}
