"""A hostile lab: terminal escape sequences in every field from outside that castui shows.

On top of a scenario (`demo` by default), each planted string carries an OSC 52 clipboard
write, an OSC 0 window title, SGR colours and attributes, CSI cursor and erase sequences, a C1
CSI (U+009B), bidirectional overrides and Rich/Textual markup: in the CAST AI cluster name and
region, object names, labels, annotations, events, logs, policy and node template strings, and
a Kubernetes error body (the Forbidden message quotes the user name). castui must show every
one of them as text and act on none.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from castui.lab import KUBE_TOKEN
from castui.lab import objects as k8s
from castui.lab.scenarios import NS, LabCluster, build, log_line

#: what an attacker writes into the clipboard ("HIJACKED") and the window title
CLIPBOARD_PAYLOAD = "SElKQUNLRUQ="
TITLE_PAYLOAD = "PWNED-TITLE"
#: every kind of sequence at once: OSC 52 clipboard, OSC 0 title, SGR (blink, strike, a colour castui
#: never uses), CSI (erase, cursor), C1 CSI, bidi override and isolate, markup and a markup link
PAYLOAD = (f"\x1b]52;c;{CLIPBOARD_PAYLOAD}\x07\x1b]0;{TITLE_PAYLOAD}\x07\x1b[5;9;38;2;1;2;3mSGR\x1b[2J\x1b[5;5H"
           "\x9b7m\u202eRLO\u2066[bold red]MARKUP[/][link=https://evil.example]L[/link]")
#: a Kubernetes user whose name is hostile: Forbidden answers quote it
HOSTILE_USER = f"evil{PAYLOAD}"
#: what the lab forbids that user, so an error body reaches a check's detail
FORBIDDEN = {"networkpolicies"}


def hostile(label: str) -> str:
    """`label` followed by the payload: the label says which field it came through."""
    return f"{label}{PAYLOAD}"


def plant(lab: LabCluster) -> None:
    """Put the payload into every external field the lab can carry."""
    now: datetime = lab.now
    cluster = lab.cluster
    cluster["name"] = hostile(str(cluster.get("name", "cluster")))
    cluster["region"] = {"name": hostile("region"), "displayName": hostile("region-display")}

    for pod in lab.pods_of("castai-agent"):
        meta: dict[str, Any] = pod["metadata"]
        meta.setdefault("labels", {})["hostile-label"] = hostile("label")
        meta.setdefault("annotations", {})["hostile-annotation"] = hostile("annotation")
    lab.add("pods", k8s.pod(hostile("pod-name"), "shop", now, node_name=None, labels={"app": hostile("label")},
                            annotations={"note": hostile("annotation")}))
    for pdb in lab.state.items("poddisruptionbudgets"):
        pdb["metadata"].setdefault("labels", {})["hostile-label"] = hostile("label")
        pdb["metadata"].setdefault("annotations", {})["hostile-annotation"] = hostile("annotation")
    for i, ns in enumerate((NS, "shop")):
        lab.add("events", k8s.event(f"hostile-{i}.warning", ns, now, reason=hostile("Reason"), kind="Pod", obj=hostile("object"),
                                    type_="Warning", message=hostile("event-message"), ago=timedelta(minutes=2 + i)))
    # the newest eviction: the eviction evidence (a table) shows it first
    lab.add("events", k8s.event("hostile.evicted", "shop", now, reason="Evicted", kind="Pod", obj=hostile("evicted-pod"),
                                type_="Warning", message=hostile("eviction-message"), ago=timedelta(seconds=30)))

    for key, text in list(lab.state.logs.items()):
        lines = str(text.decode(errors="replace") if isinstance(text, bytes) else text)
        lab.state.logs[key] = lines + log_line(now, "error", hostile("log-line")) + "\n" + hostile("raw-log-line") + "\n"

    policies = lab.policies
    policies["nodeDownscaler"]["evictor"]["status"] = hostile("policy-status")
    policies["hostileNote"] = hostile("policy-note")
    for entry in lab.state.castai.node_templates.get(cluster["id"], []):
        entry["template"]["configurationName"] = hostile("template-configuration")
    for workload in lab.state.castai.workloads.get(cluster["id"], []):
        workload["managedBy"] = hostile("workload-managed-by")
    if lab.state.status_page is not None:
        lab.state.status_page["status"]["status"]["description"] = hostile("status-description")
        lab.state.status_page["incidents"]["incidents"] = [{"name": hostile("incident"), "status": hostile("incident-status")}]

    lab.state.kube_tokens = {KUBE_TOKEN: HOSTILE_USER, **lab.state.kube_tokens}
    lab.state.kube_forbidden[HOSTILE_USER] = set(FORBIDDEN)


def build_hostile(base: str = "demo", now: datetime | None = None) -> LabCluster:
    lab = build(base, now)
    plant(lab)
    return lab
