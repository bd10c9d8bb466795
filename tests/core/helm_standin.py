"""A `helm` for tests: it records its argv and does to the lab what a real `helm upgrade` of
CAST AI's agent chart would do (castai/helm-charts charts/castai-agent): re-create the chart's
RBAC, set the values it was given (`provider` → the PROVIDER env, `apiKey` → the Secret), and
roll the pods, since a changed template restarts them. Through the real kubectl, against the lab.

Installed on PATH as `helm` by `install_helm_standin`; never used outside tests.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

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
    if positional[:1] != ["upgrade"]:
        print(f"helm stand-in: {' '.join(positional[:2])} recorded")
        return 0
    release, chart = positional[1:3]
    ns = options.get("-n") or options.get("--namespace") or "default"
    kubectl = ["kubectl"]
    if "--kubeconfig" in options:
        kubectl += ["--kubeconfig", options["--kubeconfig"]]
    if "--kube-context" in options:
        kubectl += ["--context", options["--kube-context"]]

    def run(*cmd: str, stdin: str | None = None) -> None:
        subprocess.run([*kubectl, *cmd], input=stdin, text=True, check=True, capture_output=True)

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
    print(f'Release "{release}" has been upgraded. Happy Helming!')
    return 0


def install_helm_standin(bin_dir: Path, record: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "helm"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
                      "from tests.core.helm_standin import main\nsys.exit(main(sys.argv[1:]))\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    os.environ["HELM_STANDIN_RECORD"] = str(record)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
