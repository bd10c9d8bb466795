"""Every state has a word and a symbol beside its colour, so nothing depends on colour alone."""

from __future__ import annotations

from castui.diagnosis import CauseResult, CauseVerdict, CheckStatus, SymptomVerdict

CAUSE = {
    CauseVerdict.CONFIRMED: ("✗", "confirmed", "red"),
    CauseVerdict.LATENT: ("!", "latent", "dark_orange"),
    CauseVerdict.RULED_OUT: ("✓", "ruled out", "green"),
    CauseVerdict.UNKNOWN: ("?", "could not check", "yellow"),
}
SYMPTOM = {
    SymptomVerdict.PROBLEM: ("✗", "PROBLEM", "red"),
    SymptomVerdict.HEALTHY: ("✓", "HEALTHY", "green"),
    SymptomVerdict.UNKNOWN: ("?", "UNKNOWN", "yellow"),
}
CHECK = {
    CheckStatus.PENDING: ("·", "waiting", "grey50"),
    CheckStatus.RUNNING: ("…", "running", "cyan"),
    CheckStatus.OK: ("✓", "done", "green"),
    CheckStatus.FAILED: ("?", "could not check", "yellow"),
}
SUPPRESSED = ("~", "suppressed", "blue")


def cause_badge(cause: CauseResult) -> tuple[str, str, str]:
    if cause.suppressed and not cause.suppressed.expired:
        return SUPPRESSED
    return CAUSE[cause.verdict]


def suppression_text(cause: CauseResult) -> str | None:
    s = cause.suppressed
    if s is None:
        return None
    until = f", until {s.until}" if s.until else ""
    state = "expired suppression" if s.expired else "suppressed"
    return f"{state}: {s.reason}{until} (by {s.by})"
