"""`castui diagnose --context A --context B …` / `--all-contexts`, and `castui --all-contexts`.

The commands around `castui.engine.fleet.Fleet`: which contexts, the settings they
share, progress on stderr, the output formats and the exit code (1 if a cause is
confirmed anywhere, else 3 if anything could not be checked, else 0).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from castui import aio
from castui.cli_support import EXIT_USAGE, flag_settings, wants_color
from castui.clients.errors import ConfigurationError

if TYPE_CHECKING:
    from castui.config import Settings
    from castui.engine.fleet import FleetEvent


def fleet_settings(args: argparse.Namespace) -> tuple["Settings", list[str]]:
    """The settings every cluster shares, and the contexts to check, from the command line."""
    from castui.clients.kubeconfig import kube_contexts
    from castui.config import load_settings

    if getattr(args, "lab", None) or getattr(args, "bundle", None):
        raise ConfigurationError("--lab and --bundle are one cluster; for a fleet, run `castui lab serve --fleet` "
                                 "and point KUBECONFIG at it")
    named = list(getattr(args, "contexts", None) or [])
    if getattr(args, "all_contexts", False) and named:
        raise ConfigurationError("give --context NAME (repeatable) or --all-contexts, not both")
    flags = flag_settings(args)
    flags["context"] = None  # each cluster gets its own
    settings = load_settings(flags, path=getattr(args, "config", None))
    contexts = named or kube_contexts(settings.kubeconfig)
    if not contexts:
        raise ConfigurationError("the kubeconfig has no contexts")
    from castui.cli_support import prime_credentials

    prime_credentials(settings.kubeconfig, list(contexts), settings.timeout)
    return settings, contexts


def cmd_fleet(args: argparse.Namespace) -> int:
    from castui.tree import BY_ID

    for symptom_id in getattr(args, "symptom", None) or []:
        if symptom_id not in BY_ID:
            print(f"castui: unknown symptom {symptom_id!r}; known: {', '.join(BY_ID)}", file=sys.stderr)
            return EXIT_USAGE
    settings, contexts = fleet_settings(args)
    fmt = getattr(args, "format", "text")
    processes = _processes(args, len(contexts))
    if processes > 1:
        from castui.engine.fleet_processes import run_in_processes

        progress = FleetProgress(sys.stderr, len(contexts))
        try:
            report = run_in_processes(settings, contexts, getattr(args, "symptom", None), parallel=_parallel(args),
                                      processes=processes, on_event=progress.on_event, with_status_page=fmt != "json")
        finally:
            progress.done()
    else:
        report = aio.run(_run(settings, contexts, args, with_status_page=fmt != "json"))
    print(render_fleet(report, fmt, settings), end="")
    return report.exit_code


def _processes(args: argparse.Namespace, clusters: int) -> int:
    """Worker processes for this run: as asked, else one per CPU; 1 when forking is not safe here."""
    from castui.engine.fleet_processes import can_fork, default_processes

    asked = getattr(args, "processes", None)
    if asked is not None and asked < 1:
        raise ConfigurationError(f"--processes must be at least 1, not {asked}")
    wanted = min(asked, clusters) if asked is not None else default_processes(clusters)
    return wanted if wanted > 1 and can_fork() else 1


async def _run(settings: "Settings", contexts: list[str], args: argparse.Namespace, *, with_status_page: bool) -> Any:
    from castui.engine.fleet import Fleet

    progress = FleetProgress(sys.stderr, len(contexts))
    async with Fleet(settings, contexts, parallel=_parallel(args)) as fleet:
        try:
            return await fleet.run(getattr(args, "symptom", None), on_event=progress.on_event,
                                   with_status_page=with_status_page)
        finally:
            progress.done()


def _parallel(args: argparse.Namespace) -> int:
    from castui.engine.fleet import DEFAULT_PARALLEL

    parallel = getattr(args, "parallel", None)
    return DEFAULT_PARALLEL if parallel is None else int(parallel)


def render_fleet(report: Any, fmt: str, settings: "Settings") -> str:
    from castui.redaction import redactor_for

    redactor = redactor_for(settings)
    if fmt == "json":
        from castui.report.json_document import indented

        return indented(report.to_json_dict(redactor.data, redactor.text))
    if fmt == "markdown":
        from castui.report.fleet import render_fleet_markdown

        return render_fleet_markdown(report, redactor)
    from castui.report.fleet import render_fleet_text

    return render_fleet_text(report, redactor, color=wants_color(settings, sys.stdout))


class FleetProgress:
    """One line on stderr, only when it is a terminal: clusters done, the one that finished last."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.running: set[str] = set()
        self.done_count = 0

    def on_event(self, event: "FleetEvent") -> None:
        from castui.engine.fleet import ClusterFinished, ClusterStarted

        if isinstance(event, ClusterStarted):
            self.running.add(event.context)
        elif isinstance(event, ClusterFinished):
            self.running.discard(event.result.context)
            self.done_count += 1
        else:
            return
        if self.enabled:
            self.stream.write(f"\r\x1b[Kcastui: {self.done_count}/{self.total} clusters done, {len(self.running)} running ")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def run_fleet_app(args: argparse.Namespace) -> int:
    """`castui --all-contexts` / `castui --context A --context B`: the app on the fleet screen."""
    settings, contexts = fleet_settings(args)
    from castui.fleet_app import FleetApp

    app = FleetApp(settings, contexts, parallel=_parallel(args))
    app.run()
    return app.return_code or 0
