"""A fleet of lab clusters: `castui lab serve --fleet` and the fleet tests and benchmark.

Each cluster is its own `LabServer` running one scenario; one kubeconfig holds a
context per cluster (`lab-healthy`, `lab-demo`, …); one CAST AI API (its own server)
answers for all of them with one user key, as the real API does for an organisation.

Scenarios are built for a single cluster with fixed ids, so each fleet member is
rebuilt with its own cluster id, name and agent key (`_make_distinct`); the API's
data is then the members' data merged, by reference, so a policies change made
through the API is the member's own (and its reactions run).
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from castui.clients.errors import ConfigurationError
from castui.lab import KUBE_TOKEN
from castui.lab.scenarios import AGENT_KEY, CLUSTER_ID, CLUSTER_NAME, USER_KEY, LabCluster, build
from castui.lab.server import LAB_CERT_PEM, LabServer
from castui.lab.state import CastaiState, Fault, LabState

#: a mix a person would want to see side by side: healthy, broken agents, autoscaler and chart problems
DEFAULT_SCENARIOS = (
    "healthy", "demo", "invalid-api-key", "network-blocked", "no-matching-node-template",
    "pdb-blocking-eviction", "chart-outdated", "api-key-forbidden",
)  # fmt: skip
MIN_CLUSTERS, MAX_CLUSTERS = 3, 20
#: scenarios that change castui's own key: a fleet shares one key, so they cannot be members
NEEDS_OWN_KEY = {"api-key-missing": "castui has no key", "api-key-invalid": "castui's key is refused"}


def context_name(scenario: str) -> str:
    return f"lab-{scenario}"


def fleet_cluster_id(context: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"castui-lab-fleet/{context}"))


class FleetMember(LabCluster):
    """A scenario's cluster under its own id: the moves reactions make find its own policies."""

    cluster_id: str

    @property
    def policies(self) -> dict[str, Any]:
        return self.state.castai.policies[self.cluster_id]

    @property
    def default_template(self) -> dict[str, Any]:
        templates = self.state.castai.node_templates[self.cluster_id]
        return next(t for t in templates if t["template"].get("isDefault"))["template"]


@dataclass
class FleetLab:
    context: str
    scenario: str
    cluster: LabCluster
    server: LabServer
    terraform_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def cluster_id(self) -> str:
        return str(self.cluster.state.castai.clusters[0]["id"])


@dataclass
class RunningFleet:
    labs: list[FleetLab]
    api: LabServer
    workdir: Path
    kubeconfig: Path
    owns_workdir: bool = False
    api_key: str = USER_KEY
    stopped: bool = field(default=False, repr=False)

    @property
    def api_url(self) -> str:
        return self.api.url

    @property
    def contexts(self) -> list[str]:
        return [lab.context for lab in self.labs]

    def lab(self, context: str) -> FleetLab:
        return next(lab for lab in self.labs if lab.context == context)

    def settings_overrides(self) -> dict[str, Any]:
        """Flag-level settings every member shares (the context is chosen per member)."""
        return {
            "kubeconfig": str(self.kubeconfig),
            "api_url": self.api_url,
            "helm_repo_url": f"{self.api_url}/helm-charts",
            "status_url": f"{self.api_url}/status",
            # one Terraform directory for every member: it manages none of their CAST AI resources (each member's
            # own state is in <workdir>/<context>/terraform), so drift is ruled out rather than unknown for want of a state
            "terraform_dir": str(self.workdir / "terraform"),
        }

    def environment(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig), "CASTAI_API_URL": self.api_url, "CASTAI_API_KEY": self.api_key}

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        for server in [self.api, *(lab.server for lab in self.labs)]:
            server.stop()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RunningFleet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_fleet(
    scenarios: tuple[str, ...] | list[str] = DEFAULT_SCENARIOS, *, workdir: Path | None = None, latency: float = 0.0
) -> RunningFleet:
    """Serve 3–20 scenarios (distinct names) on 127.0.0.1, one context each, and their shared API."""
    names = list(scenarios)
    _validate(names)
    owns_workdir = workdir is None
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="castui-lab-fleet-"))
    workdir.mkdir(parents=True, exist_ok=True)
    labs: list[FleetLab] = []
    api: LabServer | None = None
    try:
        for scenario in names:
            context = context_name(scenario)
            cluster = build(scenario)
            _make_distinct(cluster, context)
            cluster.state.kube_tokens = {KUBE_TOKEN: "lab-admin", **cluster.state.kube_tokens}
            terraform_dir = workdir / context / "terraform"
            terraform_dir.mkdir(parents=True, exist_ok=True)
            if cluster.tfstate is not None:
                (terraform_dir / "terraform.tfstate").write_text(json.dumps(cluster.tfstate, indent=2))
            labs.append(FleetLab(context, scenario, cluster, LabServer(cluster.state).start(), terraform_dir))
        api = LabServer(_shared_api_state([lab.cluster for lab in labs])).start()
        if latency:
            for state in [api.state, *(lab.cluster.state for lab in labs)]:
                state.faults.append(Fault("latency", seconds=latency))
        kubeconfig = write_fleet_kubeconfig(workdir / "kubeconfig", [(lab.context, lab.server.https_url) for lab in labs])
        shared_terraform = workdir / "terraform"
        shared_terraform.mkdir(parents=True, exist_ok=True)
        (shared_terraform / "terraform.tfstate").write_text(
            json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "castui-lab-fleet", "outputs": {},
                        "resources": []}, indent=2))
    except BaseException:
        for server in [*(lab.server for lab in labs), *([api] if api else [])]:
            server.stop()
        if owns_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    return RunningFleet(labs, api, workdir, kubeconfig, owns_workdir)


def _validate(names: list[str]) -> None:
    from castui.lab.scenarios import SCENARIOS

    if not MIN_CLUSTERS <= len(names) <= MAX_CLUSTERS:
        raise ConfigurationError(f"a lab fleet has {MIN_CLUSTERS} to {MAX_CLUSTERS} clusters, not {len(names)}")
    if len(set(names)) != len(names):
        raise ConfigurationError("each cluster of a lab fleet runs a different scenario; repeated: "
                                 + ", ".join(sorted({n for n in names if names.count(n) > 1})))
    for name in names:
        if name not in SCENARIOS:
            raise ConfigurationError(f"unknown lab scenario {name!r}; `castui lab list` shows them")
        if name in NEEDS_OWN_KEY:
            raise ConfigurationError(f"scenario {name!r} cannot join a fleet: {NEEDS_OWN_KEY[name]}, "
                                     "and a fleet's clusters share castui's one API key")


def write_fleet_kubeconfig(path: Path, members: list[tuple[str, str]], *, token: str = KUBE_TOKEN) -> Path:
    """One kubeconfig, one context (and cluster, user) per member; the first is current."""
    ca = base64.b64encode(LAB_CERT_PEM.encode()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url, "certificate-authority-data": ca}} for context, url in members],
        "users": [{"name": f"{context}-user", "user": {"token": token}} for context, _ in members],
        "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-user"}} for context, _ in members],
        "current-context": members[0][0] if members else "",
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# -- one scenario, made one member of many -----------------------------------------------------


def _make_distinct(cluster: LabCluster, context: str) -> None:
    """Give a built scenario its own cluster id, name and agent key, everywhere they appear."""
    cluster_id = fleet_cluster_id(context)
    agent_key = f"castai-lab-agent-key-{cluster_id[:8]}{cluster_id[-8:]}"
    replace = {CLUSTER_ID: cluster_id, AGENT_KEY: agent_key}
    state = cluster.state
    for resource, items in state.objects.items():
        state.objects[resource] = [_distinct_object(obj, replace) for obj in items]
    state.logs = {key: _rewrite(text, replace) for key, text in state.logs.items()}
    for key, writer in state.log_writers.items():  # what the member's containers write on names it too
        writer.lines, writer.written = _rewrite(writer.lines, replace), state.logs[key]
    castai = state.castai
    state.castai = CastaiState(**{name: _rewrite(getattr(castai, name), replace) for name in CastaiState.__dataclass_fields__})
    for entry in state.castai.clusters:
        entry["name"] = context
        for provider in ("eks", "gke", "aks"):
            if isinstance(entry.get(provider), dict) and entry[provider].get("clusterName") == CLUSTER_NAME:
                entry[provider]["clusterName"] = context
    cluster.tfstate = _rewrite(cluster.tfstate, replace)
    cluster.__class__ = FleetMember  # reactions now find this member's own policies and templates
    cluster.cluster_id = cluster_id  # type: ignore[attr-defined]


def _rewrite(value: Any, replace: dict[str, str]) -> Any:
    """A copy of JSON-shaped data with every occurrence of each key of `replace` (in strings and keys) replaced."""
    if isinstance(value, str):
        for old, new in replace.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, bytes):
        for old, new in replace.items():
            value = value.replace(old.encode(), new.encode())
        return value
    if isinstance(value, dict):
        return {_rewrite(k, replace): _rewrite(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, replace) for v in value]
    return value


def _distinct_object(obj: dict[str, Any], replace: dict[str, str]) -> dict[str, Any]:
    """Secrets hide the key in base64 (and Helm releases in gzip too): decode, rewrite, encode again."""
    if obj.get("kind") != "Secret":
        return _rewrite(obj, replace)
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get("owner") == "helm":
        from castui.clients.helm import _unwrap, encode_release_secret

        release = _rewrite(json.loads(_unwrap(obj["data"]["release"])), replace)
        encoded = encode_release_secret(release, namespace=obj["metadata"]["namespace"], name=labels["name"],
                                        revision=int(labels["version"]), status=labels["status"])
        return {**_rewrite(obj, replace), "data": encoded["data"]}
    data = {k: base64.b64encode(_rewrite(base64.b64decode(v), replace)).decode() for k, v in (obj.get("data") or {}).items()}
    return {**_rewrite(obj, replace), **({"data": data} if "data" in obj else {})}


# -- the one API for all -----------------------------------------------------------------------


def _shared_api_state(members: list[LabCluster]) -> LabState:
    """The CAST AI API of the whole fleet: each member's data by reference, one user key for all."""
    state = LabState(now=members[0].now)
    castai = state.castai
    visible: list[str] = []
    for member in members:
        own = member.state.castai
        cluster_id = own.clusters[0]["id"]
        castai.clusters.extend(own.clusters)
        for name in ("policies", "node_templates", "workloads"):
            getattr(castai, name).update(getattr(own, name))
        for key, entry in own.api_keys.items():
            if key != USER_KEY:
                castai.api_keys[key] = entry  # the member's agent key, distinct per member
        user = own.api_keys.get(USER_KEY) or {"status": 200}
        if user.get("clusters") is None or cluster_id in user["clusters"]:
            visible.append(cluster_id)  # a scenario that hides its cluster from castui's key keeps it hidden
        castai.auth_tokens = castai.auth_tokens or own.auth_tokens
    castai.api_keys[USER_KEY] = {"status": 200, "clusters": visible}
    state.helm_index = members[0].state.helm_index
    state.status_page = members[0].state.status_page
    owners = {member.state.castai.clusters[0]["id"]: member for member in members}

    def forward(api: LabState, resource: str, namespace: str | None, name: str, obj: dict[str, Any] | None) -> None:
        """A policies PUT through the fleet's API is the member's own: store it there and let it react."""
        member = owners.get(name)
        if resource == "castai.policies" and member is not None and obj is not None:
            member.state.castai.policies[name] = obj
            with member.state.lock:
                for hook in member.state.on_write:
                    hook(member.state, resource, namespace, name, obj)

    state.on_write.append(forward)
    return state
