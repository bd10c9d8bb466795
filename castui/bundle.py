"""`castui bundle`: a redacted debug bundle for CAST AI support, which castui can also replay.

One `.tar.gz` with a single top-level directory:

    manifest.json              what was collected, what could not be and why, redaction counts by kind
    diagnosis.json, .md        castui's own findings
    helm/releases.json         each release: chart, version, status, user-supplied values (redacted)
    components/                the namespace's Deployments, DaemonSets and pods (status)
    logs/<pod>/<container>.log current and previous logs of every pod in the namespace (bounded)
    events/                    the namespace's events and the cluster's Warning events (.txt and .json)
    cluster/                   nodes (capacity, allocatable, conditions, providerID, labels), PDBs
    castai/                    the cluster, policies, node templates and workloads as the API sent them
    status-page.json, audit.jsonl
    raw/answers.json           every answer castui used, redacted: `castui --bundle FILE` serves them again

Everything goes through the one redactor before it is written; nothing unredacted touches the disk.
A part that cannot be read (Forbidden, timeout, no API key) is listed in the manifest and the rest goes on.
"""

from __future__ import annotations

import asyncio
import errno
import io
import json
import os
import re
import tarfile
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from castui import __version__
from castui.clients.errors import CastuiError, ConfigurationError
from castui.engine.facts import raw_key

if TYPE_CHECKING:
    from castui.clients.helm import HelmRelease
    from castui.diagnosis import Diagnosis, StatusPage
    from castui.engine.facts import Facts
    from castui.engine.session import Session
    from castui.report.redact import Redactor

BUNDLE_FORMAT = "castui.bundle/v1"
RAW_FORMAT = "castui.raw/v1"
MANIFEST = "manifest.json"
ANSWERS = "raw/answers.json"
#: the replay server accepts this key; in `raw/`, the auth-token record of the user's key carries it as its prefix
REPLAY_KEY = "castui-replay-key"
LOG_TAIL_LINES = 2000
#: each log file keeps its newest bytes up to this
LOG_MAX_BYTES = 512 * 1024
LOG_FETCHES = 8
#: how far back logs and events go unless asked (`castui bundle --since`)
DEFAULT_SINCE = timedelta(hours=1)

Progress = Callable[[str, float], None]


# --- the bundle's own format ------------------------------------------------------------------


class Missing(BaseModel):
    """A part that could not be collected, and why."""

    part: str
    kind: str
    reason: str


class Collected(BaseModel):
    path: str
    what: str


class ReplaySettings(BaseModel):
    """What the run was configured with, so a replay judges the same way."""

    namespace: str
    cluster_id: str | None = None
    had_api_key: bool = True
    thresholds: dict[str, Any] = Field(default_factory=dict)
    workloads: list[str] = Field(default_factory=list)


class Manifest(BaseModel):
    format: str = BUNDLE_FORMAT
    castui_version: str
    #: when the cluster was read; a replay judges time-dependent checks at this moment
    captured_at: datetime
    since: str
    kube_context: str | None = None
    kube_cluster: str | None = None
    cluster_id: str | None = None
    cluster_name: str | None = None
    region: str | None = None
    namespace: str
    api_url: str | None = None
    lab: str | None = None
    exit_code: int | None = None
    collected: list[Collected] = Field(default_factory=list)
    not_collected: list[Missing] = Field(default_factory=list)
    #: redactions made in this bundle, by kind (api-key, header, secret-data, …)
    redactions: dict[str, int] = Field(default_factory=dict)
    replay: ReplaySettings


class RawError(BaseModel):
    kind: str
    message: str
    hint: str | None = None


class RawAnswer(BaseModel):
    #: the request, as `castui.engine.facts.raw_key` names it, e.g. ["list", "pods", "castai-agent", null, null]
    key: list[Any]
    value: Any = None
    error: RawError | None = None


class RawAnswers(BaseModel):
    format: str = RAW_FORMAT
    answers: list[RawAnswer] = Field(default_factory=list)


class BundleResult(BaseModel):
    path: Path
    manifest: Manifest
    size: int
    #: the diagnosis the bundle carries (unredacted, in memory only)
    diagnosis: Any = Field(default=None, exclude=True, repr=False)

    def __fspath__(self) -> str:
        """A result stands for its file: `Path(result)`, `open(result)`."""
        return str(self.path)


# --- collecting ---------------------------------------------------------------------------------


class _Contents:
    """The bundle's files, each redacted as it is added, and the manifest's lists."""

    def __init__(self, redactor: "Redactor") -> None:
        self.redactor = redactor
        self.files: dict[str, bytes] = {}
        self.collected: list[Collected] = []
        self.missing: list[Missing] = []

    def text(self, path: str, what: str, content: str) -> None:
        self.files[path] = self.redactor.text(content).encode()
        self.collected.append(Collected(path=path, what=what))

    def json(self, path: str, what: str, data: Any) -> None:
        self.files[path] = _json_bytes(self.redactor.data(data))
        self.collected.append(Collected(path=path, what=what))

    def miss(self, part: str, error: CastuiError) -> None:
        self.missing.append(Missing(part=part, kind=error.kind, reason=self.redactor.text(str(error))))

    async def part(self, name: str, collect: Awaitable[None]) -> None:
        try:
            await collect
        except CastuiError as error:
            self.miss(name, error)


async def collect_bundle(session: "Session", output: Path, *, since: timedelta = DEFAULT_SINCE,
                         progress: Progress | None = None, overwrite: bool = True) -> BundleResult:
    """Diagnose, collect, redact and write the bundle to `output` (a .tar.gz, mode 0600)."""
    from castui.redaction import redactor_for

    say = progress or (lambda message, fraction: None)
    say("diagnosing", 0.0)
    diagnosis, status = await asyncio.gather(session.diagnose(), session.status_page())
    facts = session.last_facts
    assert facts is not None
    redactor = redactor_for(session.settings)
    contents = _Contents(redactor)
    cutoff = facts.now - since
    ns = session.settings.namespace

    parts: list[tuple[str, Awaitable[None]]] = [
        ("Helm releases", _helm(contents, facts)),
        (f"Deployments in {ns}", _deployments(contents, facts)),
        (f"DaemonSets in {ns}", _daemonsets(contents, facts)),
        (f"pods and logs in {ns}", _pods_and_logs(contents, facts, cutoff)),
        (f"events in {ns}", _events(contents, facts, ns, cutoff)),
        ("Warning events in all namespaces", _events(contents, facts, None, cutoff)),
        ("nodes", _nodes(contents, facts)),
        ("PodDisruptionBudgets", _pdbs(contents, facts)),
        ("the CAST AI cluster", _castai_cluster(contents, facts)),
        ("the autoscaler policies", _castai_policies(contents, facts)),
        ("the node templates", _castai_templates(contents, facts)),
        ("the workload autoscaler's workloads", _castai_workloads(contents, facts)),
        *((f"the {key[2]} behind the check's {key[1]} summary", _behind_fold(facts, key)) for key in _folds(facts)),
    ]
    done = 0

    async def run(name: str, collect: Awaitable[None]) -> None:
        nonlocal done
        await contents.part(name, collect)
        done += 1
        say(f"collected {name}", 0.3 + 0.6 * done / len(parts))

    say("collecting", 0.3)
    await asyncio.gather(*(run(name, collect) for name, collect in parts))

    say("writing", 0.9)
    _own_findings(contents, session, diagnosis, status)
    contents.files[ANSWERS] = _json_bytes(raw_answers(facts, status, redactor, session.settings.api_key_value).model_dump(mode="json"))
    contents.collected.append(Collected(path=ANSWERS, what="every answer castui used, redacted, for `castui --bundle`"))
    manifest = _manifest(session, diagnosis, since, contents)
    contents.files = {MANIFEST: _json_bytes(manifest.model_dump(mode="json")), **contents.files}
    root = f"castui-bundle-{diagnosis.generated_at:%Y%m%dT%H%M%SZ}"
    size = write_tar(output, root, contents.files, mtime=diagnosis.generated_at, overwrite=overwrite)
    say("done", 1.0)
    return BundleResult(path=output, manifest=manifest, size=size, diagnosis=diagnosis)


def _manifest(session: "Session", diagnosis: "Diagnosis", since: timedelta, contents: _Contents) -> Manifest:
    target = diagnosis.target
    settings = session.settings
    manifest = Manifest(
        castui_version=__version__, captured_at=diagnosis.generated_at, since=format_duration(since),
        kube_context=target.context, kube_cluster=target.kube_cluster, cluster_id=target.cluster_id,
        cluster_name=target.cluster_name, region=target.region, namespace=target.namespace,
        api_url=target.api_url, lab=target.lab, exit_code=diagnosis.exit_code,
        collected=sorted(contents.collected, key=lambda c: c.path), not_collected=contents.missing,
        replay=ReplaySettings(namespace=settings.namespace, cluster_id=target.cluster_id,
                              had_api_key=settings.api_key_value is not None,
                              thresholds=settings.thresholds.model_dump(), workloads=list(settings.workloads)),
    )
    # redacted like every other file (a --redact pattern may name the cluster); the counts come last
    manifest = Manifest.model_validate(contents.redactor.data(manifest.model_dump(mode="json")))
    manifest.redactions = {kind: n for kind, n in sorted(contents.redactor.counts.items()) if n}
    return manifest


def _own_findings(contents: _Contents, session: "Session", diagnosis: "Diagnosis", status: "StatusPage") -> None:
    from castui.report.markdown import render_markdown
    from castui.support import audit_entries

    contents.json("diagnosis.json", "castui's diagnosis (castui.diagnosis/v2)", diagnosis.to_json_dict())
    contents.text("diagnosis.md", "castui's diagnosis, for people", render_markdown(diagnosis, contents.redactor))
    contents.json("status-page.json", "CAST AI's status page at capture time", status.model_dump(mode="json"))
    entries = audit_entries(diagnosis.target.cluster_id, diagnosis.target.context)
    contents.text("audit.jsonl", "fixes castui ran on this cluster, and their re-checks (castui's audit log)",
                  "".join(json.dumps(e, default=str) + "\n" for e in entries))


# --- the parts ----------------------------------------------------------------------------------


async def _helm(contents: _Contents, facts: "Facts") -> None:
    releases = await facts.helm_releases()
    contents.json("helm/releases.json", f"Helm releases in {facts.ns}: chart, version, status, user-supplied values",
                  [_release(r) for r in releases])


def _release(release: "HelmRelease") -> dict[str, Any]:
    return {
        "name": release.name, "namespace": release.namespace, "revision": release.revision, "status": release.status,
        "chart": release.chart, "chart_version": release.chart_version, "app_version": release.app_version,
        "first_deployed": release.first_deployed, "last_deployed": release.last_deployed,
        "description": release.description,
        # only what the user supplied (--set, -f); secret-looking values become [REDACTED], keys stay
        "values": release.config,
    }


async def _deployments(contents: _Contents, facts: "Facts") -> None:
    items = await facts.ns_deployments()
    contents.json("components/deployments.json", f"Deployments in {facts.ns} and their status", [_workload(d) for d in items])


async def _daemonsets(contents: _Contents, facts: "Facts") -> None:
    items = await facts.kube_list("daemonsets", facts.ns)
    contents.json("components/daemonsets.json", f"DaemonSets in {facts.ns} and their status", [_workload(d) for d in items])


def _workload(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return {
        "name": _meta(obj).get("name"),
        "labels": _meta(obj).get("labels") or {},
        "replicas": spec.get("replicas"),
        "images": {c.get("name"): c.get("image") for c in containers},
        # env values go through the redactor's name/value rule: a secret-looking name hides its value
        "env": {c.get("name"): c.get("env") or [] for c in containers},
        "status": obj.get("status") or {},
    }


async def _pods_and_logs(contents: _Contents, facts: "Facts", cutoff: datetime) -> None:
    pods = await facts.ns_pods()
    contents.json("components/pods.json", f"pods in {facts.ns} and their status", [_pod(p) for p in pods])
    limit = asyncio.Semaphore(LOG_FETCHES)

    async def one(pod: str, container: str, previous: bool) -> None:
        path = f"logs/{pod}/{container}{'.previous' if previous else ''}.log"
        async with limit:
            try:
                text = await facts.logs(pod, container, previous=previous, tail=LOG_TAIL_LINES)
            except CastuiError as error:
                contents.miss(path, error)
                return
        what = f"{'previous' if previous else 'current'} log of {pod} container {container}"
        contents.text(path, what + f" (newest {LOG_MAX_BYTES // 1024} KiB, lines since {cutoff:%Y-%m-%d %H:%M} UTC)",
                      since_filter(newest_bytes(text, LOG_MAX_BYTES), cutoff))

    fetches = []
    for pod in pods:
        name = _meta(pod).get("name")
        restarts = {s.get("name"): s.get("restartCount") or 0 for s in _container_statuses(pod)}
        for container in _container_names(pod):
            fetches.append(one(name, container, False))
            if restarts.get(container):
                fetches.append(one(name, container, True))
    await asyncio.gather(*fetches)


def _pod(pod: dict[str, Any]) -> dict[str, Any]:
    status = pod.get("status") or {}
    statuses = _container_statuses(pod)
    return {
        "name": _meta(pod).get("name"),
        "labels": _meta(pod).get("labels") or {},
        "node": (pod.get("spec") or {}).get("nodeName"),
        "phase": status.get("phase"),
        "ready": f"{sum(1 for s in statuses if s.get('ready'))}/{len(_container_names(pod))}",
        "restarts": sum(s.get("restartCount") or 0 for s in statuses),
        "start_time": status.get("startTime"),
        "conditions": status.get("conditions") or [],
        "containers": [{k: s.get(k) for k in ("name", "image", "ready", "restartCount", "state", "lastState")} for s in statuses],
    }


async def _events(contents: _Contents, facts: "Facts", namespace: str | None, cutoff: datetime) -> None:
    if namespace is None:
        events = await facts.kube_list("events", None, field_selector="type=Warning")
        name, what = "warnings", "Warning events in all namespaces"
    else:
        events = await facts.events(namespace=namespace)
        name, what = namespace, f"events in {namespace}"
    recent = sorted((e for e in events if (event_time(e) or cutoff) >= cutoff), key=lambda e: event_time(e) or cutoff)
    what += f" since {cutoff:%Y-%m-%d %H:%M} UTC"
    contents.text(f"events/{name}.txt", what, events_table(recent))
    contents.json(f"events/{name}.json", what, recent)


async def _nodes(contents: _Contents, facts: "Facts") -> None:
    nodes = await facts.nodes()
    contents.json("cluster/nodes.json", "nodes: capacity, allocatable, conditions, providerID, labels, taints",
                  [_node(n) for n in nodes])


def _node(node: dict[str, Any]) -> dict[str, Any]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    return {
        "name": _meta(node).get("name"), "provider_id": spec.get("providerID"), "unschedulable": spec.get("unschedulable", False),
        "taints": spec.get("taints") or [], "labels": _meta(node).get("labels") or {},
        "capacity": status.get("capacity") or {}, "allocatable": status.get("allocatable") or {},
        "conditions": [{k: c.get(k) for k in ("type", "status", "reason", "message", "lastTransitionTime")}
                       for c in status.get("conditions") or []],
    }


async def _pdbs(contents: _Contents, facts: "Facts") -> None:
    pdbs = await facts.pdbs()
    contents.json("cluster/pdbs.json", "PodDisruptionBudgets in all namespaces", [
        {"namespace": _meta(p).get("namespace"), "name": _meta(p).get("name"), "spec": p.get("spec") or {}, "status": p.get("status") or {}}
        for p in pdbs
    ])


async def _castai_cluster(contents: _Contents, facts: "Facts") -> None:
    cluster = await facts.cluster()
    contents.json("castai/cluster.json", "the cluster as the CAST AI API reports it", cluster.model_dump(mode="json", by_alias=True))


async def _castai_policies(contents: _Contents, facts: "Facts") -> None:
    _, raw = await facts.policies_with_raw()
    contents.json("castai/policies.json", "the autoscaler policies, as the API sent them", raw)


async def _castai_templates(contents: _Contents, facts: "Facts") -> None:
    templates = await facts.node_templates()
    contents.json("castai/node-templates.json", "node templates (with their stats)",
                  [t.model_dump(mode="json", by_alias=True) for t in templates])


async def _castai_workloads(contents: _Contents, facts: "Facts") -> None:
    workloads = await facts.workloads()
    contents.json("castai/workloads.json", "workload autoscaler workloads and recommendations",
                  [w.model_dump(mode="json", by_alias=True) for w in workloads])


# --- raw answers (for replay) ---------------------------------------------------------------------


def _folds(facts: "Facts") -> list[list[Any]]:
    """Lists a check read page by page and kept only a summary of (`Facts.kube_fold`)."""
    return [key for key in map(json.loads, facts.raw) if key[0] == "fold"]


async def _behind_fold(facts: "Facts", key: list[Any]) -> None:
    """A summary cannot be served again: list the objects themselves, so a replay can fold them anew."""
    _, _, resource, namespace, field_selector = key
    await facts.kube_list(resource, namespace, field_selector=field_selector)


def raw_answers(facts: "Facts", status: "StatusPage", redactor: "Redactor", api_key: str | None) -> RawAnswers:
    """Every answer the run used, redacted by what it is: Kubernetes objects (Secrets lose their data,
    Helm payloads are redacted inside), logs, CAST AI JSON; failures with castui's message."""
    answers = []
    for key_text, value in facts.raw.items():
        key = json.loads(key_text)
        answers.append(RawAnswer(key=key, value=_redact_answer(key, value, redactor, api_key)))
    for key_text, error in facts.raw_errors.items():
        if key_text in facts.raw:
            continue
        answers.append(RawAnswer(key=json.loads(key_text), error=RawError(
            kind=str(error["kind"]), message=redactor.text(str(error["message"])),
            hint=redactor.text(error["hint"]) if error.get("hint") else None)))
    answers.append(RawAnswer(key=json.loads(raw_key(("status-page",))), value=redactor.data(status.model_dump(mode="json"))))
    return RawAnswers(answers=answers)


def _redact_answer(key: list[Any], value: Any, redactor: "Redactor", api_key: str | None) -> Any:
    if key[0] in ("list", "get"):
        if isinstance(value, list):
            return [redactor.kube_object(obj, key[1]) for obj in value]
        return redactor.kube_object(value, key[1]) if value is not None else None
    if key[0] == "logs" and isinstance(value, str):
        return redactor.text(newest_bytes(value, LOG_MAX_BYTES))
    if key[:2] == ["castai", "auth-tokens"] and isinstance(value, list):
        return _replayable_tokens(value, redactor, api_key)
    return redactor.data(value)


def _replayable_tokens(tokens: list[Any], redactor: "Redactor", api_key: str | None) -> list[Any]:
    """Token records are redacted, prefixes included; the one that is castui's key gets the replay key as
    its prefix, so a replay still finds (and judges) the key's record."""
    out = []
    for token in tokens:
        prefix = token.get("tokenPrefix") if isinstance(token, dict) else None
        mine = bool(api_key and prefix and api_key.startswith(prefix))
        redacted = redactor.data(token)
        if mine:
            redacted["tokenPrefix"] = REPLAY_KEY
        out.append(redacted)
    return out


# --- writing ----------------------------------------------------------------------------------------


def write_tar(output: Path, root: str, files: dict[str, bytes], *, mtime: datetime, overwrite: bool = True) -> int:
    """Write the .tar.gz next to its final name, readable by its owner only, and move it into place
    (without `overwrite`, only if nothing is there by then: FileExistsError otherwise)."""
    if output.parent.exists() and not output.parent.is_dir():
        # mkdir would say FileExistsError, which reads as "the bundle appeared meanwhile"
        raise NotADirectoryError(errno.ENOTDIR, "its directory is a file", str(output.parent))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for path, data in files.items():
                info = tarfile.TarInfo(f"{root}/{path}")
                info.size, info.mtime, info.mode = len(data), int(mtime.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
        if overwrite:
            os.replace(partial, output)
        else:
            from castui.atomic import place_new

            place_new(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output.stat().st_size


#: what a replay reads from a bundle, at most: a crafted archive (a gzip bomb, thousands of members)
#: gets one clear error instead of the machine's memory
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = {MANIFEST: 4 * 1024 * 1024, ANSWERS: 1024 * 1024 * 1024}
MAX_OTHER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 1536 * 1024 * 1024
_CHUNK = 1024 * 1024


class BadBundle(ConfigurationError):
    """A file that is not a castui bundle castui can read; exit 2 with one line saying why."""


def read_bundle(path: Path, *, all_files: bool = False) -> tuple[Manifest, RawAnswers, dict[str, bytes]]:
    """The manifest, the raw answers and (with `all_files`) every other file of a bundle, paths without
    the top directory. Members are streamed with size limits; anything malformed is one BadBundle."""
    if not path.is_file():
        raise ConfigurationError(f"bundle {path} not found", hint="make one with `castui bundle`")
    hint = "make one with `castui bundle`"
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            total = 0
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise BadBundle(f"{path}: more than {MAX_MEMBERS:,} members: not a castui bundle", hint=hint)
                name = member.name.split("/", 1)[-1]
                if not member.isfile() or (name not in MAX_MEMBER_BYTES and not all_files):
                    continue
                limit = MAX_MEMBER_BYTES.get(name, MAX_OTHER_BYTES)
                if member.size > limit or total + member.size > MAX_TOTAL_BYTES:
                    raise BadBundle(f"{path}: {name} is {member.size:,} bytes, over castui's limit of {limit:,}", hint=hint)
                files[name] = _read_member(tar, member, limit, path, name)
                total += len(files[name])
    except BadBundle:
        raise
    except (OSError, tarfile.TarError, EOFError, ValueError) as exc:
        raise BadBundle(f"{path}: not a castui bundle ({type(exc).__name__}: {str(exc)[:200]})", hint=hint) from None
    if MANIFEST not in files or ANSWERS not in files:
        raise BadBundle(f"{path}: not a castui bundle (no {MANIFEST} or {ANSWERS})", hint=hint)
    try:
        manifest = Manifest.model_validate_json(files[MANIFEST])
        answers = RawAnswers.model_validate_json(files[ANSWERS])
        for answer in answers.answers:  # every key must be one castui could have made: names, numbers, nulls
            if not answer.key or not all(part is None or isinstance(part, (str, int, float)) for part in answer.key):
                raise ValueError(f"an answer's key {str(answer.key)[:80]} is not a request castui makes")
    except (ValueError, TypeError) as exc:
        where = MANIFEST if "Manifest" in str(exc)[:200] else ANSWERS
        raise BadBundle(f"{path}: {where} is malformed ({type(exc).__name__}: {_first_line(exc)})", hint=hint) from None
    if manifest.format != BUNDLE_FORMAT or answers.format != RAW_FORMAT:
        raise BadBundle(f"{path}: bundle format {manifest.format!r} is not {BUNDLE_FORMAT!r}")
    return manifest, answers, files


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int, path: Path, name: str) -> bytes:
    """A member read in chunks, stopping at `limit` whatever its header claims."""
    handle = tar.extractfile(member)
    if handle is None:
        return b""
    chunks, size = [], 0
    while chunk := handle.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BadBundle(f"{path}: {name} is over castui's limit of {limit:,} bytes", hint="make one with `castui bundle`")
        chunks.append(chunk)
    return b"".join(chunks)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0][:200]


# --- small readers and formatters ------------------------------------------------------------------


_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `2d`, `1h30m`."""
    compact = text.strip().lower()
    if not compact or _DURATION.sub("", compact):
        raise ConfigurationError(f"--since {text!r} is not a duration", hint="e.g. 30m, 1h, 2d, 1h30m")
    return timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(compact)))


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def newest_bytes(text: str, limit: int) -> str:
    """The end of a log, at most `limit` bytes, starting at a line boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    tail = data[-limit:]
    cut = tail.find(b"\n")
    return tail[cut + 1 if cut >= 0 else 0:].decode("utf-8", "replace")


_LOG_TIME = re.compile(
    r'^(?:\S+\s+)?(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))'  # RFC 3339 first (or after a level)
    r'|\b(?:time|ts)="?(?P<kv>\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d))'  # logfmt
    r'|"(?:time|ts)":\s*"(?P<json>\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d))"'  # JSON lines
)


def since_filter(text: str, cutoff: datetime) -> str:
    """Lines logged at or after `cutoff`; a line without a timestamp goes with the line before it."""
    kept, keep = [], True
    for line in text.splitlines(keepends=True):
        match = _LOG_TIME.search(line[:200])
        if match:
            stamp = _parse_time(match["iso"] or match["kv"] or match["json"])
            keep = stamp is None or stamp >= cutoff
        if keep:
            kept.append(line)
    return "".join(kept)


def event_time(event: dict[str, Any]) -> datetime | None:
    for value in (event.get("lastTimestamp"), event.get("eventTime"), (event.get("series") or {}).get("lastObservedTime"),
                  event.get("firstTimestamp"), _meta(event).get("creationTimestamp")):
        if value and (parsed := _parse_time(str(value))):
            return parsed
    return None


def events_table(events: list[dict[str, Any]]) -> str:
    rows = [("LAST SEEN (UTC)", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")]
    for event in events:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        seen = event_time(event)
        obj = f"{(involved.get('kind') or '').lower()}/{involved.get('name') or ''}"
        if involved.get("namespace"):
            obj = f"{involved['namespace']}/{obj}"
        rows.append((f"{seen:%Y-%m-%d %H:%M:%S}" if seen else "?", event.get("type") or "", event.get("reason") or "", obj,
                     str(event.get("count") or (event.get("series") or {}).get("count") or 1),
                     " ".join(str(event.get("message") or event.get("note") or "").split())))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5] + "\n" for row in rows)


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, default=_json_default, ensure_ascii=False) + "\n").encode()


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _container_names(pod: dict[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("name") for part in ("initContainers", "containers") for c in spec.get(part) or [] if c.get("name")]


def _container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
