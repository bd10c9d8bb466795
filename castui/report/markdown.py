"""`castui diagnose --format markdown`: ready to paste into a ticket or a chat."""

from __future__ import annotations

from castui.diagnosis import CauseVerdict, Diagnosis
from castui.report.redact import Redactor
from castui.report.symbols import SYMPTOM, cause_badge, suppression_text
from castui.report.text import ORDER, headline, printable, summary_line
from castui.sanitise import code_fence, markdown_text
from castui.words import symptom_summary


def _cell(text: str) -> str:
    return markdown_text(text.replace("\n", " "))


#: words from the cluster, the API and the status page are escaped: no raw HTML or markup reaches a ticket
md = markdown_text


def render_markdown(diagnosis: Diagnosis, redactor: Redactor) -> str:
    out = ["# castui diagnosis", "", md(headline(diagnosis)), "", f"**{summary_line(diagnosis)}**", "",
           "| Symptom | Verdict | Summary |", "| --- | --- | --- |"]
    ordered = sorted(diagnosis.symptoms, key=lambda s: ORDER.index(s.verdict))
    for symptom in ordered:
        symbol, word, _ = SYMPTOM[symptom.verdict]
        out.append(f"| `{symptom.id}` | {symbol} {word} | {_cell(symptom_summary(symptom))} |")
    for symptom in ordered:
        out += ["", f"## {symptom.title} (`{symptom.id}`)", ""]
        for cause in symptom.causes:
            symbol, word, _ = cause_badge(cause)
            out.append(f"- {symbol} **{word}** `{cause.id}`: {md(cause.reason)}")
            if note := suppression_text(cause):
                out.append(f"  - {md(note)}")
            if cause.fix and cause.verdict in (CauseVerdict.CONFIRMED, CauseVerdict.LATENT):
                kind = "Fix" if cause.verdict is CauseVerdict.CONFIRMED else "To remove the risk"
                lines = "\n".join(cause.fix.shell_lines()).splitlines()
                fence = code_fence(lines)  # longer than any backtick run inside: a command cannot close it
                out += [f"  - {kind}: {md(cause.fix.title)}" + (" (changes the cluster)" if cause.fix.mutates else ""), "",
                        f"    {fence}sh"]
                out += ["    " + line for line in lines]
                out += [f"    {fence}", ""]
        for check in symptom.checks:
            if check.reason:
                out.append(f"- ? could not check `{check.id}`: {md(check.reason)}")
    if diagnosis.status_page is not None:
        page = diagnosis.status_page
        out += ["", "## CAST AI status page", "",
                md((page.description or page.indicator or "") if page.available else (page.reason or "status page unavailable"))]
    # names from the cluster may carry terminal escapes: show them, never send them
    return redactor.text("\n".join(printable(line) for line in "\n".join(out).split("\n"))) + "\n"
