"""benchmarks/results/latest.md from latest.json, and the targets table `run.py` prints."""

from __future__ import annotations

from typing import Any


def _s(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "–" if value is None else str(value)
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _x(value: Any) -> str:
    return "–" if value is None else f"×{value:.2f}"


def _spread(series: dict[str, Any]) -> str:
    return f"min {_s(series.get('min'))}, median {_s(series.get('median'))}"


def _floor_note(target: dict[str, Any]) -> str:
    """For a cold target: how far the runbook is above Python and castui's libraries imported alone (the bound)."""
    floor = target.get("stack_floor")
    if not floor:
        return ""
    return (f"; Python importing castui's libraries alone takes {_spread(floor)}: the runbook is "
            f"×{floor['runbook_over_it']['median']} of that (median), the most any castui could be faster")


def render_targets(results: dict[str, Any]) -> str:
    """One line per target: what, goal, ratio (median and min) or value, castui's and the baseline's min and median."""
    m = results["machine"]
    lines = [f"castui benchmark ({results['mode']}, {results['samples']} samples a side after a warm-up, interleaved; "
             f"{m['nproc']} CPUs, load average {m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end)"]
    for target in results["targets"]:
        met = "MET" if target["met"] else "NOT MET"
        if target["id"] == "scale":
            value = (f"first on the fresh lab {_s(target['first_on_fresh_lab_s'])}; {_spread(target['castui'])}; "
                     f"peak {target['peak_rss_mb']} MB; checks not finished: {len(target['unfinished'])}")
        elif target["id"] == "fleet":
            value = (f"×{target['ratio']['median']} (median), ×{target['ratio']['min']} (min); fleet {_spread(target['castui'])}; "
                     f"one cluster {_spread(target['baseline'])}")
        else:
            value = (f"×{target['ratio']['median']} faster (median), ×{target['ratio']['min']} (min); castui {_spread(target['castui'])}; "
                     f"runbook {_spread(target['baseline'])}{_floor_note(target)}")
        lines.append(f"  [{met}] {target['what']}: goal {target['goal']}: {value}")
    return "\n".join(lines)


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        "# castui benchmark", "",
        f"Mode **{results['mode']}**, {results['started_at']}, {results.get('duration_s', '?')} s in all, "
        f"{results['samples']} samples a side after a warm-up round, the sides interleaved. "
        f"Machine: {m['nproc']} CPUs, {m['ram_gb']} GB RAM, Python {m['python']} ({m['platform']}); "
        f"load average {m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end "
        "(other work on the machine shows in absolute times; ratios are within this run).", "",
        "Reproduce: `.venv/bin/python benchmarks/run.py` (`--short`: CI's quick mode).", "",
        "## Targets", "",
        "| target | goal | result | met |", "| --- | --- | --- | --- |",
    ]
    for target in results["targets"]:
        if target["id"] == "scale":
            result = (f"first run on the fresh lab {_s(target['first_on_fresh_lab_s'])}; {_spread(target['castui'])}; "
                      f"peak {target['peak_rss_mb']} MB; checks not finished: {', '.join(target['unfinished']) or 'none'}")
        elif target["id"] == "fleet":
            result = (f"**×{target['ratio']['median']}** (median), ×{target['ratio']['min']} (min); fleet {_spread(target['castui'])}, "
                      f"one cluster {_spread(target['baseline'])}")
        else:
            result = (f"**×{target['ratio']['median']} faster** (median), ×{target['ratio']['min']} (min); castui "
                      f"{_spread(target['castui'])}, runbook {_spread(target['baseline'])}{_floor_note(target)}")
            if target.get("engine"):
                result += (f"; the engine's re-run alone (`Session.diagnose`) {_spread(target['engine'])}, "
                           f"×{target['engine_ratio']['median']} (median)")
        out.append(f"| {target['what']} | {target['goal']} | {result} | {'yes' if target['met'] else '**no**'} |")

    out += ["", "## castui diagnose against the runbook (the demo lab, all ten symptoms)", "",
            "| latency | cold CLI | re-run on the screen | re-run, engine only | runbook | CLI speed-up | re-run speed-up (screen, engine) "
            "| requests (CLI / runbook) | CLI peak RSS | floor | load average | same verdicts |",
            "| ---: | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for run in results["diagnose"]:
        c, r, a, b = run["castui_cli"], run["castui_rerun"], run["castui_rerun_app"], run["runbook"]
        out.append(f"| {run['latency_s'] * 1000:.0f} ms | {_spread(c)} | {_spread(a)} | {_spread(r)} | {_spread(b)} | "
                   f"{_x(run['cli_speedup']['median'])} | {_x(run['rerun_app_speedup']['median'])}, {_x(run['rerun_speedup']['median'])} | "
                   f"{c['requests']} / {b['requests']} | "
                   f"{c['peak_rss_mb']} MB | {_s(run['floor']['floor_s'])}{'' if run['floor_holds'] else ' (above a castui run!)'} | "
                   f"{run['load_average']['before']} → {run['load_average']['after']} | {'yes' if run['same_verdicts'] else 'NO'} |")
    floors = [run for run in results["diagnose"] if run.get("import_floors")]
    if floors:
        out += ["", "Import floors, interleaved with the sides above in the same run: a new Python process that only imports, "
                "no castui. The runbook's time over a floor is the most any program on that stack could gain on it.", "",
                "| latency | `python -c` | wall | runbook ÷ it (median, min) |", "| ---: | --- | --- | ---: |"]
        for run in floors:
            for floor in run["import_floors"].values():
                code = floor["command"].split("; ")[-1]
                out.append(f"| {run['latency_s'] * 1000:.0f} ms | `{code}` | {_spread(floor)} | "
                           f"{_x(floor['runbook_over_it']['median'])}, {_x(floor['runbook_over_it']['min'])} |")
    first = results["diagnose"][0]["runbook"] if results["diagnose"] else {}
    if first:
        out += ["", f"The runbook ran {first['commands']} commands one after another (kubectl's discovery cache warm), "
                "each a new process as castui's CLI is. Not runnable here, so not timed (the runbook is flattered):"]
        out += [f"- {s['symptom']}: `{s['command'][:90]}`: {s['why']}" for s in first["skipped"]]
        failed = {cmd for run in results["diagnose"] for cmd in run["runbook"]["failed"]}
        if failed:
            out += ["", "Runbook commands that exited non-zero (timed anyway): " + ", ".join(f"`{f[:60]}`" for f in sorted(failed))]
    out += ["", "Cold CLI: `castui diagnose --format json` in a new process, default flags. Re-run on the screen: the app "
            "itself, headless at 120×40, all ten symptoms run once, then `r`, timed until the re-run's results are drawn: "
            "what a user waits for. Re-run, engine only: `Session.diagnose()` again in a session that already ran once "
            "(connections warm, the cluster id known), the part of that wait that is not drawing. Floor: castui's "
            "slowest single request replayed alone on a warm connection, best of five: no castui run can be faster. "
            "Peak RSS: VmHWM of castui's own process."]

    big = results.get("big_cluster")
    if big:
        out += ["", f"## A big cluster: `{big['spec']}`", "",
                f"{big['objects']} objects; the lab built in {_s(big['lab_build_s'])} and encoded its big lists in "
                f"{_s(big['lab_encode_s'])} (as a real API server's watch cache holds them) before the first diagnosis.", "",
                "| run | wall | peak RSS | requests | checks not finished |", "| --- | ---: | ---: | ---: | --- |"]
        for i, run in enumerate(big["runs"]):
            out.append(f"| {'first, fresh lab' if i == 0 else i + 1} | {_s(run['wall_s'])} | {run['peak_rss_mb']} MB | "
                       f"{run['requests']} | {', '.join(run['unfinished']) or 'none'} |")
        out.append(f"\nLoad average {big['load_average']['before']} → {big['load_average']['after']}.")

    f = results.get("fleet")
    if f:
        one, many = f["one cluster"], f["fleet"]
        out += ["", f"## Fleet: {f['clusters']} lab clusters at {f['latency_s'] * 1000:.0f} ms, default flags", "",
                "| run | command | wall | peak RSS (parent) | requests |", "| --- | --- | --- | ---: | ---: |",
                f"| one cluster | `castui diagnose --context …` | {_spread(one)} | {one['peak_rss_mb']} MB | {one['requests']} |",
                f"| fleet | `castui diagnose --all-contexts` ({many['processes']} processes) | {_spread(many)} | "
                f"{many['peak_rss_mb']} MB | {many['requests']} |", "",
                f"Fleet ÷ one cluster: **×{f['ratio']['median']}** (medians), ×{f['ratio']['min']} (minima). The CAST AI "
                f"cluster list was fetched {many['cluster_list_requests']}× for {many['clusters_reported']} clusters; "
                f"clusters not fully checked: {', '.join(many['unknown_clusters']) or 'none'}. "
                f"Load average {f['load_average']['before']} → {f['load_average']['after']}."]
        if "cpu_s" in many:
            out += ["", f"CPU (medians): castui {_s(one['cpu_s']['median'])} for one cluster, {_s(many['cpu_s']['median'])} for "
                    f"the fleet (its worker processes included); the lab, answering on the same "
                    f"{results['machine']['nproc']} cores, {_s(one['lab_cpu_s']['median'])} and {_s(many['lab_cpu_s']['median'])}. "
                    "castui and the lab together need this much CPU however the clusters are spread: against a remote "
                    "fleet the lab's share would be the clusters' own API servers'."]

    out += ["", "## App start (`castui` in tmux, 120×40, one sample each)", "",
            "| latency | first frame | first check result | all checks | note |", "| ---: | ---: | ---: | ---: | --- |"]
    for start in results.get("app_start", []):
        note = start.get("skipped") or start.get("timed_out") or ""
        out.append(f"| {start.get('latency_s', 0) * 1000:.0f} ms | {_s(start.get('first_frame_s'))} | "
                   f"{_s(start.get('first_check_result_s'))} | {_s(start.get('all_checks_s'))} | {note[:120]} |")

    ui = results.get("ui_load", {})
    out += ["", "## The app's widgets under load (not a path a user reaches)", ""]
    if "skipped" in ui:
        out.append(f"Skipped: {ui['skipped']}")
    else:
        out += [f"`LogView` with {ui['lines']:,} lines and `EvidenceTable` with {ui['rows']:,} rows, fed directly, headless "
                "(120×40). castui itself shows at most 50 lines of an agent log; these time the widgets, not a diagnosis.", "",
                "| what | time |", "| --- | ---: |"]
        out += [f"| {key.removesuffix('_s').replace('_', ' ')} | {_s(value)} |" for key, value in ui.items() if key.endswith("_s")]
        out.append(f"| peak RSS | {ui.get('peak_rss_mb')} MB |")

    i = results.get("imports", {})
    out += ["", "## Start-up cost", "",
            f"`castui --help`: {_s(i.get('help_wall_s'))} (best of 5); imports kubernetes: "
            f"**{'yes' if i.get('imports_kubernetes') else 'no'}**, textual: **{'yes' if i.get('imports_textual') else 'no'}** "
            f"(`python -X importtime`; heavy packages imported: {', '.join(i.get('heavy_imports') or []) or 'none'}; "
            f"castui.cli {i.get('castui_cli_import_ms')} ms cumulative)."]
    return "\n".join(out) + "\n"
