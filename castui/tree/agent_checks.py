"""Checks and judges about the castai-agent that more than one symptom uses (guide v2 §1, §2).

The agent runs as several replicas: every replica polls its configuration, only the leader
(the holder of Lease `agent-leader-election-lock`, identified by its `own_identity` log
field, a UUID) sends deltas; followers log `Not a leader, skipping sending deltas` and stay
healthy (castai/k8s-agent@27ed376 internal/services/controller/controller.go,
internal/services/replicas/leaderelection.go). So logs are read from every replica, current
and previous container, and a failure line counts only when it persists (tree/logs.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from castui.diagnosis import LogSource
from castui.tree.logs import parse_lines, persistent
from castui.tree.model import (
    Cause,
    Check,
    FixTemplate,
    Judgement,
    Observations,
    confirmed,
    ruled_out,
    unknown,
)
from castui.tree.reader import AGENT, Reader
from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    container_statuses,
    is_crashlooping,
    is_ready,
    json_evidence,
    log_evidence,
    name_of,
    restarts,
)
from castui.tree.releases import ReleaseRef, find_release, pinned_upgrade

LEASE = "agent-leader-election-lock"
#: lines per container: enough for several 15 s cycles of both loops
LOG_TAIL = 120

# --- what the agent logs (castai/k8s-agent@27ed376) ----------------------------------------------
#: the run error the process exits with (cmd/agent/run.go `remoteLogger.Error(err)`; before mid-2024 `level=fatal
#: msg="agent failed: …"`: match the message, not the level), config polls and deltas (controller.go), with
#: pkg/castai/errors.go `request error status_code=…`
AUTH_FAILURE = re.compile(
    r"(registering cluster: |failed getting agent configuration: |failed sending delta: ).*status_code=(401|403)\b"
    r'|env variable \\?"API_KEY\\?" is required'
)
#: Go net/http transport errors inside the API calls (pkg/castai/castai.go uses http.ProxyFromEnvironment)
TRANSPORT = r"(dial tcp|i/o timeout|no such host|TLS handshake timeout|x509: |proxyconnect|connection refused|network is unreachable)"
NETWORK_FAILURE = re.compile(r"(registering cluster: |failed getting agent configuration: |failed sending delta: ).*" + TRANSPORT)
#: the leader's success line (pkg/castai/castai.go)
DELTA_SENT = re.compile(r"delta upload finished|delta with items")
FOLLOWER = re.compile(r"Not a leader, skipping sending deltas|msg=\"?current leader")


# --- checks -------------------------------------------------------------------------------------


async def gather_agent_pods(facts: Reader) -> list[dict[str, Any]]:
    return await facts.pods_of(AGENT)


async def gather_agent_logs(facts: Reader) -> dict[str, Any]:
    """Every replica's `agent` container log (and its previous run), and the leader Lease."""
    pods = await facts.pods_of(AGENT)

    async def lease_holder() -> tuple[str | None, str | None]:
        try:
            lease = await facts.lease(LEASE)
        except Exception as error:  # noqa: BLE001 - without the Lease the leader is told from the logs
            return None, f"could not read Lease {LEASE}: {error}"
        holder = as_str(as_dict(as_dict(lease).get("spec")).get("holderIdentity")) or None
        return holder, None if lease else f"no Lease {LEASE}"

    (holder, lease_note), *replicas = await asyncio.gather(lease_holder(), *(_replica_logs(facts, p) for p in pods))
    unread = [r for r in replicas if r["current_error"] is not None]
    if replicas and len(unread) == len(replicas):
        # not one replica's log could be read: the judges must say "could not check", never "no errors in the logs"
        raise unread[0]["current_error"]
    leader = _leader(replicas, holder)
    for replica in replicas:
        replica["leader"] = replica["pod"] == leader
    focus = next((r for r in replicas if r["leader"]), None) or max(
        replicas, key=lambda r: (r["crashlooping"], r["restarts"]), default=None)
    return {
        "pod": focus["pod"] if focus else None,
        "current": focus["current"] if focus else [],
        "previous": focus["previous"] if focus else [],
        "replicas": replicas,
        "leader": leader,
        "holder": holder,
        "lease_note": lease_note,
    }


async def _replica_logs(facts: Reader, pod: dict[str, Any]) -> dict[str, Any]:
    # a real apiserver refuses a log request without a container on a multi-container pod
    spec_containers = as_dicts(as_dict(pod.get("spec")).get("containers"))
    named_agent = any(s.get("name") == "agent" for s in [*container_statuses(pod), *spec_containers])
    container = "agent" if named_agent else None
    replica: dict[str, Any] = {"pod": name_of(pod), "crashlooping": is_crashlooping(pod), "restarts": restarts(pod),
                               "current": [], "previous": [], "errors": [], "current_error": None,
                               "namespace": facts.ns, "container": container}
    try:
        replica["current"] = (await facts.logs(name_of(pod), container, tail=LOG_TAIL)).splitlines()
    except Exception as error:  # noqa: BLE001 - one unreadable replica must not hide the others
        replica["errors"].append(f"current log: {error}")
        replica["current_error"] = error
    if restarts(pod):
        try:
            replica["previous"] = (await facts.logs(name_of(pod), container, previous=True, tail=LOG_TAIL)).splitlines()
        except Exception as error:  # noqa: BLE001
            replica["errors"].append(f"previous log: {error}")
    return replica


def _leader(replicas: list[dict[str, Any]], holder: str | None) -> str | None:
    """The replica whose `own_identity` holds the Lease; else the only one not logging as a follower."""
    if holder:
        for replica in replicas:
            if any(f"own_identity={holder}" in line for line in replica["current"]):
                return str(replica["pod"])
    # only the leader sends deltas (controller.go): one replica uploading them is the leader
    sending = [r for r in replicas if any(DELTA_SENT.search(line) for line in r["current"])]
    if len(sending) == 1:
        return str(sending[0]["pod"])
    candidates = [r for r in replicas if not any(FOLLOWER.search(line) for line in r["current"])]
    return str(candidates[0]["pod"]) if len(candidates) == 1 else None


def summarise_pods(pods: list[dict[str, Any]]) -> str:
    if not pods:
        return "no agent pods"
    ready = sum(1 for p in pods if is_ready(p))
    looping = sum(1 for p in pods if is_crashlooping(p))
    return f"{len(pods)} pods, {ready} ready" + (f", {looping} in CrashLoopBackOff" if looping else "")


def summarise_logs(logs: dict[str, Any]) -> str:
    replicas = logs.get("replicas") or []
    if not replicas:
        return "no agent pod to read"
    leader = f"leader {logs['leader']}" if logs.get("leader") else "leader unknown"
    return f"{len(replicas)} replicas read ({leader})"


AGENT_PODS = Check("agent-pods", "Agent pods in the namespace", gather_agent_pods, summarise_pods)
AGENT_LOGS = Check("agent-logs", "Agent logs of every replica (previous container too) and the leader Lease",
                   gather_agent_logs, summarise_logs)


async def gather_agent_deployment(facts: Reader) -> dict[str, Any]:
    """The Deployment's replicas, plain env, and which Secret holds API_KEY."""
    deployment = await facts.deployment(AGENT)
    if deployment is None:
        return {"exists": False}
    spec = as_dict(deployment.get("spec"))
    containers = as_dicts(as_dict(as_dict(spec.get("template")).get("spec")).get("containers"))
    agent = next((c for c in containers if c.get("name") == "agent"), containers[0] if containers else {})
    env: dict[str, str] = {}
    key_secret: dict[str, str] | None = None
    for item in as_dicts(agent.get("env")):
        name = as_str(item.get("name"))
        if "value" in item:
            env[name] = as_str(item.get("value"))
        ref = as_dict(as_dict(item.get("valueFrom")).get("secretKeyRef"))
        if name == "API_KEY" and ref.get("name"):
            key_secret = {"name": as_str(ref["name"]), "key": as_str(ref.get("key"), "API_KEY")}
    for source in as_dicts(agent.get("envFrom")):
        ref = as_dict(source.get("secretRef"))
        if key_secret is None and ref.get("name"):
            key_secret = {"name": as_str(ref["name"]), "key": "API_KEY"}
    return {"exists": True, "name": name_of(deployment), "replicas": spec.get("replicas"), "env": env,
            "key_secret": key_secret}


AGENT_DEPLOYMENT = Check(
    "agent-deployment", "The agent's Deployment (replicas, env, the Secret with its key)", gather_agent_deployment,
    lambda d: f"replicas {d.get('replicas')}, PROVIDER {d.get('env', {}).get('PROVIDER', 'unset')}" if d.get("exists")
    else "no Deployment castai-agent")


async def gather_agent_release(facts: Reader) -> dict[str, Any] | None:
    """The release that installed the agent, found by chart (standalone or umbrella)."""
    ref = find_release(await facts.helm_releases(), AGENT)
    if ref is None:
        return None
    releases = {r.name: r for r in await facts.helm_releases()}
    values = {**releases[ref.name].values, **releases[ref.name].config}
    if ref.umbrella:
        values = {**as_dict(as_dict(values.get("global")).get("castai")), **as_dict(as_dict(values.get("autoscaler")).get(AGENT))}
    return {"ref": ref, "name": ref.name, "chart": ref.chart, "version": ref.version, "terraform": ref.terraform,
            "values": {k: v for k, v in values.items() if k not in ("apiKey",)}}


AGENT_RELEASE = Check("agent-release", "The Helm release that installed the agent (by chart)", gather_agent_release,
                      lambda r: "no release of chart castai-agent" if r is None else
                      f"{r['name']} ({r['chart']} {r['version']}{', Terraform' if r['terraform'] else ''})")


async def gather_agent_key(facts: Reader) -> dict[str, Any]:
    """Test the key in the Secret the Deployment references (one call; the key is never shown)."""
    deployment = await gather_agent_deployment(facts)
    secret = deployment.get("key_secret") or {"name": AGENT, "key": "API_KEY"}
    status = await facts.agent_key_status(secret["name"], secret["key"])
    return {"status": status, "secret": secret["name"]}


AGENT_KEY = Check(
    "agent-key", "Test the agent's own API key (one call; the key is never shown)", gather_agent_key,
    lambda r: f"no key in Secret {r['secret']}" if r["status"] is None else f"API answers {r['status']}")


async def gather_blocking_network_policies(facts: Reader) -> list[dict[str, Any]]:
    """NetworkPolicies that select the agent pods for Egress when none of them lets TCP 443 out."""
    policies, pods = await facts.network_policies(), await facts.pods_of(AGENT)
    labels = (pods[0]["metadata"].get("labels") or {}) if pods else {"app.kubernetes.io/name": AGENT}
    selecting = [p for p in policies if _selects(p, labels) and "Egress" in (p.get("spec", {}).get("policyTypes") or [])]
    if not selecting or any(_allows_https_out(p) for p in selecting):
        return []
    return [
        {"name": name_of(p), "evidence": json_evidence(f"NetworkPolicy {name_of(p)}", p, "spec.egress")}
        for p in selecting
    ]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy.get("spec", {}).get("podSelector") or {}
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items()) and not selector.get("matchExpressions")


def _allows_https_out(policy: dict[str, Any]) -> bool:
    for rule in policy.get("spec", {}).get("egress") or []:
        ports = rule.get("ports") or []
        port_ok = not ports or any(p.get("port") in (443, "443", "https") and p.get("protocol", "TCP") == "TCP" for p in ports)
        peers = rule.get("to") or []
        outside = not peers or any("ipBlock" in peer for peer in peers)
        if port_ok and outside:
            return True
    return False


NETWORK_POLICIES = Check(
    "network-policies",
    "NetworkPolicies that limit the agent's egress",
    gather_blocking_network_policies,
    lambda blocking: f"{len(blocking)} block egress" if blocking else "none block HTTPS egress",
)


# --- reading the replicas' logs -----------------------------------------------------------------


class Finding(NamedTuple):
    """A replica's log where a failure persists: the lines that show it, and where they came from."""

    title: str
    lines: list[str]
    hits: list[int]
    source: LogSource | None = None


def replica_findings(logs: dict[str, Any], failure: re.Pattern[str], success: re.Pattern[str] | None = None,
                     *, leader_only: bool = False) -> list[Finding]:
    """(title, lines, evidence indexes, source) for each replica where `failure` persists or ended the process."""
    found = []
    for replica in logs.get("replicas") or []:
        if leader_only and logs.get("leader") and not replica["leader"]:
            continue
        previous, current = parse_lines(replica["previous"]), parse_lines(replica["current"])
        # the previous container exited: its last error is why; the current one may still be starting
        hits_previous = persistent(previous, failure, success, exited=True) if previous else []
        hits_current = persistent(current, failure, success, exited=replica["crashlooping"])
        role = " (leader)" if replica["leader"] else ""
        if hits_previous:
            found.append(Finding(f"agent logs {replica['pod']}{role}, previous container", replica["previous"], hits_previous,
                                 _source(replica, previous=True)))
        if hits_current:
            found.append(Finding(f"agent logs {replica['pod']}{role}", replica["current"], hits_current, _source(replica)))
    return found


def _source(replica: dict[str, Any], *, previous: bool = False) -> LogSource | None:
    if not replica.get("namespace"):
        return None
    return LogSource(namespace=as_str(replica["namespace"]), pod=as_str(replica["pod"]),
                     container=replica.get("container"), previous=previous)


def log_findings_evidence(found: list[Finding]) -> list[Any]:
    return [log_evidence(f.title, f.lines, f.hits, f.source) for f in found]


def first_hit(found: list[Finding]) -> str:
    lines, hits = found[0].lines, found[0].hits
    return lines[hits[-1]].strip()[:200]


def release_fix_args(obs: Observations) -> dict[str, Any]:
    release = obs.get("agent-release")
    ref: ReleaseRef | None = release["ref"] if release else None
    return {"release": ref} if ref else {}


# --- judges shared by agent-crashloop and agent-disconnected ------------------------------------


def judge_invalid_api_key(obs: Observations) -> Judgement:
    """castai/k8s-agent@27ed376 cmd/agent/run.go (registration exits), internal/services/controller/controller.go
    (config poll, deltas), pkg/castai/errors.go (`status_code=`); guide v2 §1 `invalid-api-key`."""
    logs = obs["agent-logs"]
    found = replica_findings(logs, AUTH_FAILURE, DELTA_SENT)
    key = obs.get("agent-key") or {}
    status = key.get("status")
    release = obs.get("agent-release") or {}
    fix_args = release_fix_args(obs)
    if found:
        if status == 200:
            # env from a Secret is read at container start: the pods still run the old key
            return confirmed(
                f"a replica persistently logs 401/403 while the API accepts the key now in Secret {key.get('secret')}: "
                "the pods started before the Secret changed and still run the old key",
                *log_findings_evidence(found), restart_only=True, **fix_args)
        return confirmed(f"the API rejects the agent's key: {first_hit(found)}", *log_findings_evidence(found), **fix_args)
    if any(DELTA_SENT.search(line) for r in logs.get("replicas") or [] for line in r["current"][-20:]):
        return ruled_out("the API accepts the agent's deltas (delta upload finished) and no replica persistently logs 401/403")
    if release.get("terraform"):
        # Terraform-onboarded agents hold a cluster token (terraform-provider-castai castai/cluster.go)
        return unknown("the agent was installed by Terraform with a cluster token, which castui cannot test; "
                       "no replica logs 401/403")
    if status in (401, 403):
        return confirmed(f"the key in the agent's Secret {key.get('secret')} is rejected by the API ({status})",
                         json_evidence("key test", {"secret": key.get("secret"), "status": status}, "status"), **fix_args)
    if status == 200:
        return ruled_out("the API accepts the key in the agent's Secret and no replica persistently logs 401/403")
    reason = obs.failed("agent-key") or f"no key in Secret {key.get('secret') or AGENT}"
    return unknown(f"no replica logs 401/403, and the agent's key could not be tested: {reason}")


def judge_network_blocked(obs: Observations) -> Judgement:
    """Transport errors in the agent's API calls (castai/k8s-agent@27ed376 pkg/castai/castai.go); an egress
    NetworkPolicy only corroborates (guide v2 §1 `network-blocked`)."""
    logs = obs["agent-logs"]
    found = replica_findings(logs, NETWORK_FAILURE, DELTA_SENT)
    blocking = obs.get("network-policies") or []
    corroboration = [p["evidence"] for p in blocking]
    if found:
        return confirmed(f"the agent cannot reach the API: {first_hit(found)}", *log_findings_evidence(found), *corroboration,
                         policy=blocking[0]["name"] if blocking else "")
    curl = obs.get("in-cluster-curl")
    if curl and curl.get("status") == "000":
        return confirmed("a pod in the cluster got no answer from the API (curl status 000)",
                         json_evidence("in-cluster request", curl, "status"), *corroboration)
    if not logs.get("replicas"):
        return unknown("no agent replica to read logs from")
    return ruled_out("no replica's API calls fail with a transport error")


def network_blocked(*recheck: str) -> Cause:
    """`network-blocked` belongs to both agent symptoms; one definition, re-checking the symptom it came from."""
    return Cause(
        id="network-blocked",
        title="The agent cannot reach the CAST AI API",
        judge=judge_network_blocked,
        fix=FixTemplate(
            title="Allow outbound HTTPS (443) to the API host",
            explanation=(
                "The agent must reach {api_host} on TCP 443 (api.eu.cast.ai:443 for the EU console). Allow it in "
                "the NetworkPolicy, firewall or proxy that blocks it; behind a proxy set HTTP_PROXY, HTTPS_PROXY and "
                "NO_PROXY in the agent's env (docs.cast.ai communication-requirements). castui changes nothing here."
            ),
            commands=(("kubectl", "get", "networkpolicy", "-n", "{ns}", "-o", "yaml"),),
            mutates=False,
            recheck=recheck,
        ),
    )


def invalid_api_key_commands(values: Mapping[str, Any]) -> list[list[str]]:
    """A new key through the release (pinned), or just a restart when the Secret already holds a good key."""
    restart = ["kubectl", "rollout", "restart", "deployment/castai-agent", "-n", str(values["ns"])]
    if values.get("restart_only"):
        return [restart]
    ref = values.get("release")
    if not isinstance(ref, ReleaseRef) or ref.terraform:
        return []
    return [pinned_upgrade(ref, str(values["ns"]), {"apiKey": "${CASTAI_API_KEY}"})]


def invalid_api_key_guidance(values: Mapping[str, Any]) -> str | None:
    ref = values.get("release")
    if values.get("restart_only"):
        return None
    if isinstance(ref, ReleaseRef) and ref.terraform:
        return ("The agent was installed by Terraform with a cluster token, made only when the Terraform cluster "
                "resource is created (terraform-provider-castai castai/resource_eks_cluster.go): escalate to CAST AI "
                "support rather than overwrite it.")
    if not isinstance(ref, ReleaseRef):
        return ("No Helm release of chart castai-agent was found: put the new key in the Secret the agent's "
                "Deployment references (API_KEY), then `kubectl rollout restart deployment/castai-agent -n <ns>`.")
    return None


def invalid_api_key(*recheck: str) -> Cause:
    return Cause(
        id="invalid-api-key",
        title="The agent's API key is rejected",
        judge=judge_invalid_api_key,
        fix=FixTemplate(
            title="Give the agent a valid key",
            explanation=(
                "Create a key in the console (API → API access keys), export it as CASTAI_API_KEY, and upgrade the "
                "agent's release with it at its installed chart version. If the Secret already holds a good key, "
                "a restart is enough: env from a Secret is read when the container starts."
            ),
            commands=invalid_api_key_commands,
            guidance=invalid_api_key_guidance,
            recheck=recheck,
        ),
    )

