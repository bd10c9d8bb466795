"""benchmarks/results/latest.md from latest.json: tables with the ratios, and the machine."""

from __future__ import annotations

from typing import Any


def _s(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "–" if value is None else str(value)
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _x(value: Any) -> str:
    return "–" if value is None else f"×{value:.2f}"


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        "# castui benchmark", "",
        f"Mode **{results['mode']}**, {results['started_at']}, {results.get('duration_s', '?')} s in all. "
        f"Machine: {m['nproc']} CPUs, {m['ram_gb']} GB RAM, Python {m['python']} ({m['platform']}); "
        f"load average {m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end "
        "(other work on the machine shows in absolute times; ratios are within this run).", "",
        "Reproduce: `.venv/bin/python benchmarks/run.py` (`--short`: the small lab only).", "",
        "## castui diagnose, all ten symptoms", "",
        "| lab | latency | in-process | CLI, cold | requests | CLI peak RSS | field guide | CLI ÷ guide "
        "| in-process ÷ guide | slowest request | in-process ÷ slowest | JSON decode | in-process ÷ decode | same verdicts |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in results["diagnose"]:
        s, c, g, b, r = run["castui_in_process"], run["castui_cli"], run["baseline"], run["lower_bound"], run["ratios"]
        out.append(f"| {run['size']} | {run['latency_s'] * 1000:.0f} ms | {_s(s['wall_s'])} | {_s(c['wall_s'])} | "
                   f"{s['requests']} (guide {g['requests']}) | {c['peak_rss_mb']} MB | {_s(g['wall_s'])} | "
                   f"{_x(r['cli_vs_baseline'])} | {_x(r['in_process_vs_baseline'])} | {_s(b['slowest_request_s'])} | "
                   f"{_x(r['in_process_vs_lower_bound'])} | {_s(b.get('json_decode_s'))} ({b.get('json_mb')} MB) | "
                   f"{_x(r.get('in_process_vs_json_decode'))} | {'yes' if run['same_verdicts'] else 'NO'} |")
    first = results["diagnose"][0]["baseline"] if results["diagnose"] else {}
    if first:
        out += ["", f"The field guide ran {len(first['commands'])} commands one after another "
                "(kubectl's discovery cache warm). Not runnable here, so not timed:"]
        out += [f"- {s['symptom']}: `{s['command'][:90]}`: {s['why']}" for s in first["skipped"]]
        failed = {cmd for run in results["diagnose"] for cmd in run["baseline"]["failed"]}
        if failed:
            out += ["", "Guide commands that exited non-zero (timed anyway): " + ", ".join(f"`{f[:60]}`" for f in sorted(failed))]
    out += ["", "In-process: `Session.diagnose()` in a warm process (imports paid). CLI: `castui diagnose --format json` "
            "from a cold start. Slowest request: castui's slowest single request, replayed alone at the same latency, "
            "so no run of castui can beat it. JSON decode: the time Python's json takes only to decode every answer "
            "castui got, one after another (castui must at least do that). Peak RSS: VmHWM of castui's own process."]

    out += ["", "## App start (`castui` in tmux, 120×40)", "", "| latency | first frame | first check result | all checks | note |",
            "| ---: | ---: | ---: | ---: | --- |"]
    for start in results.get("app_start", []):
        note = start.get("skipped") or start.get("timed_out") or ""
        out.append(f"| {start.get('latency_s', 0) * 1000:.0f} ms | {_s(start.get('first_frame_s'))} | "
                   f"{_s(start.get('first_check_result_s'))} | {_s(start.get('all_checks_s'))} | {note[:120]} |")

    ui = results.get("ui_load", {})
    out += ["", "## UI under load", ""]
    if "skipped" in ui:
        out.append(f"Skipped: {ui['skipped']}")
    else:
        out += [f"LogView with {ui['lines']:,} lines, EvidenceTable with {ui['rows']:,} rows (headless, 120×40).", "",
                "| what | time |", "| --- | ---: |"]
        out += [f"| {key.removesuffix('_s').replace('_', ' ')} | {_s(value)} |" for key, value in ui.items() if key.endswith("_s")]
        out.append(f"| peak RSS | {ui.get('peak_rss_mb')} MB |")

    f = results.get("fleet")
    if f:
        runs = f["runs"]
        one = runs["one cluster"]
        out += ["", f"## Fleet: {f['clusters']} lab clusters at {f['latency_s'] * 1000:.0f} ms", "",
                f"Cold CLI runs, median of {f.get('repeats', 1)} (every run's wall time in the last column).", "",
                "| run | flags | processes | wall | ÷ one cluster | requests | peak RSS (parent) | runs |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
                f"| one cluster | `--context` | 1 | {_s(one['wall_s'])} | | {one['requests']} | {one['peak_rss_mb']} MB | "
                f"{', '.join(_s(w) for w in one['walls_s'])} |"]
        for label, run in runs.items():
            if label == "one cluster":
                continue
            out.append(f"| {label} | `--all-contexts {run['flags']}` | {run['processes']} | {_s(run['wall_s'])} | "
                       f"**{_x(run['vs_one'])}** | {run['requests']} | {run['peak_rss_mb']} MB | "
                       f"{', '.join(_s(w) for w in run['walls_s'])} |")
        first = next(run for label, run in runs.items() if label != "one cluster")
        out += ["", f"The CAST AI cluster list (castui's key) was fetched {first['cluster_list_requests']}× for "
                f"{first['clusters_reported']} clusters; clusters not fully checked: "
                f"{', '.join(first['unknown_clusters']) or 'none'}."]

    i = results.get("imports", {})
    out += ["", "## Start-up cost", "",
            f"`castui --help`: {_s(i.get('help_wall_s'))} (best of 5); imports kubernetes: "
            f"**{'yes' if i.get('imports_kubernetes') else 'no'}**, textual: **{'yes' if i.get('imports_textual') else 'no'}** "
            f"(`python -X importtime`; heavy packages imported: {', '.join(i.get('heavy_imports') or []) or 'none'}; "
            f"castui.cli {i.get('castui_cli_import_ms')} ms cumulative)."]
    return "\n".join(out) + "\n"
