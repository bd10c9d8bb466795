"""cluster-controller, as symptoms 5 and 7 read it: CAST AI drains and deletes nodes through it
(`ActionDrainNode`, `ActionDeleteNode`: castai/cluster-controller@5919ac5 internal/castai/types.go;
docs.cast.ai `notifications`), so a scale-down needs it running, and its drain lines say which nodes
CAST AI itself disrupted (rebalancing, spot interruptions).

Its logs are logrus lines like the agent's (castui.tree.logs). The chart's Deployment is
`castai-cluster-controller`, container `cluster-controller` (castai/helm-charts
charts/castai-cluster-controller/templates/deployment.yaml).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from castui.clients.errors import CastuiError
from castui.diagnosis import Evidence, LogSource
from castui.tree.logs import LogLine, parse_lines, persistent
from castui.tree.model import Check, Judgement, Observations, confirmed, ruled_out, unknown
from castui.tree.reader import Reader
from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    has_running_container,
    is_ready,
    log_evidence,
    name_of,
    restarts,
)

APP = "castai-cluster-controller"
CONTAINER = "cluster-controller"
#: lines per replica: an hour of action polls, so the drains of the last hour are in view
LOG_TAIL = 2000
#: castai/cluster-controller@5919ac5 internal/controller/controller.go: logged on each of 3 retries of a poll
POLL_FAILED = re.compile(r"polling actions: get action request failed")
#: the same loop's successes: `no actions returned in …`, `received in …`
POLL_OK = re.compile(r'msg="?(no actions returned in|received in) ')
#: castai/cluster-controller@5919ac5 internal/actions/drain_node_handler.go (field `node_name`)
DRAINING = "draining kubernetes node"
DRAINED_FORCEFULLY = "node drained forcefully"


async def gather_cluster_controller(facts: Reader) -> dict[str, Any]:
    """Each replica: running/ready, and its log (current container); a log that cannot be read says why."""
    pods = await facts.pods_of(APP)

    async def replica(pod: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "pod": name_of(pod), "ready": is_ready(pod), "running": has_running_container(pod, CONTAINER),
            "phase": as_str(as_dict(pod.get("status")).get("phase"), "?"), "restarts": restarts(pod),
            "node": as_str(as_dict(pod.get("spec")).get("nodeName")),
        }
        try:
            entry["log"] = (await facts.logs(name_of(pod), CONTAINER, tail=LOG_TAIL)).splitlines()
        except CastuiError as error:
            entry["log_error"] = str(error)
        return entry

    return {"namespace": facts.ns, "replicas": list(await asyncio.gather(*(replica(p) for p in pods)))}


def summarise_cluster_controller(value: dict[str, Any]) -> str:
    replicas = as_dicts(value.get("replicas"))
    return f"{sum(1 for r in replicas if r.get('ready'))} of {len(replicas)} replicas ready"


CLUSTER_CONTROLLER = Check("cluster-controller", "cluster-controller pods and logs (drains, action polls)",
                           gather_cluster_controller, summarise_cluster_controller)


def replicas(obs: Observations) -> list[dict[str, Any]]:
    return as_dicts(as_dict(obs["cluster-controller"]).get("replicas"))


def _parsed(replica: dict[str, Any]) -> list[LogLine]:
    return parse_lines([as_str(line) for line in replica.get("log") or [] if isinstance(line, str)])


def drains(obs: Observations, since: datetime) -> list[dict[str, Any]]:
    """Drain lines newer than `since`, every replica: {time, node, pod, forced, line}."""
    found: list[dict[str, Any]] = []
    for replica in replicas(obs):
        for line in _parsed(replica):
            if line.msg in (DRAINING, DRAINED_FORCEFULLY) and line.time is not None and line.time >= since:
                found.append({"time": line.time, "node": line.fields.get("node_name", "?"), "pod": replica.get("pod"),
                              "forced": line.msg == DRAINED_FORCEFULLY, "line": line.raw})
    return sorted(found, key=lambda d: d["time"])


def drained_nodes(found: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(d["node"] for d in found if not d["forced"]))


def drains_table(found: list[dict[str, Any]]) -> Evidence:
    rows = [["TIME", "NODE", "WHAT", "REPLICA"]]
    rows += [[d["time"].strftime("%H:%M:%S"), d["node"], DRAINED_FORCEFULLY if d["forced"] else DRAINING, as_str(d["pod"])]
             for d in found]
    return Evidence(kind="table", title="cluster-controller drains (last hour)", data=rows)


def judge_not_running(obs: Observations) -> Judgement:
    # castai/cluster-controller@5919ac5 internal/controller/controller.go (action polls),
    # internal/castai/types.go (ActionDrainNode, ActionDeleteNode): nodes are drained and deleted through it
    value = as_dict(obs["cluster-controller"])
    namespace = as_str(value.get("namespace"), obs.namespace)
    found = replicas(obs)
    if not found:
        return confirmed(f"no {APP} pod in namespace {namespace}: nothing carries out CAST AI's drains and node deletions",
                         Evidence(kind="text", title="cluster-controller", lines=[f"no pod labelled app.kubernetes.io/name={APP}"]))
    rows = [["POD", "PHASE", "RUNNING", "READY", "RESTARTS", "NODE"]]
    rows += [[as_str(r.get("pod")), as_str(r.get("phase")), "yes" if r.get("running") else "no", "yes" if r.get("ready") else "no",
              as_str(r.get("restarts")), as_str(r.get("node"))] for r in found]
    pods_evidence = Evidence(kind="table", title="cluster-controller pods", data=rows)
    if not any(r.get("ready") and r.get("running") for r in found):
        return confirmed(f"no {APP} pod is running and ready (" + ", ".join(as_str(r.get("pod")) for r in found) + ")",
                         pods_evidence)
    unread = [r for r in found if "log" not in r]
    for replica in found:
        lines = _parsed(replica)
        hits = persistent(lines, POLL_FAILED, POLL_OK)
        if hits:
            last = lines[hits[-1]]
            return confirmed(f"{replica.get('pod')} keeps failing to poll CAST AI for actions ({len(hits)} failures, none "
                             f"since succeeded): {last.msg[:200]}",
                             log_evidence(f"{replica.get('pod')} log", [line.raw for line in lines], hits,
                                          LogSource(namespace=namespace, pod=as_str(replica.get("pod")), container=CONTAINER)),
                             pods_evidence)
    if len(unread) == len(found):
        return unknown("its pods are ready but no log could be read: " + as_str(unread[0].get("log_error")))
    return ruled_out(f"{sum(1 for r in found if r.get('ready'))} {APP} pod(s) ready, polling actions without a persistent failure")
