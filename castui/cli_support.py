"""What castui's commands (`diagnose`, `bundle`, `report`, `config`, the fleet) share, apart from the
entry point (`castui.cli`) so that no command imports it. Imports stay lazy, as in cli: `castui --help`
must not pay for Textual or the kubernetes client."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: the exit code of a usage or configuration error
EXIT_USAGE = 2


def flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    names = ("kubeconfig", "namespace", "api_url", "cluster_id", "helm_repo_url", "status_url", "terraform_dir",
             "terraform_var_file", "no_terraform", "timeout", "read_only", "plain", "active", "workloads", "nodes", "redact_patterns")
    flags = {n: getattr(args, n, None) for n in names}
    context = getattr(args, "context", None)
    contexts = getattr(args, "contexts", None)
    flags["context"] = context if context else (contexts[0] if contexts and len(contexts) == 1 else None)
    return flags


@contextlib.contextmanager
def resolved_settings(args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """Settings for the command, with a lab or a replayed bundle started when asked."""
    from castui.config import load_settings

    flags = flag_settings(args)
    lab = None
    if getattr(args, "bundle", None):
        from castui.replay import start_replay

        lab = start_replay(Path(args.bundle))
        flags = {**lab.settings_overrides(), **_given(flags), "read_only": True}
    elif getattr(args, "lab", None):
        from castui.lab import start_lab

        lab = start_lab(args.lab)
        flags = {**lab.settings_overrides(), **_given(flags)}  # what the user typed beats the lab's defaults
    try:
        settings = load_settings(flags, path=getattr(args, "config", None))
        if lab is not None:
            from pydantic import SecretStr

            settings.api_key = SecretStr(lab.api_key) if lab.api_key else None
        elif getattr(args, "command", None) in (None, "diagnose", "bundle", "report"):
            prime_credentials(settings.kubeconfig, [settings.context], settings.timeout)
        yield settings, lab
    finally:
        if lab is not None:
            lab.stop()


def prime_credentials(kubeconfig: str | None, contexts: list[str | None], timeout: float) -> None:
    """Credential plugins run now, on the terminal if there is one (SSO, MFA, device codes), before
    the app takes the screen or the checks start; their prompts and messages go to stderr."""
    from castui.clients.credentials import prime
    from castui.report.redact import Redactor

    redact = Redactor().text  # plugin output is hostile: no token it prints reaches the terminal

    def echo(text: str) -> None:
        sys.stderr.write(redact(text))
        sys.stderr.flush()

    prime(kubeconfig, contexts, timeout=timeout, echo=echo)


def _given(flags: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flags.items() if v is not None}


def wants_color(settings: Any, stream: Any) -> bool:
    from castui.terminal import is_dumb

    return (not settings.plain and not os.environ.get("NO_COLOR") and not is_dumb()
            and hasattr(stream, "isatty") and stream.isatty())


class Progress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.started = 0
        self.finished = 0

    def on_event(self, event: Any) -> None:
        from castui.engine.runner import CheckFinished, CheckStarted

        if isinstance(event, CheckStarted):
            self.started += 1
        elif isinstance(event, CheckFinished):
            self.finished += 1
        if self.enabled:
            self.stream.write(f"\rcastui: {self.finished}/{self.started} checks done ")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
