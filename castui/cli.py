"""castui's entry point. Imports stay lazy: `castui --help` must not pay for
Textual or the kubernetes client."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from castui import __version__
from castui.cli_support import EXIT_USAGE, Progress, resolved_settings, wants_color

DESCRIPTION = """\
castui takes you from "CAST AI is misbehaving on my cluster" to a confirmed cause and a safe fix.

Run without a command to open the app on your current kube context (CASTAI_API_KEY from the
environment), or on the built-in lab with --lab. `castui diagnose` prints the same findings
as text, Markdown or JSON.
"""

EPILOG = """\
environment:
  CASTAI_API_KEY     your CAST AI API key (never a flag: argv leaks into shell history and ps)
  CASTAI_API_URL     API base URL (default https://api.cast.ai; EU: https://api.eu.cast.ai)
  CASTAI_CLUSTER_ID  the cluster's id (default: discovered from the agent's ConfigMap or the API)
  KUBECONFIG         kubeconfig path(s)
  NO_COLOR           plain output everywhere

exit codes (diagnose): 0 nothing wrong and every check ran; 1 a cause confirmed;
  2 usage or configuration error; 3 nothing confirmed but some checks could not run
"""


class TargetFlags(argparse._ArgumentGroup):
    """The target flags of a subcommand: an unset one leaves what was given before the command."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        return super().add_argument(*args, **{**kwargs, "default": argparse.SUPPRESS})


class MergingSubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Target flags work before or after the command (`castui --context X diagnose` is `castui diagnose
    --context X`): repeatable ones add up; one given twice with different values is refused, never
    silently dropped (argparse alone lets the subcommand's default overwrite what came first)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        before = dict(vars(namespace))
        super().__call__(parser, namespace, values, option_string)
        for dest, earlier in before.items():
            later = getattr(namespace, dest, None)
            if earlier is None or later is earlier or earlier == parser.get_default(dest) or later == earlier:
                continue
            if isinstance(earlier, list) and isinstance(later, list):
                setattr(namespace, dest, [*earlier, *later])
            else:
                parser.error(f"{_flag_name(parser, dest)} is given before and after the command with different values")


def _flag_name(parser: argparse.ArgumentParser, dest: str) -> str:
    return next((a.option_strings[0] for a in parser._actions if a.dest == dest and a.option_strings), "--" + dest.replace("_", "-"))


#: what a target flag given before COMMAND means for each command: all apply (None, the app), one
#: cluster only, or none at all; anything else is refused
ONE_CLUSTER_COMMANDS = ("bundle", "report", "config show")
NO_TARGET_COMMANDS = ("lab", "suppress", "config path", "config init", "completion")
FLEET_DESTS = ("all_contexts", "parallel")


def check_target_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A flag before COMMAND that the command cannot use is an error: a script must not get a
    clean bill of health for a cluster it did not name."""
    command = args.command if args.command != "config" else f"config {args.config_command}"
    given = [a for a in parser._actions if a.option_strings and a.dest not in ("help", "version")
             and getattr(args, a.dest, None) not in (None, False, parser.get_default(a.dest))]
    if command in NO_TARGET_COMMANDS and given:
        parser.error(f"{given[0].option_strings[0]} does not apply to `castui {command}`")
    context, contexts = getattr(args, "context", None), getattr(args, "contexts", None)
    if context and contexts and contexts != [context]:
        parser.error("--context is given before and after the command with different values")
    if command in ONE_CLUSTER_COMMANDS:
        fleet = [a for a in given if a.dest in FLEET_DESTS] or ([a for a in given if a.dest == "contexts"]
                                                                 if len(getattr(args, "contexts", None) or []) > 1 else [])
        if fleet:
            parser.error(f"`castui {command}` works on one cluster: {fleet[0].option_strings[0]} applies to `castui diagnose` and the app")


def add_target_flags(parser: argparse.ArgumentParser, *, fleet: bool = False, sub: bool = False) -> None:
    g = parser.add_argument_group("target")
    if sub:  # after COMMAND: an unset flag must not overwrite the same flag given before it
        parser._action_groups.remove(g)
        g = TargetFlags(parser, "target")
        parser._action_groups.append(g)
    g.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    if fleet:
        g.add_argument("--context", metavar="NAME", action="append", dest="contexts",
                       help="kube context (default: the current one); repeat for several clusters")
        g.add_argument("--all-contexts", action="store_true", help="every context of the kubeconfig")
        # castui.engine.fleet.DEFAULT_PARALLEL, not imported here: `castui --help` stays light
        g.add_argument("--parallel", type=int, default=20, metavar="N", help="clusters checked at once (default 20)")
    else:
        g.add_argument("--context", metavar="NAME", help="kube context (default: the current one)")
    g.add_argument("--namespace", "-n", metavar="NS", help="CAST AI namespace (default castai-agent)")
    g.add_argument("--api-url", metavar="URL", help="CAST AI API base URL (default https://api.cast.ai)")
    g.add_argument("--cluster-id", metavar="ID", help="CAST AI cluster id (default: discovered)")
    g.add_argument("--helm-repo-url", metavar="URL", help="castai-helm repository (default https://castai.github.io/helm-charts)")
    g.add_argument("--status-url", metavar="URL", help="status page (default https://status.cast.ai)")
    g.add_argument("--terraform-dir", metavar="DIR", help="Terraform directory to compare (default: the current one)")
    g.add_argument("--terraform-var-file", metavar="FILE", help="Terraform var file, for the printed fix")
    g.add_argument("--no-terraform", action="store_true", default=None,
                   help="no Terraform manages CAST AI here: the drift check is not applicable (not 'could not check')")
    g.add_argument("--timeout", type=float, metavar="SECONDS", help="timeout of each check (default 10)")
    g.add_argument("--config", metavar="FILE", type=Path, help="config file (default $XDG_CONFIG_HOME/castui/config.toml)")
    g.add_argument("--lab", nargs="?", const="demo", metavar="SCENARIO",
                   help="run against the built-in lab (default scenario: demo; `castui lab list`)")
    g.add_argument("--bundle", metavar="FILE", help="replay a bundle made by `castui bundle` (read-only)")
    g.add_argument("--read-only", action="store_true", default=None, help="never change anything: fixes are copy-only")
    g.add_argument("--plain", action="store_true", default=None, help="no colour (also NO_COLOR)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="castui", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"castui {__version__}")
    add_target_flags(parser, fleet=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=MergingSubParsers)

    d = sub.add_parser("diagnose", help="run the checks and print the findings",
                       description="Run the decision tree's checks and print what is wrong, with fixes.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--symptom", "-s", action="append", metavar="ID", help="a symptom id (repeatable; default: all ten)")
    d.add_argument("--format", "-f", choices=["text", "markdown", "json"], default="text", help="output format (default text)")
    d.add_argument("--active", action="store_true", default=None,
                   help="include active checks that create a temporary pod in the cluster")
    d.add_argument("--workload", action="append", metavar="NS/NAME", dest="workloads",
                   help="a workload the workload-autoscaler symptom should look at (repeatable)")
    d.add_argument("--node", action="append", metavar="NAME", dest="nodes",
                   help="a node that should have been removed, for no-scale-down: the Evictor's causes are judged on it (repeatable)")
    d.add_argument("--verbose", "-v", action="store_true", help="also list ruled-out causes of healthy symptoms")
    add_target_flags(d, fleet=True, sub=True)
    d.add_argument("--processes", type=int, metavar="N",
                   help="worker processes for a fleet (default: one per CPU from 8 clusters; 1: this process only)")

    lab = sub.add_parser("lab", help="the built-in lab cluster", description="The built-in lab: a loopback Kubernetes and CAST AI API.")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    ls = lab_sub.add_parser("list", help="list the scenarios")
    ls.add_argument("--format", choices=["text", "json"], default="text")
    serve = lab_sub.add_parser("serve", help="serve a scenario in the foreground")
    serve.add_argument("scenario", nargs="?", default="demo")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    serve.add_argument("--dir", type=Path, help="where to write the kubeconfig (default: a temp dir)")
    serve.add_argument("--fleet", action="store_true", help="serve several scenarios, one kube context each")
    serve.add_argument("--scale", metavar="NODES|nodes=N,pods=N,...",
                       help="a generated big cluster, e.g. nodes=500,pods=10k (README: The lab, A big cluster)")
    serve.add_argument("--pod-size", choices=["realistic", "small"], help="with --scale: ~6 KB pods (default) or ~1.5 KB")
    serve.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="added to every request")

    b = sub.add_parser("bundle", help="collect a redacted debug bundle for support")
    b.add_argument("--output", "-o", type=Path, help="the .tar.gz to write (default castui-bundle-<time>.tar.gz)")
    b.add_argument("--since", default="1h", help="how far back logs and events go (default 1h)")
    b.add_argument("--redact", action="append", metavar="REGEX", dest="redact_patterns", help="extra pattern to redact")
    b.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    add_target_flags(b, sub=True)

    r = sub.add_parser("report", help="a ticket-ready support report")
    r.add_argument("--format", "-f", choices=["markdown", "text"], default="markdown")
    r.add_argument("--bundle-path", help="name this bundle in a report on the live cluster (--bundle FILE reports on the bundle itself)")
    add_target_flags(r, sub=True)

    c = sub.add_parser("config", help="the configuration file")
    c_sub = c.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c_sub.add_parser("path", help="print the config file's path")
    show = c_sub.add_parser("show", help="effective settings and where each comes from")
    add_target_flags(show, sub=True)
    init = c_sub.add_parser("init", help="write a commented config file with every default")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    s = sub.add_parser("suppress", help="accept a known cause: still shown, no longer fails the exit code")
    s.add_argument("cause", nargs="?", help="the cause id")
    s.add_argument("--cluster", metavar="ID", help="only for this cluster id")
    s.add_argument("--reason", help="why it is accepted (required to add)")
    s.add_argument("--until", metavar="YYYY-MM-DD", help="when the suppression expires")
    s.add_argument("--list", action="store_true", help="list suppressions")
    s.add_argument("--remove", action="store_true", help="remove the suppression of CAUSE")

    comp = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)",
                          description="Print a completion script; see the README for where to put it.")
    comp.add_argument("shell", choices=["bash", "zsh", "fish"])
    return parser


class RedactingLogFilter:
    """Log records from libraries (a credential plugin's stderr, quoted by the kubernetes client as
    `ERROR:root:exec: …`) go through the redactor and the sanitiser before they reach the terminal."""

    def filter(self, record: Any) -> bool:
        from castui.redaction import redactor_for
        from castui.sanitise import printable_lines

        record.msg, record.args = printable_lines(redactor_for(None).text(record.getMessage())), None
        return True


def install_log_redaction() -> None:
    """One stderr handler on the root logger (so `logging.error` adds no raw one of its own)."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.addFilter(RedactingLogFilter())
    handler.setFormatter(logging.Formatter("castui: %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    from castui.terminal import degrade_unencodable

    install_log_redaction()

    degrade_unencodable()  # an ASCII or Latin-1 locale gets ASCII stand-ins, not UnicodeEncodeError
    parser = build_parser()
    args = parser.parse_args(argv)
    check_target_flags(parser, args)
    from castui.clients.errors import CastuiError

    try:
        if args.command is None:
            return run_app(args)
        handler = {"diagnose": cmd_diagnose, "lab": cmd_lab, "bundle": cmd_bundle, "report": cmd_report,
                   "config": cmd_config, "suppress": cmd_suppress, "completion": cmd_completion}[args.command]
        code = handler(args)
        # run as a program (argv from the command line): a read still stalled in a thread must not
        # keep the process alive; called in-process (tests, embedding) the caller owns the process
        return _end(code) if argv is None else code
    except CastuiError as error:
        print(f"castui: {error}", file=sys.stderr)
        return _end(EXIT_USAGE) if argv is None else EXIT_USAGE
    except KeyboardInterrupt:
        print("castui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `castui diagnose | head`: the reader left; stop quietly like other Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _end(code: int) -> int:
    """`aio.end`, imported only now: asyncio is not needed before a diagnosis's first reads are out."""
    from castui import aio

    return aio.end(code)


# --- commands ---------------------------------------------------------------------------------


def cmd_diagnose(args: argparse.Namespace) -> int:
    if getattr(args, "all_contexts", False) or len(getattr(args, "contexts", None) or []) > 1:
        from castui.fleet import cmd_fleet

        return cmd_fleet(args)
    if args.symptom:
        from castui.tree import BY_ID

        for symptom_id in args.symptom:
            if symptom_id not in BY_ID:
                print(f"castui: unknown symptom {symptom_id!r}; known: {', '.join(BY_ID)}", file=sys.stderr)
                return EXIT_USAGE
    with resolved_settings(args) as (settings, lab):
        forget = _read_ahead(settings, args, lab)  # before the session imports the tree (the slow import)
        try:
            from castui import aio  # asyncio after the first reads are out, not before

            diagnosis = aio.run(_diagnose(settings, args, lab))
        finally:
            forget()
        print(render(diagnosis, args.format, settings, args), end="")
        return diagnosis.exit_code


def _read_ahead(settings: Any, args: argparse.Namespace, lab: Any) -> Any:
    """A diagnosis of every symptom on a live cluster starts its first Kubernetes reads now
    (castui.engine.first_round); returns what drops the answers no check took."""
    if args.symptom or getattr(lab, "bundle", None):  # a subset reads less; a replay reads a recording
        return lambda: None
    from castui.clients.kube import read_ahead
    from castui.engine.first_round import first_reads

    reads = first_reads(settings.namespace, cluster_id_known=bool(settings.cluster_id))
    return read_ahead(settings.kubeconfig, settings.context, settings.timeout, reads)


async def _diagnose(settings: Any, args: argparse.Namespace, lab: Any) -> Any:
    from castui.clients.errors import ConfigurationError
    from castui.engine.session import Session

    progress = Progress(sys.stderr)
    async with Session(settings, lab=getattr(lab, "scenario", None) if lab and not getattr(lab, "bundle", None) else None,
                       bundle=getattr(lab, "bundle", None), captured_at=getattr(lab, "captured_at", None),
                       source=getattr(lab, "source", None), kube_cluster=getattr(lab, "kube_cluster", None)) as session:
        if settings.context and isinstance(session.kube_error, ConfigurationError):
            raise session.kube_error  # the context the user named does not exist: a usage error, not a finding
        from castui.engine.deadline import diagnose_within, run_deadline

        try:
            diagnosis, missing = await diagnose_within(session, args.symptom, run_deadline(settings.timeout),
                                                       on_event=progress.on_event, with_status_page=args.format == "text")
        finally:
            progress.done()
        if missing:
            print(f"castui: the run's deadline passed; not finished: {', '.join(missing)}", file=sys.stderr)
        return diagnosis


def render(diagnosis: Any, fmt: str, settings: Any, args: argparse.Namespace) -> str:
    from castui.redaction import redactor_for

    redactor = redactor_for(settings)
    if fmt == "json":
        from castui.report.json_document import indented

        return indented(redactor.data(diagnosis.to_json_dict()))
    if fmt == "markdown":
        from castui.report.markdown import render_markdown

        return render_markdown(diagnosis, redactor)
    from castui.report.text import render_text

    return render_text(diagnosis, redactor, color=wants_color(settings, sys.stdout), verbose=getattr(args, "verbose", False))


def cmd_lab(args: argparse.Namespace) -> int:
    from castui.lab.scenarios import SCENARIOS

    if args.lab_command == "list":
        if args.format == "json":
            print(json.dumps([{"name": s.name, "breaks": s.breaks, "confirms": sorted(s.confirms)} for s in SCENARIOS.values()], indent=2))
        else:
            width = max(len(n) for n in SCENARIOS)
            for s in SCENARIOS.values():
                print(f"{s.name:<{width}}  {s.breaks}")
                print(f"{'':<{width}}  confirms: {', '.join(sorted(s.confirms)) or 'nothing'}")
        return 0
    from castui.lab.serve import serve

    return serve(args)


def cmd_bundle(args: argparse.Namespace) -> int:
    from castui.subcommands import cmd_bundle as run

    return run(args)


def cmd_report(args: argparse.Namespace) -> int:
    from castui.subcommands import cmd_report as run

    return run(args)


def cmd_config(args: argparse.Namespace) -> int:
    from castui.config import config_path

    if args.config_command == "path":
        print(config_path())
        return 0
    if args.config_command == "init":
        from castui.config_file import write_default

        path = config_path()
        if path.exists() and not args.force:
            print(f"castui: {path} exists; use --force to overwrite", file=sys.stderr)
            return EXIT_USAGE
        write_default(path)
        print(f"wrote {path}")
        return 0
    with resolved_settings(args) as (settings, _):
        data = settings.model_dump(mode="json", exclude={"keymap"})
        data["keymap"] = settings.keymap
        thresholds = data.pop("thresholds")
        from castui.redaction import redactor_for

        redactor = redactor_for(settings)
        for key, value in data.items():
            # a URL may carry a password (https://user:pass@host): shown redacted, like everything else
            print(redactor.text(f"{key} = {json.dumps(value)}    # {settings.sources.get(key, 'default')}"))
        for key, value in thresholds.items():
            print(f"thresholds.{key} = {json.dumps(value)}    # {settings.sources.get('thresholds.' + key, 'default')}")
        print(f"api_key = {'(set)' if settings.api_key else '(not set)'}    # env CASTAI_API_KEY")
    return 0


def cmd_suppress(args: argparse.Namespace) -> int:
    from datetime import date

    from castui import suppressions
    from castui.tree import cause_ids

    if args.list:
        today = date.today()
        records = suppressions.load()
        if not records:
            print("no suppressions")
        for r in records:
            state = "expired" if r.expired(today) else "active"
            print(f"{r.cause}  cluster={r.cluster or '*'}  until={r.until or 'forever'}  {state}  by {r.by}: {r.reason}")
        return 0
    if not args.cause:
        print("castui: name a cause id (or use --list)", file=sys.stderr)
        return EXIT_USAGE
    if args.cause not in cause_ids():
        print(f"castui: unknown cause {args.cause!r}; known: {', '.join(cause_ids())}", file=sys.stderr)
        return EXIT_USAGE
    if args.remove:
        removed = suppressions.remove(args.cause, args.cluster)
        print(f"removed {removed} suppression{'' if removed == 1 else 's'} of {args.cause}")
        return 0 if removed else 1
    if not args.reason:
        print("castui: --reason is required: say why this cause is accepted", file=sys.stderr)
        return EXIT_USAGE
    try:
        until = suppressions.parse_until(args.until, date.today())
    except ValueError as why:
        print(f"castui: --until: {why}", file=sys.stderr)
        return EXIT_USAGE
    suppressions.add(suppressions.SuppressionRecord(cause=args.cause, cluster=args.cluster, reason=args.reason, until=until))
    print(f"suppressed {args.cause}" + (f" on {args.cluster}" if args.cluster else "") + (f" until {until}" if until else ""))
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    from castui.completion import script

    print(script(args.shell, build_parser()), end="")
    return 0


def run_app(args: argparse.Namespace) -> int:
    from castui.terminal import app_refusal

    refusal = app_refusal()
    if refusal:  # cron, CI, `ssh host castui`, `castui > file`: no screen to draw on, so say so at once
        print(f"castui: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "all_contexts", False) or len(getattr(args, "contexts", None) or []) > 1:
        from castui.fleet import run_fleet_app

        return run_fleet_app(args)
    with resolved_settings(args) as (settings, lab):
        from castui.app import CastuiApp

        app = CastuiApp(settings, lab=lab)
        app.run()
        return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
