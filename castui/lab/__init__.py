"""The built-in lab: a loopback Kubernetes + CAST AI API with named fault scenarios.

`start_lab("demo")` serves a scenario on 127.0.0.1 and returns what castui needs
to point every client at it (kubeconfig, API URL, key, Helm repo, status page).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castui.lab.scenarios import LabCluster
    from castui.lab.server import LabServer

DEFAULT_SCENARIO = "demo"
KUBE_TOKEN = "castui-lab-kube-token"


@dataclass
class RunningLab:
    scenario: str
    server: "LabServer"
    cluster: "LabCluster"
    workdir: Path
    kubeconfig: Path
    terraform_dir: Path
    owns_workdir: bool = False

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_key(self) -> str | None:
        return self.cluster.user_key

    def settings_overrides(self) -> dict[str, Any]:
        """Flag-level settings that point castui at this lab."""
        return {
            "kubeconfig": str(self.kubeconfig),
            "context": self.cluster.context,
            "api_url": f"{self.url}",
            "helm_repo_url": f"{self.url}/helm-charts",
            "status_url": f"{self.url}/status",
            "terraform_dir": str(self.terraform_dir),
        }

    def environment(self) -> dict[str, str]:
        """What `castui lab serve` tells a user to export."""
        env = {"KUBECONFIG": str(self.kubeconfig), "CASTAI_API_URL": self.url}
        if self.api_key:
            env["CASTAI_API_KEY"] = self.api_key
        return env

    def append_log(self, pod: str, *lines: str, container: str, namespace: str = "castai-agent") -> None:
        """The pod's container writes `lines` now: its current log grows while the lab serves (following).
        `namespace`: every scenario's CAST AI namespace unless told."""
        self.server.state.append_log(namespace, pod, container, *lines)

    def stop(self) -> None:
        self.server.stop()
        if self.owns_workdir:
            import shutil

            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RunningLab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_lab(scenario: str = DEFAULT_SCENARIO, *, port: int = 0, workdir: Path | None = None,
              cluster: "LabCluster | None" = None) -> RunningLab:
    from castui.lab.clock import follows_real_time
    from castui.lab.scenarios import build
    from castui.lab.server import LabServer

    lab = cluster or build(scenario)
    follows_real_time(lab.state)
    lab.state.kube_tokens = {KUBE_TOKEN: "lab-admin", **lab.state.kube_tokens}
    owns_workdir = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix=f"castui-lab-{scenario}-"))
    terraform_dir = workdir / "terraform"
    terraform_dir.mkdir(parents=True, exist_ok=True)
    if lab.tfstate is not None:
        (terraform_dir / "terraform.tfstate").write_text(json.dumps(lab.tfstate, indent=2))
    server = LabServer(lab.state, port=port)
    server.start()
    kubeconfig = server.write_kubeconfig(workdir / "kubeconfig", token=KUBE_TOKEN, context=lab.context)
    return RunningLab(scenario, server, lab, workdir, Path(kubeconfig), terraform_dir, owns_workdir)
