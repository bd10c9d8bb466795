"""The support hand-off (the Escalation section of the guide): `castui report` writes the text of a
ticket: who and where, what castui found, what was tried and how it went, the status page, the bundle.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from castui import __version__
from castui.diagnosis import CauseVerdict, Diagnosis, Evidence, SymptomVerdict
from castui.words import json_path_line

if TYPE_CHECKING:
    from castui.engine.session import Session

#: evidence lines quoted per confirmed cause: enough to recognise it, short enough for a ticket
EVIDENCE_LINES = 6


@contextlib.asynccontextmanager
async def open_session(settings: Any, lab: Any = None) -> AsyncIterator["Session"]:
    """A session on the target `resolved_settings` chose: a cluster, a lab, or a replayed bundle."""
    from castui.engine.session import Session

    bundle = getattr(lab, "bundle", None)
    async with Session(settings, lab=None if lab is None or bundle else getattr(lab, "scenario", None),
                       bundle=bundle, captured_at=getattr(lab, "captured_at", None),
                       source=getattr(lab, "source", None), kube_cluster=getattr(lab, "kube_cluster", None)) as session:
        yield session


def audit_entries(cluster_id: str | None, context: str | None) -> list[dict[str, Any]]:
    """Audit log entries (fixes run, API changes, re-checks) whose target is this cluster."""
    from castui.engine.execute import read_audit

    return [entry for entry in read_audit(limit=2000) if _is_target(str(entry.get("target") or ""), cluster_id, context)]


def _is_target(target: str, cluster_id: str | None, context: str | None) -> bool:
    if cluster_id and cluster_id in target:
        return True
    # targets read "context NAME, cluster ID" (Session.audit_target); a bare context name also counts
    return bool(context) and (target == context or re.search(rf"(^|\bcontext ){re.escape(context or '')}(,|$)", target) is not None)


def build_report(session: "Session", diagnosis: Diagnosis | None, bundle_path: "str | os.PathLike[str] | None" = None, *,
                 fmt: str = "markdown") -> str:
    """The ticket text, redacted; `fmt` is "markdown" or "text". Fixes tried come from the audit log,
    which `run_command`, `apply_api_call` and `Session.recheck` write, so a report made later still has them.
    With no diagnosis yet (the app before its first run), the report says so."""
    from castui.redaction import redactor_for

    doc = _Document(markdown=fmt == "markdown")
    target = diagnosis.target if diagnosis else session.target()
    doc.heading("CAST AI support report")
    facts = [
        ("Cluster id", target.cluster_id or "unknown"),
        ("Cluster name", target.cluster_name or "unknown"),
        ("Kube context", target.context or "unknown"),
        ("Region", target.region or "unknown"),
        ("CAST AI namespace", target.namespace),
        ("API", target.api_url or "unknown"),
        ("castui version", __version__),
    ]
    if diagnosis:
        facts.append(("Checked at", f"{diagnosis.generated_at:%Y-%m-%d %H:%M:%S} UTC"))
    if target.bundle:
        facts.append(("Replayed from", f"{target.bundle} (captured {target.captured_at:%Y-%m-%d %H:%M:%S} UTC)"
                      if target.captured_at else target.bundle))
    for name, value in facts:
        shown = doc.words(value) if name in OUTSIDE_FACTS else value
        doc.item(f"**{name}:** {shown}" if doc.markdown else f"{name}: {shown}")

    doc.heading("Findings")
    if diagnosis:
        _findings(doc, diagnosis)
    else:
        doc.item("no diagnosis has finished yet")

    doc.heading("Fixes tried")
    tried = [e for e in audit_entries(target.cluster_id, target.context) if e.get("kind") in ("command", "api", "recheck")]
    for entry in tried:
        doc.item(_audit_line(entry, doc.code))
    if not tried:
        doc.item("none recorded by castui for this cluster")

    doc.heading("CAST AI status page")
    page = diagnosis.status_page if diagnosis else None
    if page is None:
        doc.item("not checked")
    elif page.available:
        doc.item(doc.words(f"{page.description or page.indicator} (indicator {page.indicator or '?'})"))
        for incident in page.incidents:
            doc.item(doc.words(f"incident: {incident.get('name')} ({incident.get('status')}, impact {incident.get('impact')}, "
                               f"since {incident.get('created_at')}) {incident.get('shortlink') or ''}".rstrip()), 1)
        if page.reason:
            doc.item(doc.words(page.reason))
    else:
        doc.item(doc.words(page.reason or "status page unavailable"))

    doc.heading("Debug bundle")
    doc.item(doc.code(os.fspath(bundle_path)) if bundle_path else f"none attached: run {doc.code('castui bundle')} and attach the .tar.gz")
    return redactor_for(session.settings).text(doc.text())


#: the report's facts that come from the cluster, the kubeconfig or the API (escaped); the rest are castui's
OUTSIDE_FACTS = ("Cluster id", "Cluster name", "Kube context", "Region", "API")


class _Document:
    """Markdown for a ticket, or plain text for a form that shows text as is."""

    def __init__(self, *, markdown: bool) -> None:
        self.markdown = markdown
        self.lines: list[str] = []

    def heading(self, text: str) -> None:
        if not self.lines:
            self.lines += [f"# {text}" if self.markdown else text, ""]
        else:
            self.lines += ["", f"## {text}" if self.markdown else text.upper(), ""]

    def item(self, text: str, depth: int = 0) -> None:
        self.lines.append("  " * depth + "- " + text)

    def code(self, text: str) -> str:
        return "`" + text.replace("`", "'") + "`" if self.markdown else text

    def words(self, text: object) -> str:
        """Outside text (cluster names, reasons, the status page): escaped in Markdown, so no raw HTML
        or markup reaches the ticket; shown printable in plain text."""
        from castui.sanitise import markdown_text, printable

        return markdown_text(text) if self.markdown else printable(str(text))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _findings(doc: _Document, diagnosis: Diagnosis) -> None:
    code = doc.code
    confirmed = diagnosis.confirmed()
    for symptom, cause in confirmed:
        doc.item(f"{code(cause.id)} confirmed (symptom {code(symptom.id)}): {doc.words(cause.reason)}")
        for line in key_evidence(cause.evidence):
            doc.item(code(line), 1)
        if cause.suppressed:
            doc.item(f"accepted as known: {doc.words(cause.suppressed.reason)}", 1)
    unexplained = [s for s in diagnosis.symptoms
                   if s.verdict is SymptomVerdict.PROBLEM and not any(c.verdict is CauseVerdict.CONFIRMED for c in s.causes)]
    for symptom in unexplained:
        doc.item(f"{code(symptom.id)} observed with no confirmed cause: {doc.words(symptom.summary)}")
    unknown = [(s, c) for s in diagnosis.symptoms for c in s.causes if c.verdict is CauseVerdict.UNKNOWN]
    for symptom, cause in unknown:
        doc.item(f"{code(cause.id)} could not be checked (symptom {code(symptom.id)}): {doc.words(cause.reason)}")
    latent = [(s, c) for s in diagnosis.symptoms for c in s.causes if c.verdict is CauseVerdict.LATENT]
    for symptom, cause in latent:
        doc.item(f"{code(cause.id)} latent risk, its symptom not observed (symptom {code(symptom.id)}): {doc.words(cause.reason)}")
    if not (confirmed or unexplained or unknown or latent):
        doc.item("castui found nothing wrong: every cause it knows was ruled out")
    doc.lines += ["", f"Exit code {diagnosis.exit_code}; {len(diagnosis.symptoms)} symptoms checked."]


def key_evidence(evidence: list[Evidence]) -> list[str]:
    """The evidence lines that matter: highlighted log lines first, else the first lines of each piece."""
    lines: list[str] = []
    for piece in evidence:
        chosen = [piece.lines[i] for i in piece.highlight if 0 <= i < len(piece.lines)] if piece.kind == "log" else []
        if piece.kind == "json" and piece.path:
            chosen = [line] if (line := json_path_line(piece.data, piece.path)) else []
        chosen = chosen or piece.lines[:2]
        lines.extend(f"{piece.title}: {line}" if piece.title else line for line in chosen)
    unique = dict.fromkeys(" ".join(line.split())[:300] for line in lines)  # one line may be quoted twice
    return list(unique)[:EVIDENCE_LINES]


def _audit_line(entry: dict[str, Any], code: Any) -> str:
    when = entry.get("time", "?")
    if entry.get("kind") == "recheck":
        verdicts = ", ".join(f"{k} {v}" for k, v in (entry.get("symptoms") or {}).items())
        still = entry.get("still_confirmed") or []
        after = f" after {code(entry['after'])}" if entry.get("after") else ""
        return f"{when} re-check{after}: {verdicts}; " + (f"still confirmed: {', '.join(still)}" if still else "no cause confirmed")
    outcome = "dry run, " if entry.get("dry_run") else ""
    if entry.get("cancelled"):
        outcome += "cancelled"
    elif entry.get("error"):
        outcome += f"failed: {entry['error']}"
    else:
        outcome += f"exit code {entry.get('exit_code')}"
    return f"{when} {code(entry.get('command') or '?')}: {outcome}"
