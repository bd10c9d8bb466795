"""The lab the benchmark measures against, in its own process.

A separate process keeps the lab's CPU (encoding 100,000 pods) off the measuring
process, and keeps the measuring process small, so the peak memory of the castui
processes it starts is theirs alone. It talks JSON lines on stdin/stdout:

    started:  {"ready": true, "url": ..., "kubeconfig": ..., ...}
    {"cmd": "latency", "seconds": 0.05}   → {"ok": true}
    {"cmd": "mark"}                       → {"ok": true}  (start a fresh request record)
    {"cmd": "requests"}                   → {"requests": [{"method", "path", "query", "route_s"}, ...]}
    {"cmd": "cpu"}                        → {"cpu_s": CPU seconds the lab process has used}
    {"cmd": "stop"}                       → exits

`python benchmarks/labproc.py small|scale:nodes=500|fleet:20 [--seed-latency S]`
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from castui.lab.state import Fault


class Recorder:
    """Wraps a LabServer's `answer` to note every request with the time its route took."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def wrap(self, server: Any) -> None:
        answer = server.answer

        def timed(req: Any) -> Any:
            started = time.perf_counter()
            try:
                return answer(req)
            finally:
                entry = {"method": req.method, "path": req.path, "query": req.query, "at": started,
                         "route_s": time.perf_counter() - started, "headers": _auth_headers(req.headers)}
                with self.lock:
                    self.requests.append(entry)

        server.answer = timed  # an instance attribute: the handler calls `lab.answer(req)`

    def mark(self) -> None:
        with self.lock:
            self.requests = []

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)


def _auth_headers(headers: dict[str, str]) -> dict[str, str]:
    """What a replay of the request needs (the lab's fixed test credentials, never real ones)."""
    return {k: v for k, v in headers.items() if k in ("authorization", "x-api-key", "accept")}


def start(kind: str) -> tuple[dict[str, Any], list[Any], Any]:
    """(what castui needs to reach it, the servers, the running lab or fleet)."""
    built = time.perf_counter()
    if kind.startswith("fleet:"):
        from castui.lab.fleet import NEEDS_OWN_KEY, start_fleet
        from castui.lab.scenarios import SCENARIOS

        count = int(kind.split(":", 1)[1])
        names = [n for n in SCENARIOS if n not in NEEDS_OWN_KEY][:count]
        fleet = start_fleet(names)
        info = {**fleet.settings_overrides(), "api_key": fleet.api_key, "contexts": fleet.contexts,
                "url": fleet.api_url, "terraform_dirs": {lab.context: str(lab.terraform_dir) for lab in fleet.labs}}
        servers = [fleet.api, *(lab.server for lab in fleet.labs)]
        return {**info, "build_s": time.perf_counter() - built}, servers, fleet
    from castui.lab import start_lab

    cluster = None
    scenario = "demo"
    if kind.startswith("scale:"):
        from castui.lab.scale import build_scaled, parse_scale

        spec = parse_scale(kind.split(":", 1)[1])
        cluster, scenario = build_scaled(spec), "scaled"
    lab = start_lab(scenario, cluster=cluster)
    warm_s = 0.0
    if cluster is not None:
        from castui.lab.scale import warm

        warm_s = warm(cluster)  # as a real API server's watch cache would have it
    overrides = lab.settings_overrides()
    info = {**overrides, "api_key": lab.api_key, "url": lab.url, "cluster_id": lab.cluster.state.castai.clusters[0]["id"],
            "objects": {k: len(v) for k, v in lab.cluster.state.objects.items()}, "warm_s": round(warm_s, 2)}
    return {**info, "build_s": time.perf_counter() - built}, [lab.server], lab


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else "small"
    info, servers, running = start(kind)
    recorder = Recorder()
    for server in servers:
        recorder.wrap(server)
    print(json.dumps({"ready": True, **info}), flush=True)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["cmd"] == "latency":
                for server in servers:
                    server.state.faults[:] = [f for f in server.state.faults if f.kind != "latency"]
                    if command["seconds"]:
                        server.state.faults.append(Fault("latency", seconds=float(command["seconds"])))
                answer: dict[str, Any] = {"ok": True}
            elif command["cmd"] == "mark":
                recorder.mark()
                answer = {"ok": True}
            elif command["cmd"] == "requests":
                answer = {"requests": recorder.take()}
            elif command["cmd"] == "cpu":  # the lab's own CPU so far: it shares the machine's cores with castui
                answer = {"cpu_s": time.process_time()}
            elif command["cmd"] == "stop":
                break
            else:
                answer = {"error": f"unknown command {command['cmd']!r}"}
            print(json.dumps(answer), flush=True)
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
