"""A `helm` for tests: it records its argv and does to the lab what a real `helm upgrade` of
CAST AI's agent chart would do (castai/helm-charts charts/castai-agent): re-create the chart's
RBAC, set the values it was given (`provider` → the PROVIDER env, `apiKey` → the Secret), and
roll the pods, since a changed template restarts them; of the Evictor's chart, its env and
EvictorConfig. Through the real kubectl, against the lab.

Installed on PATH as `helm` by `install_helm_standin`; never used outside tests.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: castai-agent
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: castai-agent}
subjects: [{kind: ServiceAccount, name: castai-agent, namespace: NS}]
"""


def main(argv: list[str]) -> int:
    record = Path(os.environ["HELM_STANDIN_RECORD"])
    with record.open("a") as out:
        out.write(json.dumps(argv) + "\n")
    args, options, sets = list(argv), {}, {}
    positional: list[str] = []
    while args:
        arg = args.pop(0)
        if arg in ("--set", "--set-file"):
            key, _, value = args.pop(0).partition("=")
            sets[key] = Path(value).read_text().strip() if arg == "--set-file" else value
        elif arg in ("-n", "--namespace", "--version", "--kube-context", "--kubeconfig"):
            options[arg] = args.pop(0)
        elif not arg.startswith("-"):
            positional.append(arg)
    ns = options.get("-n") or options.get("--namespace") or "default"
    kubectl = ["kubectl"]
    if "--kubeconfig" in options:
        kubectl += ["--kubeconfig", options["--kubeconfig"]]
    if "--kube-context" in options:
        kubectl += ["--context", options["--kube-context"]]

    def run(*cmd: str, stdin: str | None = None) -> str:
        return subprocess.run([*kubectl, *cmd], input=stdin, text=True, check=True, capture_output=True).stdout

    if positional[:1] == ["rollback"] and len(positional) >= 3:
        # Helm's rollback: a new revision copying the chosen one, deployed; the old head superseded
        release, target = positional[1], int(positional[2])
        revisions = _revisions(run, release, ns)
        _store(run, revisions[target], ns, release, max(revisions) + 1)
        print("Rollback was a success! Happy Helming!")
        return 0
    if positional[:1] != ["upgrade"]:
        print(f"helm stand-in: {' '.join(positional[:2])} recorded")
        return 0
    release, chart = positional[1:3]

    if chart.endswith(("/castai-agent", "/castai")):
        run("apply", "-f", "-", stdin=RBAC.replace("NS", ns))  # Helm re-creates the chart's missing objects
        provider = sets.get("provider") or sets.get("global.castai.provider")
        if provider:
            run("set", "env", "deployment/castai-agent", "-n", ns, "-c", "agent", f"PROVIDER={provider}")
        key = sets.get("apiKey") or sets.get("global.castai.apiKey")
        if key:
            manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "castai-agent", "namespace": ns},
                        "data": {"API_KEY": base64.b64encode(key.encode()).decode()}}
            run("apply", "-f", "-", stdin=json.dumps(manifest))
        run("rollout", "restart", "deployment/castai-agent", "-n", ns)
    elif chart.endswith("/castai-evictor"):
        # the chart renders these values into the Deployment's env and the EvictorConfig
        # (castai/helm-charts charts/castai-evictor templates/deployment.yaml, evictorconfig.yaml)
        env = {"aggressiveMode": "AGGRESSIVE_MODE", "cycleInterval": "CYCLE_INTERVAL", "dryRun": "DRY_RUN"}
        given = {key: value for key, value in sets.items() if key in env}
        if given:
            run("set", "env", f"deployment/{release}", "-n", ns, "-c", "castai-evictor",
                *(f"{env[key]}={value}" for key, value in given.items()))
            config = {key: value == "true" if value in ("true", "false") else value for key, value in given.items()}
            run("patch", "evictorconfig", "evictor-config", "--type=merge", "-p", json.dumps({"spec": {"config": config}}))
    else:  # another CAST AI chart: a new deployed revision at the chart version asked, and its pods rolled
        revisions = _revisions(run, release, ns)
        head = dict(revisions[max(revisions)])
        if "--version" in options:
            head["chart"] = {**head.get("chart", {}),
                             "metadata": {**head.get("chart", {}).get("metadata", {}), "version": options["--version"]}}
        _store(run, head, ns, release, max(revisions) + 1)
        run("rollout", "restart", f"deployment/{chart.rsplit('/', 1)[-1]}", "-n", ns)  # charts set fullnameOverride
    print(f'Release "{release}" has been upgraded. Happy Helming!')
    return 0


def _revisions(run: "Callable[..., str]", release: str, ns: str) -> dict[int, dict[str, Any]]:
    """The release's stored revisions (Secrets `owner=helm,name=<release>`), decoded."""
    from castui.clients.helm import _unwrap

    listed = json.loads(run("get", "secrets", "-n", ns, "-l", f"owner=helm,name={release}", "-o", "json"))
    return {int(item["metadata"]["labels"]["version"]): json.loads(_unwrap(item["data"]["release"]))
            for item in listed["items"]}


def _store(run: "Callable[..., str]", payload: dict[str, Any], ns: str, release: str, revision: int) -> None:
    """Write `payload` as the new deployed head and mark the previous heads superseded, as Helm does."""
    from castui.clients.helm import encode_release_secret

    for old in json.loads(run("get", "secrets", "-n", ns, "-l", f"owner=helm,name={release}", "-o", "json"))["items"]:
        if old["metadata"]["labels"].get("status") != "superseded":
            run("label", "secret", old["metadata"]["name"], "-n", ns, "status=superseded", "--overwrite")
    secret = encode_release_secret(payload, namespace=ns, name=release, revision=revision, status="deployed")
    run("apply", "-f", "-", stdin=json.dumps(secret))


def install_helm_standin(bin_dir: Path, record: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "helm"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
                      "from tests.core.helm_standin import main\nsys.exit(main(sys.argv[1:]))\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    os.environ["HELM_STANDIN_RECORD"] = str(record)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
