"""The baseline: the field guide's own commands for the ten symptoms (the seed's "CAST AI
Common Errors"), adapted to the lab's kubeconfig and URL, run one after another as a
responder would paste them. Commands that cannot run on this machine are listed as skipped,
with why; they are not timed (so the baseline is, if anything, flattered).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

POLICIES = 'curl -s -H "X-API-Key: ${CASTAI_API_KEY}" "${CASTAI_API_URL}/v1/kubernetes/clusters/${CASTAI_CLUSTER_ID}/policies"'


@dataclass(frozen=True)
class GuideCommand:
    symptom: int
    command: str
    #: why it cannot run here (None: it runs)
    skipped: str | None = None
    #: exit codes that are answers, not failures (grep: 1 is "no line matched")
    ok_exits: tuple[int, ...] = (0,)


GUIDE = (
    GuideCommand(1, "kubectl get pods -n castai-agent"),
    GuideCommand(1, "kubectl logs -n castai-agent deployment/castai-agent --tail=50"),
    GuideCommand(2, 'kubectl logs -n castai-agent deployment/castai-agent | grep -i "heartbeat\\|connect\\|error"', ok_exits=(0, 1)),
    GuideCommand(2, "kubectl run castai-debug --image=curlimages/curl --rm -it --restart=Never -- curl -s -o /dev/null "
                    '-w "%{http_code}" https://api.cast.ai/v1/kubernetes/external-clusters',
                 skipped="needs a kubelet to attach to (castui's own probe is opt-in, --active, and off here too)"),
    GuideCommand(3, 'curl -s -o /dev/null -w "%{http_code}" -H "X-API-Key: ${CASTAI_API_KEY}" '
                    '"${CASTAI_API_URL}/v1/kubernetes/external-clusters"'),
    GuideCommand(4, "kubectl get pods --all-namespaces --field-selector=status.phase=Pending"),
    GuideCommand(4, POLICIES + " | jq '.unschedulablePods'"),
    GuideCommand(5, POLICIES + " | jq '.nodeDownscaler'"),
    GuideCommand(6, POLICIES + " | jq '.spotInstances'"),
    GuideCommand(7, "kubectl get events --field-selector reason=Evicted -A --sort-by=.lastTimestamp | tail -20"),
    GuideCommand(8, "terraform plan -var-file=environments/prod.tfvars",
                 skipped="the castai Terraform provider cannot be downloaded here"),
    GuideCommand(9, "helm list -n castai-agent", skipped="no helm CLI on this machine"),
    GuideCommand(9, "helm search repo castai-helm --versions | head -10", skipped="no helm CLI on this machine"),
    GuideCommand(10, "kubectl logs -n castai-agent deployment/castai-workload-autoscaler --tail=50"),
)


def guide_environment(info: dict[str, Any]) -> dict[str, str]:
    """What a responder following the guide exports (its commands use CASTAI_CLUSTER_ID)."""
    env = {**os.environ, "KUBECONFIG": info["kubeconfig"], "CASTAI_API_URL": info["api_url"],
           "CASTAI_API_KEY": info["api_key"] or "", "CASTAI_CLUSTER_ID": info.get("cluster_id") or ""}
    env.pop("NO_COLOR", None)
    return env


def run_guide(info: dict[str, Any], *, timeout: float = 300, when_warm: Callable[[], Any] = lambda: None) -> dict[str, Any]:
    """Every runnable command once, in order; wall time of the whole and of each. `when_warm` is called
    once kubectl's discovery cache is warm, just before the timed commands."""
    env = guide_environment(info)
    runnable = [c for c in GUIDE if c.skipped is None]
    for command in runnable:  # kubectl's discovery cache warm, as on a responder's own machine
        if command.command.startswith("kubectl"):
            subprocess.run(["bash", "-c", command.command], env=env, capture_output=True, timeout=timeout)
            break
    when_warm()
    steps = []
    started = time.perf_counter()
    for command in runnable:
        began = time.perf_counter()
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command.command], env=env, capture_output=True,
                              text=True, timeout=timeout)
        ok = done.returncode in command.ok_exits
        steps.append({"symptom": command.symptom, "command": command.command, "wall_s": round(time.perf_counter() - began, 3),
                      "exit": done.returncode, "ok": ok, "stderr": "" if ok else done.stderr.strip()[-300:]})
    return {
        "wall_s": round(time.perf_counter() - started, 3),
        "commands": steps,
        "failed": [s["command"] for s in steps if not s["ok"]],
        "skipped": [{"symptom": c.symptom, "command": c.command, "why": c.skipped} for c in GUIDE if c.skipped],
    }
