"""The commands around the support hand-off: `castui bundle` and `castui report` (their work is
`castui.bundle.collect_bundle` and `castui.support.build_report`, which the app uses too)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from castui import aio
from castui.bundle import BundleResult, collect_bundle, parse_duration
from castui.cli_support import EXIT_USAGE, Progress, resolved_settings
from castui.clients.errors import ConfigurationError
from castui.support import build_report, open_session


def cmd_bundle(args: argparse.Namespace) -> int:
    try:
        since = parse_duration(args.since)
    except ConfigurationError as error:
        print(f"castui: {error}", file=sys.stderr)
        return EXIT_USAGE
    default_name = f"castui-bundle-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.tar.gz"
    output: Path = args.output or Path(default_name)
    if output.is_dir():
        output = output / default_name
    force = bool(getattr(args, "force", False))
    if output.exists() and not force:
        print(f"castui: {output} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    with resolved_settings(args) as (settings, lab):
        progress = StderrProgress(sys.stderr)
        try:
            result = aio.run(_collect(settings, lab, output, since, progress, overwrite=force))
        except FileExistsError:
            progress.done()
            print(f"castui: {output} appeared while the bundle was collected; nothing was overwritten (--force to replace it)",
                  file=sys.stderr)
            return EXIT_USAGE
        except OSError as error:
            progress.done()
            print(f"castui: cannot write {output}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE
        progress.done()
    manifest = result.manifest
    print(f"wrote {result.path} ({result.size / 1024:.0f} KiB, {len(manifest.collected)} files)")
    for missing in manifest.not_collected:
        print(f"  not collected: {missing.part}: {missing.reason}")
    redactions = ", ".join(f"{n} {kind}" for kind, n in manifest.redactions.items()) or "nothing to redact"
    print(f"  redacted: {redactions}")
    print(f"  attach it to your CAST AI support ticket; `castui report --bundle {result.path}` writes the ticket "
          f"text; `castui --bundle {result.path}` replays it")
    return 0


async def _collect(settings: Any, lab: Any, output: Path, since: timedelta, progress: "StderrProgress", *,
                   overwrite: bool = False) -> BundleResult:
    async with open_session(settings, lab) as session:
        return await collect_bundle(session, output, since=since, progress=progress, overwrite=overwrite)


class StderrProgress:
    """`castui bundle`'s progress: one rewritten line on a terminal, plain lines otherwise."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, message: str, fraction: float) -> None:
        line = f"castui bundle: {fraction:4.0%} {message}"
        self.stream.write(f"\r\x1b[K{line}" if self.tty else line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def cmd_report(args: argparse.Namespace) -> int:
    with resolved_settings(args) as (settings, lab):
        text = aio.run(_report(settings, lab, args, Progress(sys.stderr)))
    print(text, end="")
    return 0


async def _report(settings: Any, lab: Any, args: argparse.Namespace, progress: Any) -> str:
    async with open_session(settings, lab) as session:
        try:
            diagnosis = await session.diagnose(on_event=progress.on_event, with_status_page=True)
        finally:
            progress.done()
        bundle = args.bundle_path or getattr(lab, "bundle", None)
        return build_report(session, diagnosis, bundle, fmt=args.format)
