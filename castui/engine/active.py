"""Active checks: they create something in the cluster, so they run only with
consent, refuse in read-only mode, and always clean up after themselves."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any

from castui.clients.errors import ReadOnlyMode, RequestTimeout

if TYPE_CHECKING:
    from castui.engine.facts import Facts

PROBE_LABEL = "castui.io/probe"
CURL_IMAGE = "curlimages/curl:8.10.1"


def probe_pod(name: str, api_url: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {PROBE_LABEL: "connectivity", "app.kubernetes.io/managed-by": "castui"}},
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": 60,
            "containers": [{
                "name": "curl",
                "image": CURL_IMAGE,
                # no key is sent: any HTTP answer (even 401) proves the API is reachable
                "args": ["-s", "-o", "/dev/null", "-m", "10", "-w", "%{http_code}", f"{api_url}/v1/kubernetes/external-clusters"],
            }],
        },
    }


async def in_cluster_api_status(facts: "Facts") -> str:
    """The HTTP status a pod in the CAST AI namespace gets from the API ("000": no answer)."""
    if facts.settings.read_only:
        raise ReadOnlyMode("create the connectivity test pod")
    kube = facts.kube
    if kube is None:
        raise facts.kube_error or RuntimeError("no Kubernetes connection")
    ns = facts.settings.namespace
    name = f"castui-connectivity-{secrets.token_hex(3)}"
    await asyncio.to_thread(kube.create, "pods", ns, probe_pod(name, facts.settings.api_url))
    try:
        deadline = time.monotonic() + max(facts.settings.timeout, 30)
        while time.monotonic() < deadline:
            pod = await asyncio.to_thread(kube.get, "pods", ns, name)
            phase = ((pod or {}).get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed"):
                output = await asyncio.to_thread(kube.logs, ns, name, "curl")
                return output.strip()[-3:] or "000"
            await asyncio.sleep(0.5)  # a pod needs seconds to pull and run; poll gently
        raise RequestTimeout("the connectivity test pod did not finish in time")
    finally:
        await asyncio.to_thread(kube.delete, "pods", ns, name)
