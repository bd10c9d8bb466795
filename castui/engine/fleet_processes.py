"""A fleet's clusters spread over forked worker processes, one per CPU.

A cluster's diagnosis costs ~40 ms of CPU (decoding, validating, judging, TLS handshakes).
In one process that is serial under the GIL: twenty clusters took 3.6× one cluster's time
however many ran at once. Worker processes forked after the imports share nothing but
what the parent fetched first: the account-wide answers (cluster list, API keys, Helm
index), so those are still read once for the whole fleet.

Only `castui diagnose` uses this, from a single-threaded process on Linux (fork is
unsafe with threads, and unavailable or unsafe elsewhere); the app and the tests' in-
process labs run the fleet in one process, which gives the same results.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from castui import aio
from castui.clients.errors import CastuiError
from castui.diagnosis import StatusPage
from castui.engine.facts import SHARED_KEYS, Facts
from castui.engine.fleet import ClusterFinished, ClusterStarted, Fleet, FleetCluster, FleetEvent, FleetReport
from castui.redacted import learn_secret, learned

if TYPE_CHECKING:
    from castui.config import Settings

#: a worker process pays off from this many clusters each (forking and collecting cost a few ms)
MIN_CLUSTERS_PER_PROCESS = 4
MAX_PROCESSES = 8
#: (gen0, gen1, gen2) collection thresholds in a worker; Python's default is (700, 10, 10)
WORKER_GC_THRESHOLD = (20_000, 10, 10)
#: how long past its clusters' deadlines a worker may take before it is given up
WORKER_GRACE_S = 30.0

#: modules a cluster's run imports lazily, besides the kubernetes client
PRELOADED = ("castui.clients.helm", "castui.clients.helmrepo", "castui.clients.terraform", "castui.engine.active",
             "castui.suppressions")

#: what the parent fetched for a shared key: ("ok", value) or ("error", exception)
Outcome = tuple[str, Any]
#: a worker's end of the pipe → the worker and the contexts it checks
Workers = dict[Connection, tuple[BaseProcess, list[str]]]


def default_processes(clusters: int) -> int:
    """One per CPU, as long as each gets a few clusters; 1 means: in this process."""
    return max(1, min(usable_cpus(), MAX_PROCESSES, clusters // MIN_CLUSTERS_PER_PROCESS))


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's cpuset, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def run_in_processes(
    settings: "Settings",
    contexts: Sequence[str],
    symptom_ids: list[str] | None,
    *,
    parallel: int,
    processes: int,
    on_event: Callable[[FleetEvent], Any],
    with_status_page: bool,
) -> FleetReport:
    """The fleet's report, as `Fleet.run` gives it, from `processes` forked workers.

    `parallel` still bounds the clusters checked at once across all workers.
    """
    started = time.perf_counter()
    fleet = Fleet(settings, contexts, parallel=parallel)
    shared, status = aio.run(_prefetch(fleet, with_status_page))
    groups = [fleet.contexts[i::processes] for i in range(processes)]
    each = max(1, parallel // processes)
    ctx = multiprocessing.get_context("fork")
    # what the workers inherit is never garbage: outside the collector, a collection in a worker neither
    # walks it nor dirties its pages (copy-on-write would copy them). Left frozen here too: this process
    # only collects results, renders them and exits
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    workers: Workers = {}
    try:
        for group in groups:
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_work, args=(settings, group, symptom_ids, each, shared, send), daemon=True)
            process.start()
            send.close()
            workers[receive] = (process, group)
        # each cluster ends by its deadline, so a worker ends by its share of them; past that it is stuck
        waves = -(-max(len(g) for g in groups) // each)
        results = _collect(workers, on_event, within=fleet.deadline * waves + WORKER_GRACE_S)
    finally:
        for worker, _ in workers.values():
            if worker.is_alive():
                worker.terminate()
            worker.join()
    clusters = [_finished(fleet, c, symptom_ids, results.get(c)) for c in fleet.contexts]
    report = fleet.report(clusters, symptom_ids, status, duration_ms=(time.perf_counter() - started) * 1000)
    report.processes = processes
    return report


def preload(settings: "Settings", contexts: Sequence[str]) -> None:
    """Import what a cluster's run imports on first use, so workers inherit it instead of each
    paying it: the kubernetes package too (~0.3 s of CPU) unless no context needs it (a token or a
    certificate: castui.clients.kube_wire)."""
    from castui.clients.kube import client_library
    from castui.clients.kube_wire import is_static
    from castui.clients.kubeconfig import existing_files, kubeconfig_paths

    for name in PRELOADED:
        importlib.import_module(name)
    try:
        files = existing_files(kubeconfig_paths(settings.kubeconfig))
        static = bool(files) and all(is_static(files, context) for context in contexts)
    except (CastuiError, OSError, ValueError):  # each cluster's own gateway says what is wrong
        static = False
    if not static:
        client_library()


async def _prefetch(fleet: Fleet, with_status_page: bool) -> tuple[dict[Any, Outcome], StatusPage | None]:
    """The account-wide answers, read once here with the same calls a cluster's run makes,
    while the imports the workers need are paid here too (on a thread, ended before the fork)."""
    imports = asyncio.create_task(asyncio.to_thread(preload, fleet.settings, fleet.contexts))
    async with fleet:
        memo: dict[Any, asyncio.Future[Any]] = {}
        assert fleet.castai is not None and fleet.http is not None
        facts = Facts(fleet.settings, None, fleet.castai, fleet.http, shared=memo)
        reads = [facts.clusters(), facts.auth_tokens(), facts.chart_index()]
        status_read = fleet.status_page() if with_status_page else None
        gathered = await asyncio.gather(*reads, *([status_read] if status_read else []), return_exceptions=True)
        status = gathered[-1] if status_read else None
    await imports
    shared: dict[Any, Outcome] = {key: _outcome(memo[key]) for key in SHARED_KEYS if key in memo}
    return shared, status if isinstance(status, StatusPage) else None


def _outcome(task: "asyncio.Future[Any]") -> Outcome:
    error = task.exception()
    return ("error", error) if error is not None else ("ok", task.result())


def _work(settings: "Settings", contexts: list[str], symptom_ids: list[str] | None, parallel: int,
          shared: dict[Any, Outcome], send: Connection) -> None:
    """In the worker: its clusters, each sent to the parent as it starts and finishes."""
    # a short-lived process making many small objects: collect young ones less often (measured on twenty
    # lab clusters with the freeze above: ×1.92 → ×1.81 of one cluster's wall time)
    gc.set_threshold(*WORKER_GC_THRESHOLD)
    try:
        aio.run(_work_async(settings, contexts, symptom_ids, parallel, shared, send))
    except BaseException as error:  # noqa: BLE001 - the parent words it for the clusters left
        send.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        send.close()


async def _work_async(settings: "Settings", contexts: list[str], symptom_ids: list[str] | None, parallel: int,
                      shared: dict[Any, Outcome], send: Connection) -> None:
    loop = asyncio.get_running_loop()
    memo: dict[Any, asyncio.Future[Any]] = {}
    for key, (kind, value) in shared.items():
        memo[key] = future = loop.create_future()
        future.set_exception(value) if kind == "error" else future.set_result(value)
        future.add_done_callback(lambda f: f.exception())  # read: a failure nobody awaits is not "never retrieved"

    def forward(event: FleetEvent) -> None:
        if isinstance(event, ClusterStarted):
            send.send(("started", event.context))
        elif isinstance(event, ClusterFinished):
            # the secrets this worker read (the agent's keys) first: the parent renders the report, and
            # its redactor must know them as one process's would, wherever they turn up in the evidence
            send.send(("learned", learned()))
            send.send(("finished", event.result))

    async with Fleet(settings, contexts, parallel=parallel) as fleet:
        await fleet.run(symptom_ids, on_event=forward, memo=memo)


def _collect(workers: Workers, on_event: Callable[[FleetEvent], Any],
             within: float = float("inf")) -> dict[str, FleetCluster | str]:
    """Every worker's messages until each has closed its end; a worker's failure is kept as text."""
    results: dict[str, FleetCluster | str] = {}
    open_ends = list(workers)
    deadline = time.monotonic() + within
    while open_ends:
        ready = wait(open_ends, timeout=max(0.0, min(deadline - time.monotonic(), 3600.0)))
        if not ready and time.monotonic() >= deadline:
            for silent in open_ends:
                for context in workers[silent][1]:
                    results.setdefault(context, f"its worker process gave no answer within {within:g}s")
            break
        for end in ready:
            assert isinstance(end, Connection)
            try:
                kind, payload = end.recv()
            except (EOFError, OSError):
                open_ends.remove(end)
                process, group = workers[end]
                process.join()
                reason = f"the worker process checking it exited (code {process.exitcode})"
                for context in group:
                    results.setdefault(context, reason)
                continue
            if kind == "learned":
                for value, secret_kind in payload:
                    learn_secret(value, secret_kind)
            elif kind == "started":
                on_event(ClusterStarted(payload))
            elif kind == "finished":
                results[payload.context] = payload
                on_event(ClusterFinished(payload))
            elif kind == "failed":
                for context in workers[end][1]:
                    results.setdefault(context, f"the worker process checking it failed: {payload}")
    return results


def _finished(fleet: Fleet, context: str, symptom_ids: list[str] | None, result: FleetCluster | str | None) -> FleetCluster:
    """The cluster's result; if its worker ended before it did, unknown with why."""
    if isinstance(result, FleetCluster):
        return result
    reason = result or "its worker process ended before it finished"
    return FleetCluster(context=context, error=reason, diagnosis=fleet.unfinished(context, symptom_ids, reason))
