"""castui's benchmark: `.venv/bin/python benchmarks/run.py [--short]`.

Measures, in one run on this machine, `castui diagnose` (all ten symptoms) against the
lab at three sizes (small / 500 nodes / 5,000 nodes with 100,000 pods; `--short`: small
only) at 0 and 50 ms of added latency per request:

- castui in-process (`Session.diagnose`, imports already paid) and the CLI from a cold
  start: wall time, requests the lab served, peak memory (each in its own process);
- the baseline: the field guide's own kubectl/curl commands, run one after another
  (`baseline.py`); castui's time as a ratio of it;
- the lower bound: the slowest single request castui made, replayed alone at that
  latency; castui's time as a ratio of it;
- app start in tmux (first frame, first check result, all checks), the log view with
  1,000,000 lines and the events table with 100,000 rows, a fleet of 20 lab clusters at
  50 ms against one cluster (all at once, with the default bound of 8, and in one process;
  medians of 3), and what `castui --help` imports.

Results go to benchmarks/results/latest.json and latest.md, with the machine they ran on.
Ratios are computed within this run only: never compare absolute times across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from appstart import measure_app_start  # noqa: E402
from baseline import guide_environment, run_guide  # noqa: E402
from probe import MARKER  # noqa: E402
from report import render_markdown  # noqa: E402

SIZES = {"small": "small", "500 nodes": "scale:nodes=500", "5,000 nodes": "scale:nodes=5000,pods=100000"}
LATENCIES = (0.0, 0.05)
#: the slowest requests (by the lab's own route time) replayed for the lower bound
REPLAYED = 12
READY_TIMEOUT_S = 300


class LabProcess:
    """`labproc.py` in a child process; JSON lines over its stdin/stdout."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc = subprocess.Popen([PYTHON, str(HERE / "labproc.py"), kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=ROOT)
        self.info = self._read()
        if not self.info.get("ready"):
            raise RuntimeError(f"lab {kind} did not start: {self.info}")

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=READY_TIMEOUT_S)
            error = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"lab process {self.kind} exited ({self.proc.returncode}): {error[-2000:]}")
        return dict(json.loads(line))

    def send(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"cmd": "stop"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=30)

    def __enter__(self) -> "LabProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def quiet_env(base: dict[str, str], home: Path) -> dict[str, str]:
    """No user config, suppressions or audit log: castui as on a fresh machine, which finds the
    cluster id itself (the guide's CASTAI_CLUSTER_ID is for its curl commands)."""
    env = {k: v for k, v in base.items() if k != "CASTAI_CLUSTER_ID"}
    return {**env, "XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state")}


def cli_flags(info: dict[str, Any], terraform_dir: str | None = None) -> list[str]:
    """What the lab's environment variables cannot say (there is no env for the Helm repo or status page)."""
    flags = ["--helm-repo-url", info["helm_repo_url"], "--status-url", info["status_url"]]
    tf = terraform_dir or info.get("terraform_dir")
    return flags + (["--terraform-dir", tf] if tf else [])


# --- one measurement each -------------------------------------------------------------------------


def castui_session(info: dict[str, Any], home: Path) -> dict[str, Any]:
    settings = {k: info[k] for k in ("kubeconfig", "context", "api_url", "helm_repo_url", "status_url", "terraform_dir") if k in info}
    config = json.dumps({"settings": settings, "api_key": info["api_key"]})
    done = subprocess.run([PYTHON, str(HERE / "probe.py"), "session", config], capture_output=True, text=True, cwd=ROOT,
                          env=quiet_env(dict(os.environ), home), timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the session probe failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def castui_cli(argv: list[str], env: dict[str, str], home: Path) -> dict[str, Any]:
    """The `castui` command from a cold start; its output parsed when it is JSON."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, str(HERE / "probe.py"), "cli", *argv], capture_output=True, text=True, cwd=ROOT,
                          env=quiet_env(env, home), timeout=900)
    wall = time.perf_counter() - started
    marker = next((line for line in done.stderr.splitlines() if line.startswith(MARKER)), None)
    result: dict[str, Any] = {"wall_s": round(wall, 3), "exit_code": done.returncode,
                              "peak_rss_mb": json.loads(marker[len(MARKER):])["peak_rss_mb"] if marker else None}
    if done.returncode not in (0, 1, 3):
        result["error"] = done.stderr[-2000:]
    try:
        result["document"] = json.loads(done.stdout)
    except ValueError:
        pass
    return result


def confirmed_of(document: dict[str, Any]) -> list[str]:
    return sorted(c["id"] for s in document.get("symptoms", []) for c in s["causes"] if c["verdict"] == "confirmed")


def lower_bound(lab: LabProcess, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """Two floors no castui run can beat: its slowest single request, replayed alone (the lab's latency
    still applies), and the time Python's json takes just to decode every answer castui got."""
    import httpx

    slowest = {id(r) for r in sorted(requests, key=lambda r: r["route_s"], reverse=True)[:REPLAYED]}
    worst: dict[str, Any] = {"slowest_request_s": 0.0, "request": None}
    decode_s, decoded_mb = 0.0, 0.0
    with httpx.Client(base_url=lab.info["url"], timeout=120) as client:
        client.get("/version")  # the connection up, as castui's would be
        for request in requests:
            query = urlencode(request["query"], doseq=True)
            began = time.perf_counter()
            response = client.request(request["method"], request["path"] + (f"?{query}" if query else ""),
                                      headers=request["headers"])
            body = response.read()
            took = time.perf_counter() - began
            if id(request) in slowest and took > worst["slowest_request_s"]:
                worst = {"slowest_request_s": round(took, 3), "request": f"{request['method']} {request['path']}"
                         + (f"?{query[:80]}" if query else "")}
            if "json" in response.headers.get("content-type", ""):
                began = time.perf_counter()
                json.loads(body)
                decode_s += time.perf_counter() - began
                decoded_mb += len(body) / 1e6
    return {**worst, "json_decode_s": round(decode_s, 3), "json_mb": round(decoded_mb, 1)}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


# --- the sections -----------------------------------------------------------------------------------


def diagnose_runs(sizes: list[str], home: Path, log: Any) -> list[dict[str, Any]]:
    runs = []
    for size in sizes:
        log(f"lab {size}: building")
        with LabProcess(SIZES[size]) as lab:
            info = lab.info
            log(f"lab {size}: built in {info['build_s']:.1f}s ({info.get('objects', {}).get('pods', '?')} pods)")
            env = guide_environment(info)
            for latency in LATENCIES:
                lab.send(cmd="latency", seconds=latency)
                lab.send(cmd="mark")
                session = castui_session(info, home)
                requests = lab.send(cmd="requests")["requests"]
                session["requests"] = len(requests)
                session["server_route_s"] = round(sum(r["route_s"] for r in requests), 3)
                bound = lower_bound(lab, requests)
                lab.send(cmd="mark")
                cli = castui_cli(["diagnose", "--format", "json", *cli_flags(info)], env, home)
                cli["requests"] = len(lab.send(cmd="requests")["requests"])
                document = cli.pop("document", {})
                cli["confirmed"] = confirmed_of(document)
                guide = run_guide(info, when_warm=lambda: lab.send(cmd="mark"))
                guide["requests"] = len(lab.send(cmd="requests")["requests"])
                run = {
                    "size": size, "latency_s": latency, "lab_objects": info.get("objects"),
                    "castui_in_process": session, "castui_cli": cli, "baseline": guide, "lower_bound": bound,
                    "same_verdicts": session["confirmed"] == cli["confirmed"],
                    "ratios": {
                        "cli_vs_baseline": ratio(cli["wall_s"], guide["wall_s"]),
                        "in_process_vs_baseline": ratio(session["wall_s"], guide["wall_s"]),
                        "in_process_vs_lower_bound": ratio(session["wall_s"], bound["slowest_request_s"]),
                        "cli_vs_lower_bound": ratio(cli["wall_s"], bound["slowest_request_s"]),
                        "in_process_vs_json_decode": ratio(session["wall_s"], bound["json_decode_s"]),
                    },
                }
                log(f"  {size} @ {latency * 1000:.0f} ms: in-process {session['wall_s']:.2f}s, CLI {cli['wall_s']:.2f}s, "
                    f"guide {guide['wall_s']:.2f}s, slowest request {bound['slowest_request_s']:.3f}s, "
                    f"{session['requests']} requests, CLI peak {cli['peak_rss_mb']} MB")
                runs.append(run)
    return runs


def app_start(home: Path, log: Any) -> list[dict[str, Any]]:
    results = []
    with LabProcess("small") as lab:
        info = lab.info
        for latency in LATENCIES:
            lab.send(cmd="latency", seconds=latency)
            argv = [str(ROOT / ".venv" / "bin" / "castui"), *cli_flags(info)]
            measured = measure_app_start(argv, quiet_env(guide_environment(info), home))
            measured["latency_s"] = latency
            log(f"app start @ {latency * 1000:.0f} ms: {measured}")
            results.append(measured)
    return results


def ui_load(lines: int, rows: int, log: Any) -> dict[str, Any]:
    done = subprocess.run([PYTHON, str(HERE / "probe.py"), "ui", str(lines), str(rows)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)
    if done.returncode != 0:
        return {"skipped": f"the UI probe failed: {done.stderr[-1500:]}"}
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    log(f"UI under load: {result}")
    return result


#: fleet runs: (label, extra flags); every run repeated FLEET_REPEATS times, alternating, medians compared
FLEET_RUNS = (
    ("all at once", ["--parallel", "{count}"]),
    ("default (--parallel 8)", []),
    ("all at once, one process", ["--parallel", "{count}", "--processes", "1"]),
)
FLEET_REPEATS = 3


def fleet(count: int, latency: float, home: Path, log: Any, repeats: int = FLEET_REPEATS) -> dict[str, Any]:
    """One cluster (`--context`) against the whole fleet (`--all-contexts`), each a cold CLI, medians of
    `repeats` alternating runs (one run of each swings by ±10% on two busy cores)."""
    with LabProcess(f"fleet:{count}") as lab:
        info = lab.info
        lab.send(cmd="latency", seconds=latency)
        env = {**os.environ, "KUBECONFIG": info["kubeconfig"], "CASTAI_API_URL": info["api_url"], "CASTAI_API_KEY": info["api_key"]}
        flags = ["--helm-repo-url", info["helm_repo_url"], "--status-url", info["status_url"]]
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(repeats):
            lab.send(cmd="mark")
            runs.setdefault("one cluster", []).append(
                castui_cli(["diagnose", "--context", info["contexts"][0], "--format", "json", *flags], env, home))
            runs["one cluster"][-1]["requests"] = len(lab.send(cmd="requests")["requests"])
            for label, extra in FLEET_RUNS:
                lab.send(cmd="mark")
                done = castui_cli(["diagnose", "--all-contexts", *(a.format(count=count) for a in extra), "--format", "json",
                                   *flags], env, home)
                seen = lab.send(cmd="requests")["requests"]
                document = done.pop("document", {})
                # with castui's key: the account-wide list, shared by every cluster; with other keys: each agent's key tested
                done.update(requests=len(seen), flags=" ".join(extra).format(count=count),
                            cluster_list_requests=sum(1 for r in seen if r["path"] == "/v1/kubernetes/external-clusters"
                                                      and r["headers"].get("x-api-key") == info["api_key"]),
                            clusters_reported=len(document.get("clusters", [])), processes=document.get("processes"),
                            unknown_clusters=[c["context"] for c in document.get("clusters", []) if c.get("error")])
                runs.setdefault(label, []).append(done)
        for run in runs["one cluster"]:
            run.pop("document", None)
        summary = {label: _median_run(results) for label, results in runs.items()}
        one = summary["one cluster"]["wall_s"]
        for label, _ in FLEET_RUNS:
            summary[label]["vs_one"] = ratio(summary[label]["wall_s"], one)
        result = {"clusters": count, "latency_s": latency, "repeats": repeats, "runs": summary,
                  "fleet_vs_one": summary[FLEET_RUNS[0][0]]["vs_one"]}
        log(f"fleet of {count} @ {latency * 1000:.0f} ms: one {one:.2f}s; "
            + "; ".join(f"{label} {summary[label]['wall_s']:.2f}s (×{summary[label]['vs_one']})" for label, _ in FLEET_RUNS))
        return result


def _median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, with every wall time kept beside it."""
    ordered = sorted(results, key=lambda r: r["wall_s"])
    return {**ordered[len(ordered) // 2], "walls_s": [r["wall_s"] for r in results]}


def import_check(log: Any) -> dict[str, Any]:
    """`castui --help` must not import kubernetes or textual (python -X importtime)."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-X", "importtime", "-m", "castui", "--help"], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    modules = [m.group(2).strip() for m in re.finditer(r"import time:\s+\d+ \|\s+(\d+) \|(.*)", done.stderr)]
    cumulative = {m.group(2).strip(): int(m.group(1)) for m in re.finditer(r"import time:\s+\d+ \|\s+(\d+) \|(.*)", done.stderr)}
    heavy = sorted({m.split(".")[0] for m in modules if m.split(".")[0] in ("kubernetes", "textual", "httpx", "pydantic", "yaml")})
    plain = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([PYTHON, "-m", "castui", "--help"], capture_output=True, cwd=ROOT, check=True)
        plain.append(time.perf_counter() - began)
    result = {
        "help_wall_s": round(min(plain), 3), "help_wall_s_with_importtime": round(wall, 3),
        "imports_kubernetes": "kubernetes" in heavy, "imports_textual": "textual" in heavy, "heavy_imports": heavy,
        "castui_cli_import_ms": round(cumulative.get("castui.cli", 0) / 1000, 1), "modules_imported": len(modules),
    }
    log(f"castui --help: {result}")
    return result


def machine() -> dict[str, Any]:
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0")
    return {"nproc": os.cpu_count(), "ram_gb": round(int(memory) / 1024 / 1024, 1), "python": platform.python_version(),
            "platform": platform.platform(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="small lab only, small UI load, a fleet of 3 (a minute)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.json and latest.md go")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    results: dict[str, Any] = {"schema": "castui.benchmark/v1", "mode": "short" if args.short else "full",
                               "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="castui-bench-") as tmp:
        home = Path(tmp)
        results["imports"] = import_check(log)
        results["diagnose"] = diagnose_runs(["small"] if args.short else list(SIZES), home, log)
        results["app_start"] = app_start(home, log)
        results["ui_load"] = ui_load(10_000, 1_000, log) if args.short else ui_load(1_000_000, 100_000, log)
        results["fleet"] = fleet(3, 0.05, home, log, repeats=1) if args.short else fleet(20, 0.05, home, log)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["duration_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "latest.md").write_text(render_markdown(results))
    log(f"wrote {args.out / 'latest.json'} and latest.md in {results['duration_s']}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
