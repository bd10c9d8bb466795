"""Replaying a bundle: the raw answers under `raw/` rebuilt into a read-only lab, served on loopback,
so `castui --bundle FILE` and `castui diagnose --bundle FILE` show what the cluster looked like at
capture time (Session judges time-dependent checks at `captured_at`).

Every request the original run made gets the same answer: objects and logs from the lab's stores
(which apply the same selectors), and recorded failures (a 403, a timeout) from a route placed in
front of the lab's own. Writes answer 405, and the engine refuses to execute anything (read-only).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from castui.bundle import REPLAY_KEY, Manifest, RawAnswers, RawError, read_bundle
from castui.lab.http import LabRequest, LabResponse
from castui.lab.state import RESOURCES, CastaiState, LabState, ResourceType
from castui.report.redact import REDACTED

REPLAY_KUBE_TOKEN = "castui-replay-kube-token"
#: what the agent's key reads as once its Secret is redacted; the replay answers it as the API answered the real one
AGENT_KEY_SEEN = REDACTED
#: the status a failure kind is replayed with when castui's message names none
KIND_STATUS = {"unauthorized": 401, "forbidden": 403, "not-found": 404, "rate-limited": 429, "server-error": 500}
_STATUS_IN_MESSAGE = re.compile(
    r": (?:(?P<known>\d{3}) (?:Unauthorized|Forbidden|Not Found|Too Many Requests)[^:]*|server error (?P<server_error>\d{3})"
    r"|unexpected HTTP (?P<other>\d{3}))(?:: (?P<server>.*))?$", re.S)


@dataclass
class RunningReplay:
    """Quacks like `castui.lab.RunningLab`: settings overrides, an API key, stop()."""

    bundle: str
    manifest: Manifest
    server: Any  # castui.lab.server.LabServer
    state: LabState
    workdir: Path
    kubeconfig: Path
    terraform_dir: Path
    api_key: str | None
    scenario: None = None

    @property
    def captured_at(self) -> datetime:
        return self.manifest.captured_at

    @property
    def url(self) -> str:
        return str(self.server.url)

    def settings_overrides(self) -> dict[str, Any]:
        replay = self.manifest.replay
        overrides: dict[str, Any] = {
            "kubeconfig": str(self.kubeconfig),
            "context": self.manifest.kube_context or "castui-replay",
            "namespace": replay.namespace,
            "api_url": self.url,
            "helm_repo_url": f"{self.url}/helm-charts",
            "status_url": f"{self.url}/status",
            "terraform_dir": str(self.terraform_dir),
            "cluster_id": replay.cluster_id,
            "workloads": replay.workloads or None,
            "read_only": True,
        }
        if replay.thresholds:
            overrides["thresholds"] = replay.thresholds
        return overrides

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RunningReplay":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_replay(path: Path) -> RunningReplay:
    """Serve a bundle's raw answers read-only on 127.0.0.1; ConfigurationError if it is not a bundle."""
    from castui.lab.server import LabServer, load_routes

    manifest, answers, _ = read_bundle(path)
    state, failures, tfstate = rebuild(manifest, answers)
    workdir = Path(tempfile.mkdtemp(prefix="castui-replay-"))
    try:
        terraform_dir = workdir / "terraform"
        terraform_dir.mkdir()
        if tfstate is not None:
            (terraform_dir / "terraform.tfstate").write_text(tfstate)
        server = LabServer(state, routes=[failures.route, *load_routes()]).start()
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", server.https_url, manifest)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return RunningReplay(bundle=str(path), manifest=manifest, server=server, state=state, workdir=workdir,
                         kubeconfig=kubeconfig, terraform_dir=terraform_dir,
                         api_key=REPLAY_KEY if manifest.replay.had_api_key else None)


# --- rebuilding the lab state -----------------------------------------------------------------------


def rebuild(manifest: Manifest, raw: RawAnswers) -> tuple[LabState, "Failures", str | None]:
    """The LabState the raw answers describe, the recorded failures, and the Terraform state file to write."""
    state = LabState(now=manifest.captured_at, read_only=True, kube_tokens={REPLAY_KUBE_TOKEN: "castui-replay"})
    state.castai = CastaiState(api_keys={REPLAY_KEY: {"status": 200}} if manifest.replay.had_api_key else {})
    failures = Failures()
    seen: set[tuple[str, str | None, str | None]] = set()
    logs: dict[tuple[str, str, str, bool], list[tuple[int, str]]] = {}
    tfstate: str | None = None
    for answer in raw.answers:
        key, value = answer.key, answer.value
        if answer.error is not None:
            failures.add(key, answer.error)
        elif key[0] in ("list", "get") and key[1] in RESOURCES:
            for obj in (value if isinstance(value, list) else [value] if isinstance(value, dict) else []):
                ident = (key[1], _meta(obj).get("namespace"), _meta(obj).get("name"))
                if ident not in seen:  # the first answer wins: the diagnosis read it first
                    seen.add(ident)
                    state.items(key[1]).append(obj)
        elif key[0] == "logs" and isinstance(value, str):
            _, ns, pod, container, previous, tail = key
            logs.setdefault((ns, pod, container or "", bool(previous)), []).append((tail or 10**9, value))
        elif key[0] == "castai":
            _castai(state.castai, key[1:], value)
        elif key[0] == "helm-index" and isinstance(value, dict):
            state.helm_index = {"apiVersion": "v1", "entries": {
                chart: [{"name": chart, "version": version, "apiVersion": "v2"}] for chart, version in value.items()}}
        elif key[0] == "tfstate":
            tfstate = _tfstate(value)
        elif key[0] == "status-page" and isinstance(value, dict):
            state.status_page = _status_page(value)
    state.logs = {_named_container(state, where): _one_log(texts) for where, texts in logs.items()}
    return state, failures, tfstate


def _castai(castai: CastaiState, key: list[Any], value: Any) -> None:
    what, cluster_id = key[0], (key[1] if len(key) > 1 else None)
    if what == "clusters" and isinstance(value, list):
        known = {c.get("id") for c in castai.clusters}
        castai.clusters.extend(c for c in value if c.get("id") not in known)
    elif what == "cluster" and isinstance(value, dict):
        castai.clusters = [c for c in castai.clusters if c.get("id") != value.get("id")] + [value]
    elif what == "policies" and isinstance(value, dict):
        castai.policies[cluster_id] = value
    elif what == "node-templates" and isinstance(value, list):
        # the API sends stats beside each template, not inside it
        castai.node_templates[cluster_id] = [
            {"template": {k: v for k, v in t.items() if k != "stats"}, "stats": t.get("stats") or {}} for t in value]
    elif what == "workloads" and isinstance(value, list):
        castai.workloads[cluster_id] = value
    elif what == "workload-policies" and isinstance(value, list):
        castai.workload_policies[cluster_id] = value
    elif what == "auth-tokens" and isinstance(value, list):
        castai.auth_tokens = value
    elif what == "agent-key-status" and isinstance(value, int):
        castai.api_keys[AGENT_KEY_SEEN] = {"status": value}


def _named_container(state: LabState, where: tuple[str, str, str, bool]) -> tuple[str, str, str, bool]:
    """A log read without a container name is the pod's first container's, as the server picks it."""
    ns, pod, container, previous = where
    if not container:
        found = state.find("pods", ns, pod) or {}
        containers = (found.get("spec") or {}).get("containers") or [{}]
        container = containers[0].get("name") or ""
    return ns, pod, container, previous


def _one_log(texts: list[tuple[int, str]]) -> str:
    """The longest read of a log serves every tail, unless a shorter read is not its end."""
    texts.sort()
    longest = texts[-1][1]
    for _, text in texts[:-1]:
        if not longest.endswith(text):
            return text
    return longest


def _tfstate(declaration: Any) -> str | None:
    """A Terraform state that `castui.clients.terraform.read_state` reads back as the recorded declaration."""
    if not isinstance(declaration, dict):
        return None
    resources = []
    if declaration.get("address"):
        parts = str(declaration["address"]).split(".")
        module = ".".join(parts[:-2]) or None
        resource = {"mode": "managed", "type": "castai_autoscaler", "name": parts[-1],
                    "instances": [{"attributes": {"cluster_id": declaration.get("cluster_id"),
                                                  "autoscaler_policies_json": json.dumps(declaration.get("declared") or {})}}]}
        if module:
            resource["module"] = module
        resources.append(resource)
    for template in declaration.get("node_templates") or []:  # the camelCase declaration reads back as is
        declared = template.get("declared") or {}
        attributes = {"name": template.get("name"), **{_snake(k): [v] if isinstance(v, dict) else v for k, v in declared.items()}}
        attributes = {k: ([{_snake(ck): cv for ck, cv in v[0].items()}] if isinstance(v, list) else v) for k, v in attributes.items()}
        resources.append({"mode": "managed", "type": "castai_node_template", "name": str(template.get("name")),
                          "instances": [{"attributes": attributes}]})
    return json.dumps({"version": 4, "resources": resources}, indent=2)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _status_page(page: dict[str, Any]) -> dict[str, Any] | None:
    """The Statuspage documents that read back as the recorded page; an unavailable page stays away (404)."""
    if not page.get("available"):
        return None
    return {"status": {"status": {"indicator": page.get("indicator"), "description": page.get("description")}},
            "incidents": {"incidents": page.get("incidents") or []}}


def write_kubeconfig(path: Path, server: str, manifest: Manifest) -> Path:
    """A kubeconfig with the original context and cluster names, pointing at the replay."""
    from castui.lab.server import LAB_CERT_PEM

    context = manifest.kube_context or "castui-replay"
    cluster = manifest.kube_cluster or "castui-replay"
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(LAB_CERT_PEM.encode()).decode()}}],
        "users": [{"name": "castui-replay", "user": {"token": REPLAY_KUBE_TOKEN}}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": "castui-replay"}}],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# --- recorded failures ---------------------------------------------------------------------------


@dataclass
class Failure:
    paths: tuple[str, ...]
    #: query arguments that must match (None: must be absent)
    query: dict[str, str | None]
    #: the X-API-Key the request must carry (CAST AI calls); None for Kubernetes and other paths
    api_key: str | None
    error: RawError


@dataclass
class Failures:
    """Failed requests of the original run, answered again as they failed."""

    items: list[Failure] = field(default_factory=list)

    def add(self, key: list[Any], error: RawError) -> None:
        where = _request_of(key)
        if where is not None:
            self.items.append(Failure(*where, error=error))

    def route(self, state: LabState, req: LabRequest) -> LabResponse | None:
        if req.method not in ("GET", "HEAD"):
            return None
        for failure in self.items:
            if (req.path in failure.paths
                    and all(req.arg(name) == value for name, value in failure.query.items())
                    and (failure.api_key is None or req.headers.get("x-api-key") == failure.api_key)):
                return _failed(req.path, failure.error)
        return None


def _request_of(key: list[Any]) -> tuple[tuple[str, ...], dict[str, str | None], str | None] | None:
    """The request (paths, query, API key) a raw key names."""
    kind = key[0]
    if kind in ("list", "get") and key[1] in RESOURCES:
        resource, namespace, name = key[1], key[2], (key[3] if kind == "get" else None)
        query: dict[str, str | None] = {"labelSelector": key[3], "fieldSelector": key[4]} if kind == "list" else {}
        return tuple(_kube_path(t, namespace, name) for t in _served_as(RESOURCES[resource])), query, None
    if kind == "fold" and key[2] in RESOURCES:  # a list read page by page: ("fold", name, resource, ns, fields)
        return _request_of(["list", key[2], key[3], None, key[4]])
    if kind == "logs":
        _, ns, pod, container, previous, _tail = key
        return ((f"/api/v1/namespaces/{ns}/pods/{pod}/log",),
                {"container": container, "previous": "true" if previous else None}, None)
    if kind == "castai":
        what, cluster_id = key[1], (key[2] if len(key) > 2 else None)
        path = {
            "clusters": "/v1/kubernetes/external-clusters",
            "agent-key-status": "/v1/kubernetes/external-clusters",
            "cluster": f"/v1/kubernetes/external-clusters/{cluster_id}",
            "policies": f"/v1/kubernetes/clusters/{cluster_id}/policies",
            "node-templates": f"/v1/kubernetes/clusters/{cluster_id}/node-templates",
            "workloads": f"/v1/workload-autoscaling/clusters/{cluster_id}/workloads",
            "workload-policies": f"/v1/workload-autoscaling/clusters/{cluster_id}/policies",
            "auth-tokens": "/v1/auth/tokens",
        }.get(what)
        return ((path,), {}, AGENT_KEY_SEEN if what == "agent-key-status" else REPLAY_KEY) if path else None
    if kind == "helm-index":
        return ("/helm-charts/index.yaml",), {}, None
    return None  # the Terraform state is a file: see _tfstate


def _served_as(rt: ResourceType) -> list[ResourceType]:
    if rt.plural == "poddisruptionbudgets":  # clusters before 1.21 serve policy/v1beta1 only
        return [rt, ResourceType("policy", "v1beta1", rt.plural, rt.kind, True)]
    return [rt]


def _kube_path(rt: ResourceType, namespace: str | None, name: str | None) -> str:
    scope = f"/namespaces/{namespace}" if rt.namespaced and namespace else ""
    return f"{rt.api_prefix}{scope}/{rt.plural}" + (f"/{name}" if name else "")


def _failed(path: str, error: RawError) -> LabResponse:
    """The answer that makes castui fail the same way: the status and the server's own words."""
    if error.kind in ("timeout", "connection"):
        # headers, then a body that breaks off: the client reports a connection closed mid-response
        return LabResponse(200, None, "application/json", stream=_broken())
    if error.kind == "malformed-response":
        return LabResponse(200, b'{"replayed": "a malformed answer', "application/json")
    match = _STATUS_IN_MESSAGE.search(error.message)
    status = int(next((g for g in (match["known"], match["server_error"], match["other"]) if g), 0)) if match else 0
    status = status or KIND_STATUS.get(error.kind, 500)
    message = (match["server"] if match and match["server"] else None) or error.message
    from castui.lab.kube_api import is_kube_path, status_response

    if is_kube_path(path):
        return status_response(status, message)
    return LabResponse.of_json({"message": message}, status)


def _broken() -> Iterator[bytes]:
    yield b'{"items": ['
    raise ConnectionAbortedError("replaying a failed request")


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}

