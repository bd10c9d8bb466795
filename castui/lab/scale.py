"""A generated big cluster for `castui lab serve --scale …` and the benchmark.

`parse_scale("nodes=5000,pods=100000")` reads the size; `build_scaled(spec)` starts
from the healthy scenario and adds a realistic mix on top: a DaemonSet pod on every
node, Deployments whose pods spread over the nodes, a few Pending pods, a day of
events (old Evicted ones among them), PodDisruptionBudgets that allow a disruption,
Helm revision history and node templates. It stays healthy where it can (policies
are sized to the cluster, evictions are older than an hour), so a diagnosis of it
reads like one of a big, busy, mostly fine cluster.

Pods are built from one template per Deployment and copied with only what differs
(name, node, uid), so 100,000 pods take a couple of seconds, not a minute.
"""

from __future__ import annotations

import copy
import functools
import gc
import marshal
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from castui.clients.errors import ConfigurationError
from castui.lab import objects as k8s
from castui.lab.scenarios import NS, LabCluster, build_healthy, tfstate

#: workload pods per Deployment (the last one takes the remainder)
PODS_PER_DEPLOYMENT = 20
NAMESPACES = 50
#: one pod in this many is Pending (no node yet)
PENDING_EVERY = 1000
#: one event in this many is an Evicted one
EVICTED_EVERY = 100
EVENT_REASONS = ("Scheduled", "Pulled", "Created", "Started", "Killing", "SuccessfulCreate", "ScalingReplicaSet")
NODE_CPU = 4


class ScaleSpec(BaseModel):
    """How big a generated lab is. Unset counts follow `nodes` (or `pods`) in a typical ratio."""

    model_config = ConfigDict(extra="forbid")

    nodes: int = Field(500, ge=1, le=50_000, description="nodes, each running a kube-proxy DaemonSet pod")
    pods: int | None = Field(None, ge=0, le=1_000_000, description="pods in all, DaemonSet pods included (default 20 per node)")
    events: int | None = Field(None, ge=0, le=2_000_000, description="events in all namespaces (default 2 per pod)")
    log_lines: int = Field(1000, ge=0, le=10_000_000, description="lines in each agent pod's log")
    helm_revisions: int = Field(10, ge=1, le=1000, description="stored revisions of each CAST AI Helm release")
    pdbs: int | None = Field(None, ge=0, le=100_000, description="PodDisruptionBudgets (default one per 10 Deployments)")
    node_templates: int = Field(5, ge=1, le=1000, description="node templates in the CAST AI API")
    pod_size: Literal["realistic", "small"] = Field(
        "realistic", description="realistic: ~6 KB pods with managedFields, env, probes, projected volumes; small: ~1.5 KB")

    @model_validator(mode="after")
    def _fill(self) -> "ScaleSpec":
        if self.pods is None:
            self.pods = 20 * self.nodes
        if self.pods < self.nodes:
            raise ValueError(f"pods ({self.pods}) must be at least nodes ({self.nodes}): every node runs a DaemonSet pod")
        if self.events is None:
            self.events = 2 * self.pods
        if self.pdbs is None:
            self.pdbs = max(1, self.deployments // 10) if self.deployments else 0
        return self

    @property
    def workload_pods(self) -> int:
        return (self.pods or 0) - self.nodes

    @property
    def deployments(self) -> int:
        return -(-self.workload_pods // PODS_PER_DEPLOYMENT)

    def describe(self) -> str:
        return ",".join(f"{name}={getattr(self, name)}" for name in type(self).model_fields)


class ScaleError(ConfigurationError, ValueError):
    """A `--scale` text castui cannot read; the CLI prints it as a usage error."""


_PAIR = re.compile(r"^\s*(?P<key>[a-z_-]+)\s*=\s*(?P<value>[0-9_]+|[0-9.]+[kKmM]|[a-z]+)\s*$")
#: the one word-valued name, and its words
_WORDS = {"pod_size": ("realistic", "small")}
_SUFFIX = {"k": 1_000, "m": 1_000_000}


def parse_scale(text: str) -> ScaleSpec:
    """`nodes=5000,pods=100k,events=200000` → ScaleSpec; ScaleError saying what is wrong and what is known."""
    known = ", ".join(ScaleSpec.model_fields)
    values: dict[str, int | str] = {}
    for part in (p for p in text.split(",") if p.strip()):
        if part.strip().replace("_", "").isdigit() or re.fullmatch(r"\s*[0-9.]+[kKmM]\s*", part):
            part = f"nodes={part.strip()}"  # a bare count is the nodes: `--scale 5000`
        match = _PAIR.match(part)
        if match is None:
            raise ScaleError(f"--scale: {part.strip()!r} is not NAME=COUNT (e.g. nodes=5000,pods=100k); names: {known}")
        key, raw = match["key"].replace("-", "_"), match["value"]
        if key not in ScaleSpec.model_fields:
            raise ScaleError(f"--scale: unknown name {match['key']!r}; names: {known}")
        if key in values:
            raise ScaleError(f"--scale: {key} is given twice")
        if key in _WORDS or raw.isalpha():
            if key not in _WORDS:
                raise ScaleError(f"--scale: {part.strip()!r} is not NAME=COUNT (e.g. nodes=5000,pods=100k); names: {known}")
            if raw not in _WORDS[key]:
                raise ScaleError(f"--scale: {key}={raw}: expected {' or '.join(_WORDS[key])}")
            values[key] = raw
            continue
        number = float(raw[:-1]) * _SUFFIX[raw[-1].lower()] if raw[-1] in "kKmM" else int(raw.replace("_", ""))
        if number != int(number):
            raise ScaleError(f"--scale: {key}={raw} is not a whole number")
        values[key] = int(number)
    if not values:
        raise ScaleError(f"--scale: nothing given; e.g. nodes=5000,pods=100k (names: {known})")
    try:
        return ScaleSpec(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ScaleError(f"--scale: {where + ': ' if where else ''}{error['msg'].removeprefix('Value error, ')}") from None


# -- building --------------------------------------------------------------------------------------


def node_name(i: int) -> str:
    return f"ip-10-{1 + i // 62500}-{(i // 250) % 250}-{10 + i % 250}.ec2.internal"


def build_scaled(spec: ScaleSpec, now: datetime | None = None) -> LabCluster:
    """The healthy scenario grown to `spec`'s size; reactions installed like any scenario's."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    lab = build_healthy(now)
    # hundreds of thousands of new dicts, none cyclic: the cyclic collector would rescan them all many times
    collecting = gc.isenabled()
    gc.disable()
    try:
        names = _add_nodes(lab, spec)
        _add_workloads(lab, spec, names)
        _add_events(lab, spec)
    finally:
        # frozen: the collector never rescans these long-lived objects (a full pass over them takes a second)
        gc.freeze()
        if collecting:
            gc.enable()
    _add_release_history(lab, spec)
    _add_agent_logs(lab, spec)
    _add_node_templates(lab, spec)
    _size_policies(lab, len(lab.state.items("nodes")))
    lab.tfstate = tfstate(lab.policies)
    from castui.lab.reactions import install

    install(lab)
    return lab


def warm(lab: LabCluster) -> float:
    """Encode the big stores once now, so no list pays it while being measured; returns the seconds it took."""
    import time

    from castui.lab import kube_api
    from castui.lab.list_index import warm as warm_stores
    from castui.lab.state import RESOURCES

    started = time.perf_counter()
    with lab.state.lock:
        kube_api._current_rv(lab.state)  # seeded now: seeding later would read as a change and drop the cache
    warm_stores(lab.state, lambda store, obj: kube_api._served(RESOURCES[store], obj))
    return time.perf_counter() - started


def _add_nodes(lab: LabCluster, spec: ScaleSpec) -> list[str]:
    """`spec.nodes` nodes in all (the healthy three count), each with a kube-proxy pod."""
    now = lab.now
    existing = [k8s_name(n) for n in lab.state.items("nodes")]
    names = existing + [node_name(i) for i in range(spec.nodes - len(existing))]
    zones = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    template = k8s.node("template", now, provider_id="", cpu=NODE_CPU)
    for i, name in enumerate(names[len(existing):]):
        node = _copy_object(template, name, None, i, kind=3)
        zone = zones[i % 3]
        node["metadata"]["labels"].update({"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone,
                                           "provisioner.cast.ai/managed-by": "cast.ai",
                                           "scheduling.cast.ai/spot": "true" if i % 3 else "false"})
        node["spec"] = {"providerID": f"aws:///{zone}/i-0{k8s.uid('i', name)[:17].replace('-', '')}"}
        status = node["status"]
        status["addresses"] = [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}]
        status["nodeInfo"] = {**status["nodeInfo"], "machineID": k8s.uid("m", name).replace("-", ""),
                              "systemUUID": k8s.uid("s", name), "bootID": k8s.uid("b", name)}
        lab.add("nodes", node)
    proxy = _sized(spec, k8s.pod("template", "kube-system", now, node_name=names[0], labels={"k8s-app": "kube-proxy"},
                                 owner=("DaemonSet", "kube-proxy")))
    for i, name in enumerate(names[len(existing):]):
        pod = _copy_object(proxy, f"kube-proxy-{_suffix(i)}", "kube-system", i, kind=4)
        pod["spec"]["nodeName"] = name
        lab.add("pods", pod)
    kube_proxy = lab.get("daemonsets", "kube-system", "kube-proxy")
    kube_proxy["status"].update({key: len(names) for key in ("currentNumberScheduled", "desiredNumberScheduled", "numberReady")})
    return names


def _add_workloads(lab: LabCluster, spec: ScaleSpec, nodes: list[str]) -> None:
    """Deployments of PODS_PER_DEPLOYMENT pods over NAMESPACES namespaces, round-robin over the nodes."""
    now = lab.now
    namespaces = [f"team-{i:02d}" for i in range(min(NAMESPACES, max(1, spec.deployments)))]
    for ns in namespaces:
        lab.add("namespaces", k8s.namespace(ns, now))
    remaining, placed, pdbs_left = spec.workload_pods, 0, spec.pdbs or 0
    for d in range(spec.deployments):
        ns, name = namespaces[d % len(namespaces)], f"svc-{d:05d}"
        replicas = min(PODS_PER_DEPLOYMENT, remaining)
        remaining -= replicas
        labels = {"app": name}
        hash_ = k8s.uid("rs", ns, name)[:10].replace("-", "")
        lab.add("deployments", k8s.deployment(name, ns, now, replicas=replicas, labels=labels))
        lab.add("replicasets", k8s.replicaset(f"{name}-{hash_}", ns, now, owner=name, replicas=replicas,
                                              labels={**labels, "pod-template-hash": hash_}))
        template = _sized(spec, k8s.pod("template", ns, now, node_name=nodes[0], labels={**labels, "pod-template-hash": hash_},
                                        owner=("ReplicaSet", f"{name}-{hash_}"), cpu="250m", started=now - timedelta(days=d % 9 + 1)))
        pending = _sized(spec, k8s.pod("template", ns, now, node_name=None, labels={**labels, "pod-template-hash": hash_},
                                       owner=("ReplicaSet", f"{name}-{hash_}"), cpu="250m", started=now - timedelta(minutes=4)))
        for r in range(replicas):
            pod_name = f"{name}-{hash_}-{_suffix(r)}"
            if (placed + 1) % PENDING_EVERY == 0:
                lab.add("pods", _replica(pending, pod_name, placed, None))
            else:
                lab.add("pods", _replica(template, pod_name, placed, nodes[placed % len(nodes)]))
            placed += 1
        if pdbs_left and d % 10 == 0:
            pdbs_left -= 1
            lab.add("poddisruptionbudgets", k8s.pdb(name, ns, now, selector=labels, allowed=1, healthy=replicas,
                                                    max_unavailable=1))
    for i in range(pdbs_left):  # more PDBs than every tenth Deployment: cover the others
        name = f"svc-{i:05d}-extra"
        lab.add("poddisruptionbudgets", k8s.pdb(name, namespaces[i % len(namespaces)], now, selector={"app": name},
                                                allowed=1, healthy=0, max_unavailable=1))


def _sized(spec: ScaleSpec, pod: dict[str, Any]) -> dict[str, Any]:
    """A pod template as big as `spec.pod_size` says (see castui.lab.realistic)."""
    if spec.pod_size == "small":
        return pod
    from castui.lab.realistic import realistic_pod

    return realistic_pod(pod)


def _add_events(lab: LabCluster, spec: ScaleSpec) -> None:
    """A day of routine events; one in EVICTED_EVERY is an Evicted one, all older than an hour (no storm)."""
    now, add = lab.now, lab.state.items("events").append
    source = {"component": "kubelet"}
    for i in range(max(0, (spec.events or 0) - len(lab.state.items("events")))):
        ns, obj = f"team-{i % NAMESPACES:02d}", f"svc-{i % 5000:05d}-{_suffix(i % 400)}"
        if i % EVICTED_EVERY == 0:
            reason, type_, message = "Evicted", "Warning", "Pod evicted by castai-evictor to pack nodes"
            stamp = _iso_before(now, 3600 + (i * 37) % 82800)
            component = {"component": "castai-evictor"}
        else:
            reason, type_ = EVENT_REASONS[i % len(EVENT_REASONS)], "Normal"
            message, stamp, component = f"{reason} pod {ns}/{obj}", _iso_before(now, (i * 13) % 86400), source
        name = f"{obj}.{i:x}"
        # built literally (not copied): at 200,000 events every microsecond shows
        add({"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": name, "namespace": ns, "uid": _serial_uid(2, i), "resourceVersion": "1", "creationTimestamp": stamp},
             "involvedObject": {"kind": "Pod", "name": obj, "namespace": ns, "apiVersion": "v1"},
             "reason": reason, "message": message, "type": type_, "count": 1,
             "firstTimestamp": stamp, "lastTimestamp": stamp, "source": dict(component)})


def _add_release_history(lab: LabCluster, spec: ScaleSpec) -> None:
    """Superseded revisions under each CAST AI release's newest one, as Helm keeps them."""
    from castui.clients.helm import encode_release_secret

    releases = [s for s in lab.state.items("secrets") if (s["metadata"].get("labels") or {}).get("owner") == "helm"]
    for secret in releases:
        labels = secret["metadata"]["labels"]
        newest = int(labels["version"])
        oldest = max(1, newest - spec.helm_revisions + 1)
        release = _release_json(secret)
        for revision in range(oldest, newest):
            lab.add("secrets", encode_release_secret(release, namespace=NS, name=labels["name"], revision=revision,
                                                     status="superseded"))
        if newest < spec.helm_revisions:  # renumber so the newest really is the newest of spec.helm_revisions
            lab.remove("secrets", NS, secret["metadata"]["name"])
            for revision in range(newest, spec.helm_revisions):
                lab.add("secrets", encode_release_secret(release, namespace=NS, name=labels["name"], revision=revision,
                                                         status="superseded"))
            lab.add("secrets", encode_release_secret(release, namespace=NS, name=labels["name"],
                                                     revision=spec.helm_revisions, status=labels["status"]))


def _release_json(secret: dict[str, Any]) -> dict[str, Any]:
    import json

    from castui.clients.helm import _unwrap

    return json.loads(_unwrap(secret["data"]["release"]))


def _add_agent_logs(lab: LabCluster, spec: ScaleSpec) -> None:
    """The leader's log grown to `spec.log_lines`: its start and lease lines, then a delta every 15 s."""
    healthy = lab.healthy_agent_logs("leader")
    first_delta = next((i for i, line in enumerate(healthy) if "delta upload finished" in line), len(healthy) - 1)
    head, upload = healthy[:first_delta], healthy[-1]
    start = lab.now - timedelta(seconds=15 * spec.log_lines)
    lines = head + [re.sub(r'time="[^"]*"', f'time="{k8s.iso(start + timedelta(seconds=15 * i))}"', upload)
                    for i in range(max(0, spec.log_lines - len(head)))]
    lab.agent_logs(lines[: spec.log_lines] if spec.log_lines >= len(head) else head, role="leader")


def _add_node_templates(lab: LabCluster, spec: ScaleSpec) -> None:
    from castui.lab.scenarios import CLUSTER_ID

    templates = lab.state.castai.node_templates[CLUSTER_ID]
    default = templates[0]
    for i in range(spec.node_templates - len(templates)):
        extra = copy.deepcopy(default)
        extra["template"].update(name=f"pool-{i:03d}", isDefault=False, configurationName="default")
        extra["stats"] = {"countOnDemand": 0, "countSpot": 0, "countFallback": 0}
        templates.append(extra)


def _size_policies(lab: LabCluster, nodes: int) -> None:
    """A big cluster's CPU limit is sized to it: room to grow by half again."""
    lab.policies["clusterLimits"]["cpu"]["maxCores"] = max(64, nodes * NODE_CPU * 3 // 2)


# -- copying ---------------------------------------------------------------------------------------


def k8s_name(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["name"])


def _copy_object(template: dict[str, Any], name: str, namespace: str | None, serial: int, kind: int = 1) -> dict[str, Any]:
    """A deep copy of a template object under a new name and uid; cheaper than building it again."""
    obj = marshal.loads(_frozen(template))
    meta = obj["metadata"]
    meta["name"] = name
    meta["uid"] = _serial_uid(kind, serial)
    if namespace:
        meta["namespace"] = namespace
    return obj


_FROZEN: dict[int, tuple[dict[str, Any], bytes]] = {}


def _replica(template: dict[str, Any], name: str, serial: int, node: str | None) -> dict[str, Any]:
    """A Deployment's pod: its own top level, metadata and spec; the rest shared with its siblings.

    Sharing is safe because nothing edits a generated pod in place: the lab's writes replace a
    stored object with an edited deep copy. It makes 100,000 pods ten times cheaper to build.
    """
    spec = {**template["spec"], "nodeName": node} if node else template["spec"]
    return {**template, "metadata": {**template["metadata"], "name": name, "uid": _serial_uid(1, serial)}, "spec": spec}


def _frozen(template: dict[str, Any]) -> bytes:
    """The template serialised once: `marshal.loads` copies plain JSON data ~10x faster than deepcopy."""
    entry = _FROZEN.get(id(template))
    if entry is None or entry[0] is not template:
        entry = _FROZEN[id(template)] = (template, marshal.dumps(template))
    return entry[1]


@functools.lru_cache(maxsize=100_000)
def _iso_before(now: datetime, seconds: float) -> str:
    return k8s.iso(now - timedelta(seconds=seconds))


def _serial_uid(kind: int, serial: int) -> str:
    """A unique uid per generated object, from a counter (hashing 300,000 names costs a second)."""
    return f"5ca1ab1e-{kind:04x}-4000-8000-{serial:012x}"


@functools.lru_cache(maxsize=10_000)
def _suffix(i: int) -> str:
    """Five characters from Kubernetes' name alphabet, distinct for each i < 27**5."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    chars = []
    for _ in range(5):
        i, r = divmod(i, len(alphabet))
        chars.append(alphabet[r])
    return "".join(chars)

