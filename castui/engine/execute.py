"""Running a fix: commands as argument lists (never a shell), API changes through
the CAST AI client, read-only mode enforced here (not only hidden in the UI),
and every attempt appended to the audit log.

Secrets: a command never gets the API key in its argv (the process list is
readable by every user). `--set key=${CASTAI_API_KEY}` becomes `--set-file key=<0600
temp file>`; a command that would need the key any other way is refused and
offered for copying instead. The key is also removed from the child's environment
unless the command needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castui.clients.errors import CastuiError, ReadOnlyMode
from castui.config import state_dir
from castui.diagnosis import ApiCall, CauseResult, CauseVerdict, Diagnosis, Fix, shell_join
from castui.json_merge import merge_patch

if TYPE_CHECKING:
    from castui.config import Settings
    from castui.engine.session import Session

KEY_REF = "${CASTAI_API_KEY}"
CLUSTER_REF = "${CASTAI_CLUSTER_ID}"
OUTPUT_LIMIT = 2_000_000  # characters of output kept per run; the rest is counted, not stored

#: shell builtins and placeholders a person must run themselves
NOT_EXECUTABLE = {"export", "cd", "source"}


@dataclass
class ExecutionResult:
    command: str  # shell-quoted, with references, for display and the audit log
    exit_code: int | None
    duration_s: float
    dry_run: bool = False
    cancelled: bool = False
    error: str | None = None
    output: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.error is None and not self.cancelled


class NotExecutable(CastuiError):
    kind = "not-executable"


# --- one run of a fix, as `Session.execute` plans, streams and reports it --------------------------

#: how a plan names the key file `--set-file` gets (made just before the command runs, removed after)
KEY_FILE_SHOWN = Path("<0600 temporary file holding the key>")


@dataclass(frozen=True)
class FixPlan:
    """What executing a fix would do, known before anything runs (for the confirmation)."""

    fix: Fix
    #: the fix's command as written; None: the fix's API call
    argv: tuple[str, ...] | None
    dry_run: bool
    #: what really runs: the context pinned, `--set k=${CASTAI_API_KEY}` as `--set-file k=<0600 file>`
    runs: tuple[str, ...] | None
    #: the key goes in a temporary file (the command named it as `--set …=${CASTAI_API_KEY}`)
    key_in_file: bool
    #: why castui will not run this (copy it instead); None when it will
    refused: str | None = None


def plan_fix(settings: "Settings", fix: Fix, *, command: int = 0, dry_run: bool = False) -> FixPlan:
    """The API call (unless a dry run), else the fix's `command`-th command; refused up front when it
    has a placeholder, would put the key in argv, or (a dry run) kubectl cannot dry-run it server-side."""
    if fix.api_call is not None and not dry_run:
        return FixPlan(fix, None, dry_run, None, False)
    if not fix.commands:
        return FixPlan(fix, None, dry_run, None, False, refused="this fix has no command: it is something to do by hand")
    argv = fix.commands[max(0, min(command, len(fix.commands) - 1))]
    refused = None
    try:
        executable_argv(argv, Path("/dev/null"))
    except NotExecutable as why:
        refused = str(why)
    if refused is None and dry_run and not supports_server_dry_run(argv):
        refused = "this command has no server-side dry run"
    pinned = with_context(dry_run_argv(argv) if dry_run else argv, settings)
    try:
        runs = tuple(executable_argv(pinned, KEY_FILE_SHOWN))
    except NotExecutable:
        runs = tuple(pinned)
    return FixPlan(fix, tuple(argv), dry_run, runs, "--set-file" in runs and "--set-file" not in argv, refused)


def missing_programs(fix: Fix) -> list[str]:
    """The programs of the fix's commands that are not installed here (those are for copying)."""
    return sorted({argv[0] for argv in fix.commands if argv and shutil.which(argv[0]) is None})


@dataclass(frozen=True)
class FixOutput:
    """A line the command (or the API call) printed: the server's words, to show, never to act on."""

    stream: str
    line: str


@dataclass(frozen=True)
class FixRan:
    """The command (or the API call) finished; a re-check may follow."""

    run: ExecutionResult


@dataclass(frozen=True)
class FixRechecking:
    """The run changed the cluster; these symptoms are being re-checked now."""

    symptoms: tuple[str, ...]


FixEvent = FixOutput | FixRan | FixRechecking


class FixStatus(StrEnum):
    REFUSED = "refused"  # castui would not run it (see FixOutcome.refused): nothing ran
    CANCELLED = "cancelled"
    FAILED = "failed"  # it ran (or tried to) and did not succeed
    DRY_RUN = "dry-run"  # a server-side dry run succeeded: nothing changed
    EVIDENCE = "evidence"  # a read-only command ran: its output is evidence, there is nothing to verify
    APPLIED = "applied"  # the change was made and the fix names nothing to re-check
    FIXED = "fixed"  # re-checked: the cause is ruled out
    STILL_CONFIRMED = "still-confirmed"  # re-checked: the fix did not take
    UNVERIFIED = "unverified"  # re-checked, but the cause is not ruled out (unknown, latent, not judged)


@dataclass(frozen=True)
class FixOutcome:
    status: FixStatus
    #: the run (None when refused); kept in `Session.executions` and the audit log
    run: ExecutionResult | None = None
    refused: str | None = None
    #: the cause's verdict before the fix, and its result in the re-check (None: not re-checked or not judged)
    before: CauseVerdict | None = None
    after: CauseResult | None = None
    #: the re-check's diagnosis (only when the fix changed something and names symptoms to re-check)
    recheck: Diagnosis | None = None

    @property
    def changed(self) -> bool:
        """The fix changed the cluster (or the policies): what was shown before it is stale."""
        return self.status in (FixStatus.APPLIED, FixStatus.FIXED, FixStatus.STILL_CONFIRMED, FixStatus.UNVERIFIED)


def settled(fix: Fix, run: ExecutionResult, before: CauseVerdict | None) -> FixOutcome | None:
    """The outcome of a run that needs no re-check; None when the re-check decides it."""
    if run.cancelled:
        return FixOutcome(FixStatus.CANCELLED, run, before=before)
    if not run.ok:
        return FixOutcome(FixStatus.FAILED, run, before=before)
    if not fix.mutates:
        return FixOutcome(FixStatus.EVIDENCE, run, before=before)
    if run.dry_run:
        return FixOutcome(FixStatus.DRY_RUN, run, before=before)
    if not fix.recheck:
        return FixOutcome(FixStatus.APPLIED, run, before=before)
    return None


def rechecked(run: ExecutionResult, cause_id: str | None, before: CauseVerdict | None, diagnosis: Diagnosis) -> FixOutcome:
    """fixed / still confirmed / unverified, from the cause's verdict in the re-check."""
    after = next((c for s in diagnosis.symptoms for c in s.causes if c.id == cause_id), None)
    status = (FixStatus.FIXED if after is not None and after.verdict is CauseVerdict.RULED_OUT
              else FixStatus.STILL_CONFIRMED if after is not None and after.verdict is CauseVerdict.CONFIRMED
              else FixStatus.UNVERIFIED)
    return FixOutcome(status, run, before=before, after=after, recheck=diagnosis)


def check_allowed(settings: "Settings", fix: Fix, what: str) -> None:
    """The one gate every mutating path goes through."""
    if settings.read_only and fix.mutates:
        raise ReadOnlyMode(what)


def executable_argv(argv: list[str], key_file: Path | None) -> list[str]:
    """Replace secret references with safe forms; raise NotExecutable when that is impossible."""
    if not argv:
        raise NotExecutable("empty command")
    if argv[0] in NOT_EXECUTABLE or any(a.startswith("<") and a.endswith(">") or "=<" in a for a in argv):
        raise NotExecutable(f"`{argv[0]}` has a placeholder or is a shell builtin: copy it and fill it in yourself")
    result: list[str] = []
    for i, arg in enumerate(argv):
        if KEY_REF in arg:
            if i > 0 and argv[i - 1] == "--set" and arg.endswith("=" + KEY_REF) and key_file is not None:
                result[-1] = "--set-file"
                result.append(arg[: -len(KEY_REF)] + str(key_file))
                continue
            raise NotExecutable("this command would put the API key in the process list: copy it and run it yourself")
        result.append(arg)
    return result


@contextlib.contextmanager
def key_file_for(settings: "Settings", argv: list[str]) -> Iterator[Path | None]:
    """A 0600 temp file holding the API key, only when the command refers to it; removed afterwards."""
    if not any(KEY_REF in a for a in argv) or not settings.api_key_value:
        yield None
        return
    fd, name = tempfile.mkstemp(prefix="castui-key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, settings.api_key_value.encode())
        os.close(fd)
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def child_environment(settings: "Settings", session: "Session | None" = None) -> dict[str, str]:
    """The user's environment without the API key, pointed at the same cluster castui looks at."""
    env = {k: v for k, v in os.environ.items() if k not in ("CASTAI_API_KEY", "CASTAI_API_TOKEN")}
    if settings.kubeconfig:
        env["KUBECONFIG"] = settings.kubeconfig
    return env


def with_context(argv: list[str], settings: "Settings") -> list[str]:
    """kubectl and helm act on the context castui diagnosed, not whatever is current (fixes come
    pinned already; this covers a command built without a session)."""
    from castui.engine.fixes import pin_target

    return pin_target(argv, context=settings.context, kubeconfig=settings.kubeconfig)


class TargetMoved(NotExecutable):
    kind = "target-moved"


def check_target(settings: "Settings", session: "Session | None") -> None:
    """Right before anything runs: the context castui diagnosed still points at the server it
    read. Someone may have edited the kubeconfig since; a fix must never land elsewhere."""
    from castui.clients.errors import ConfigurationError
    from castui.clients.kube import IN_CLUSTER
    from castui.clients.kubeconfig import existing_files, kubeconfig_paths, select_context

    kube = getattr(session, "kube", None) if session is not None else None
    if kube is None or kube.context_name == IN_CLUSTER:
        return
    paths = kubeconfig_paths(settings.kubeconfig)
    try:
        now = select_context(paths, existing_files(paths), kube.context_name)
    except ConfigurationError as error:
        raise TargetMoved(f"context {kube.context_name!r} cannot be read any more ({error}); nothing was run") from None
    if now.server != kube.server:
        raise TargetMoved(f"context {kube.context_name!r} now points at {now.server}, not at {kube.server} where castui "
                          "diagnosed it; nothing was run: re-run castui against the cluster you mean")


#: kubectl's global flags that take a value: the verb comes after them (`kubectl --context c --kubeconfig k patch …`)
KUBECTL_FLAGS_WITH_VALUE = frozenset({"--context", "--kubeconfig", "-n", "--namespace", "--cluster", "--user", "-s", "--server"})


def kubectl_verb(argv: list[str]) -> str | None:
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg in KUBECTL_FLAGS_WITH_VALUE:
            index += 2
        elif arg.startswith("-"):
            index += 1
        else:
            return arg
    return None


def supports_server_dry_run(argv: list[str]) -> bool:
    return bool(argv) and argv[0] == "kubectl" and kubectl_verb(argv) in (
        "apply", "annotate", "patch", "label", "scale", "delete", "create", "set")


def dry_run_argv(argv: list[str]) -> list[str]:
    return [*argv, "--dry-run=server"]


async def run_command(
    settings: "Settings",
    fix: Fix,
    argv: list[str],
    *,
    target: str,
    on_output: Callable[[str, str], Any] | None = None,
    dry_run: bool = False,
    cancel: asyncio.Event | None = None,
    session: "Session | None" = None,
) -> ExecutionResult:
    """Run one of the fix's commands, streaming output lines as (stream, line); with the session
    that diagnosed, only while its context still points at the same server."""
    if not dry_run:
        check_allowed(settings, fix, f"run `{shell_join(argv)}`")
    display = shell_join(dry_run_argv(argv) if dry_run else argv)
    started = time.monotonic()
    result = ExecutionResult(command=display, exit_code=None, duration_s=0.0, dry_run=dry_run)
    emit = on_output or (lambda stream, line: None)
    kept = 0

    def keep(stream: str, line: str) -> None:
        nonlocal kept
        if kept < OUTPUT_LIMIT:
            result.output.append((stream, line))
            kept += len(line)
        emit(stream, line)

    try:
        check_target(settings, session)
        with key_file_for(settings, argv) as key_file:
            real = with_context(executable_argv(dry_run_argv(argv) if dry_run else argv, key_file), settings)
            if shutil.which(real[0]) is None:
                raise NotExecutable(f"`{real[0]}` is not installed here: copy the command and run it where it is")
            process = await asyncio.create_subprocess_exec(
                *real,
                stdin=asyncio.subprocess.PIPE if fix.stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_environment(settings),
                start_new_session=True,  # so cancelling kills its children too
            )
            if fix.stdin and process.stdin:
                process.stdin.write(fix.stdin.encode())
                await process.stdin.drain()
                process.stdin.close()
            result.exit_code, result.cancelled = await _wait(process, keep, cancel)
    except CastuiError as error:
        result.error = str(error)
    except OSError as error:
        result.error = f"could not start `{argv[0]}`: {error.strerror or error}"
    result.duration_s = round(time.monotonic() - started, 3)
    audit(kind="command", command=display, target=target, exit_code=result.exit_code, dry_run=dry_run,
          cancelled=result.cancelled, error=result.error)
    return result


async def _wait(process: asyncio.subprocess.Process, keep: Callable[[str, str], None],
                cancel: asyncio.Event | None) -> tuple[int | None, bool]:
    async def pump(stream: asyncio.StreamReader | None, name: str) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            keep(name, line.decode("utf-8", "replace").rstrip("\n"))

    pumps = asyncio.gather(pump(process.stdout, "stdout"), pump(process.stderr, "stderr"))
    waiter = asyncio.ensure_future(process.wait())
    cancelled_wait = asyncio.ensure_future(cancel.wait()) if cancel else None
    try:
        done, _ = await asyncio.wait({waiter, *(x for x in [cancelled_wait] if x)}, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            _kill(process)
            await process.wait()
            return process.returncode, True
        await pumps
        return waiter.result(), False
    except asyncio.CancelledError:
        _kill(process)
        raise
    finally:
        if cancelled_wait:
            cancelled_wait.cancel()


def _kill(process: asyncio.subprocess.Process) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def apply_api_call(session: "Session", fix: Fix, *, target: str) -> ExecutionResult:
    """Make the change castui showed as a diff: read the policies now, apply the fix's merge patch
    (only the fields it changes) and PUT that, so what changed since the diagnosis is kept."""
    call: ApiCall | None = fix.api_call
    assert call is not None, "this fix has no API call"
    check_allowed(session.settings, fix, f"{call.method} the policies")
    started = time.monotonic()
    display = f"{call.method} {call.path}"
    result = ExecutionResult(command=display, exit_code=None, duration_s=0.0)
    try:
        cluster_id = session.cluster_id
        if not cluster_id:
            raise CastuiError("the cluster id is unknown: set CASTAI_CLUSTER_ID")
        check_target(session.settings, session)
        _, current = await session.castai.get_policies(cluster_id)
        await session.castai.put_policies(cluster_id, merge_patch(current, call.patch) if call.patch else call.body)
        result.exit_code = 0
        result.output.append(("stdout", "changed: " + ", ".join(f"{k}: {a!r} → {b!r}" for k, (a, b) in call.changes.items())))
    except CastuiError as error:
        result.exit_code, result.error = 1, str(error)
    result.duration_s = round(time.monotonic() - started, 3)
    audit(kind="api", command=display, target=target, exit_code=result.exit_code, changes={k: list(v) for k, v in call.changes.items()},
          error=result.error)
    return result


# --- the audit trail ------------------------------------------------------------------------------


def audit_path() -> Path:
    return state_dir() / "audit.log"


def audit(**entry: Any) -> None:
    """Append one JSON line; never raises (auditing must not break a fix), never holds a secret."""
    entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **entry}
    try:
        path = audit_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")
    except OSError:
        pass


def read_audit(limit: int = 200) -> list[dict[str, Any]]:
    try:
        lines = audit_path().read_text(encoding="utf-8").splitlines()[-limit:]
    except OSError:
        return []
    entries = []
    for line in lines:
        with contextlib.suppress(ValueError):
            entries.append(json.loads(line))
    return entries
