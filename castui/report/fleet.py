"""A fleet's findings as a matrix: clusters × symptoms, confirmed causes named.

Text fits a terminal: numbered symptom columns with a legend, one symbol per cell
(a word for each symbol in the legend, so nothing depends on colour), then the
confirmed causes by cluster and by cause. Markdown is a ticket's table with the
cause ids in the cells.
"""

from __future__ import annotations

from castui.diagnosis import CauseVerdict, SymptomResult, SymptomVerdict
from castui.engine.fleet import FleetCluster, FleetReport
from castui.report.redact import Redactor
from castui.report.symbols import SYMPTOM
from castui.report.text import ANSI, RESET

#: the widest cluster column before names are cut
NAME_WIDTH = 36


def cluster_state(cluster: FleetCluster) -> tuple[str, str, str]:
    """(symbol, words, style) for a whole cluster."""
    symbol, words, _, style = _state(cluster)
    return symbol, words, style


def cluster_state_short(cluster: FleetCluster) -> tuple[str, str, str]:
    """(symbol, at most ten characters, style): the state where the fleet screen has little room."""
    symbol, _, short, style = _state(cluster)
    return symbol, short, style


def _state(cluster: FleetCluster) -> tuple[str, str, str, str]:
    confirmed = len(cluster.diagnosis.confirmed())
    if confirmed:
        return "✗", f"{confirmed} confirmed", f"{confirmed} cause{'' if confirmed == 1 else 's'}", "red"
    if cluster.error or cluster.diagnosis.exit_code == 3:
        return "?", "could not check all", "partial", "yellow"
    if any(s.verdict is SymptomVerdict.PROBLEM for s in cluster.diagnosis.symptoms):
        return "✗", "problem, no cause confirmed", "problem", "red"
    return "✓", "all clear", "clear", "green"


def headline(report: FleetReport) -> str:
    states = [cluster_state(c)[1] for c in report.clusters]
    confirmed = sum(1 for c in report.clusters if c.diagnosis.confirmed())
    unknown = sum(1 for s in states if s == "could not check all")
    clear = sum(1 for s in states if s == "all clear")
    return (f"{len(report.clusters)} clusters: {confirmed} with confirmed causes, {unknown} not fully checked, "
            f"{clear} all clear (exit {report.exit_code})")


def _by_id(cluster: FleetCluster) -> dict[str, SymptomResult]:
    return {s.id: s for s in cluster.diagnosis.symptoms}


def cell_symbol(result: SymptomResult | None) -> tuple[str, str]:
    """A symptom's cell in the fleet matrix: its verdict's symbol, or `!` for a healthy one with a latent risk."""
    if result is None:
        return "·", "dim"
    if result.verdict is SymptomVerdict.HEALTHY and any(c.verdict is CauseVerdict.LATENT for c in result.causes):
        return "!", "dark_orange"
    symbol, _, style = SYMPTOM[result.verdict]
    return symbol, style


def render_fleet_text(report: FleetReport, redactor: Redactor, *, color: bool = False) -> str:
    def paint(text: str, style: str) -> str:
        return f"{ANSI[style]}{text}{RESET}" if color and style in ANSI else text

    width = min(NAME_WIDTH, max([len(c.context) for c in report.clusters] + [7]))
    numbers = [str(i + 1) for i in range(len(report.symptoms))]
    col = max(len(n) for n in numbers) + 1
    out = [paint(f"castui {report.castui_version}: fleet of {len(report.clusters)} clusters", "bold"), ""]
    out.append(" " * (width + 3) + "".join(n.rjust(col) for n in numbers))
    for cluster in report.clusters:
        symbol, words, style = cluster_state(cluster)
        name = cluster.context if len(cluster.context) <= width else cluster.context[: width - 1] + "…"
        results = _by_id(cluster)
        cells = []
        for symptom_id in report.symptoms:
            cell, cell_style = cell_symbol(results.get(symptom_id))
            cells.append(" " * (col - 1) + paint(cell, cell_style))
        out.append(f"{paint(symbol, style)} {name:<{width}}  " + "".join(cells) + "   " + paint(words, style))
    out.append("")
    out += _wrapped("symptoms: ", [f"{i + 1} {s}" for i, s in enumerate(report.symptoms)])
    out.append("cells: ✓ healthy  ✗ problem  ? could not check  ! latent risk")

    with_causes = [c for c in report.clusters if c.diagnosis.confirmed()]
    if with_causes:
        out += ["", paint("confirmed causes:", "bold")]
        for cluster in with_causes:
            out.append(f"  {cluster.context}")
            for symptom_id, causes in cluster.confirmed_by_symptom().items():
                words = [f"{cause}," for cause in causes[:-1]] + causes[-1:]
                out += [paint(line, "red") for line in _wrapped(f"    ✗ {symptom_id}: ", words, width=100)]
    latent = [(cluster, s.id, c.id) for cluster in report.clusters for s in cluster.diagnosis.symptoms for c in s.causes
              if c.verdict is CauseVerdict.LATENT]
    if latent:
        out += ["", paint("latent risks (nothing observed yet; exit code unaffected):", "bold")]
        out += [f"  ! {cluster.context}: {symptom_id}: {cause_id}" for cluster, symptom_id, cause_id in latent]
    problems = [(c, s) for c in report.clusters for s in c.diagnosis.symptoms
                if s.verdict is SymptomVerdict.PROBLEM and not any(x.verdict is CauseVerdict.CONFIRMED for x in s.causes)]
    if problems:
        out += ["", paint("problems without a confirmed cause (escalate: castui bundle, castui report):", "bold")]
        out += [f"  {c.context}: {s.id}: {s.summary}" for c, s in problems]
    unreachable = [c for c in report.clusters if c.error]
    if unreachable:
        out += ["", paint("could not check:", "bold")]
        out += [paint(f"  ? {c.context}: {c.error}", "yellow") for c in unreachable]
    if report.summary:
        # "cause  contexts", no colon: "invalid-api-key: name" reads to the redactor like a secret
        cause_width = max(len(cause) for cause in report.summary)
        out += ["", paint("by cause (where confirmed):", "bold")]
        out += [f"  {cause:<{cause_width}}  {', '.join(contexts)}" for cause, contexts in report.summary.items()]
    if report.status_page is not None:
        page = report.status_page
        text = (page.description or page.indicator) if page.available else (page.reason or "status page unavailable")
        out += ["", f"CAST AI status page: {text}"]
    out += ["", "details and fixes of one cluster: castui diagnose --context NAME", headline(report)]
    return redactor.text("\n".join(out)) + "\n"


def _wrapped(lead: str, words: list[str], width: int = 80) -> list[str]:
    """`words` two spaces apart, in lines of at most `width`, each after `lead` (or as much space)."""
    lines, line = [], ""
    for word in words:
        if line and len(lead) + len(line) + 2 + len(word) > width:
            lines.append(line)
            line = ""
        line = f"{line}  {word}" if line else word
    lines.append(line)
    return [(lead if i == 0 else " " * len(lead)) + text for i, text in enumerate(lines)]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_fleet_markdown(report: FleetReport, redactor: Redactor) -> str:
    out = ["# castui fleet diagnosis", "", f"**{headline(report)}**", "",
           "| Cluster | " + " | ".join(f"`{s}`" for s in report.symptoms) + " |",
           "| --- |" + " --- |" * len(report.symptoms)]
    for cluster in report.clusters:
        symbol, _, _ = cluster_state(cluster)
        results = _by_id(cluster)
        cells = []
        for symptom_id in report.symptoms:
            result = results.get(symptom_id)
            if result is None:
                cells.append("·")
                continue
            confirmed = [c.id for c in result.causes if c.verdict is CauseVerdict.CONFIRMED]
            latent = [c.id for c in result.causes if c.verdict is CauseVerdict.LATENT]
            cell_symbol = SYMPTOM[result.verdict][0]
            if confirmed:
                cells.append(f"{cell_symbol} " + "<br>".join(f"`{c}`" for c in confirmed))
            elif latent and result.verdict is SymptomVerdict.HEALTHY:
                cells.append("✓ ! latent " + "<br>".join(f"`{c}`" for c in latent))
            else:
                cells.append({SymptomVerdict.HEALTHY: "✓", SymptomVerdict.UNKNOWN: "? could not check",
                              SymptomVerdict.PROBLEM: "✗ no cause confirmed"}[result.verdict])
        out.append(f"| {symbol} `{_md(cluster.context)}` | " + " | ".join(cells) + " |")
    if report.summary:
        out += ["", "## Confirmed causes", "", "| Cause | Clusters |", "| --- | --- |"]
        out += [f"| `{cause}` | " + ", ".join(f"`{_md(c)}`" for c in contexts) + " |" for cause, contexts in report.summary.items()]
    unreachable = [c for c in report.clusters if c.error]
    if unreachable:
        out += ["", "## Could not check", ""]
        out += [f"- `{_md(c.context)}`: {_md(c.error or '')}" for c in unreachable]
    if report.status_page is not None:
        page = report.status_page
        out += ["", "## CAST AI status page", "",
                (page.description or page.indicator or "") if page.available else (page.reason or "status page unavailable")]
    out += ["", "Details and fixes of one cluster: `castui diagnose --context NAME --format markdown`."]
    return redactor.text("\n".join(out)) + "\n"
