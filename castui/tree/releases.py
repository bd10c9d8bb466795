"""Which Helm release installed a CAST AI component, and the one safe way to change it.

Guide v2, conventions › Fixes:
- The release is found by its chart, never assumed by name: standalone charts `castai-agent`,
  `castai-cluster-controller`, `castai-evictor`, `castai-workload-autoscaler` (docs.cast.ai
  `helm-charts`; castai/terraform-castai-eks-cluster@d2436b0 `main.tf`), or the umbrella chart
  (chart `castai`, release usually `castai`), whose component keys sit under
  `autoscaler.<chart>.*` and key/URL/provider under `global.castai.*`
  (castai/helm-charts@daa4628 `charts/castai-umbrella/README.md`).
- A pinned upgrade: `--version <installed> --reset-then-reuse-values` (CAST AI's flag:
  docs.cast.ai `workload-autoscaling-configuration`); never `--reuse-values`, which drops new chart
  defaults (helm/helm@00669cd `pkg/action/upgrade.go` `reuseValues`).
- The umbrella chart is named `castai` (`helm upgrade -i castai castai-helm/castai`: castai/helm-charts
  charts/castai-umbrella/Chart.yaml).
- Terraform-installed releases (`managedBy: terraform`, or `additionalEnv.STATIC_CLUSTER_ID` in
  values: castai/terraform-castai-eks-cluster@d2436b0 `main.tf`) get the Terraform change
  (`agent_values`, `castai_components_sets`: `variables.tf`), not a helm command the next apply reverts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from castui.tree.model import fill
from castui.tree.reading import as_dict

#: the umbrella chart's name (charts/castai-umbrella/Chart.yaml `name: castai`)
UMBRELLA_CHARTS = frozenset({"castai", "castai-umbrella"})
#: values that live under `global.castai.*` in the umbrella chart
UMBRELLA_GLOBAL_KEYS = frozenset({"apiKey", "apiURL", "provider", "apiKeySecretRef", "clusterID"})
#: the Terraform module's variable for each chart's values (castai/terraform-castai-eks-cluster `variables.tf`)
TERRAFORM_VARIABLES = {
    "castai-agent": "agent_values",
    "castai-cluster-controller": "cluster_controller_values",
    "castai-evictor": "evictor_values",
    "castai-workload-autoscaler": "workload_autoscaler_values",
}


@dataclass(frozen=True)
class ReleaseRef:
    """Where a component's values live: a standalone release, or a subchart of the umbrella."""

    name: str
    chart: str
    #: the component's chart (`castai-agent`); equals `chart` unless `umbrella`
    component: str
    version: str | None
    umbrella: bool = False
    terraform: bool = False
    status: str | None = None

    def key(self, value_key: str) -> str:
        """The `--set` key for one of the component's values in this release."""
        if not self.umbrella:
            return value_key
        if value_key in UMBRELLA_GLOBAL_KEYS:
            return f"global.castai.{value_key}"
        return f"autoscaler.{self.component}.{value_key}"


def find_release(releases: Iterable[Any], component: str) -> ReleaseRef | None:
    """The release that installed `component` (a HelmRelease or its JSON form), by chart name."""
    found = list(releases)
    for umbrella in (False, True):
        for release in found:
            chart = _field(release, "chart")
            if (chart in UMBRELLA_CHARTS) if umbrella else chart == component:
                values = {**as_dict(_field(release, "values")), **as_dict(_field(release, "config"))}
                return ReleaseRef(
                    name=str(_field(release, "name")),
                    chart=str(chart),
                    component=component,
                    version=_field(release, "chart_version"),
                    umbrella=umbrella,
                    terraform=is_terraform_managed(values),
                    status=_field(release, "status"),
                )
    return None


def is_terraform_managed(values: Mapping[str, Any]) -> bool:
    """The Terraform modules set `additionalEnv.STATIC_CLUSTER_ID` (EKS/GKE `main.tf`); some installs label `managedBy`."""
    env = as_dict(values.get("additionalEnv"))
    return str(values.get("managedBy", "")).lower() == "terraform" or "STATIC_CLUSTER_ID" in env


def pinned_upgrade(ref: ReleaseRef, ns: str, sets: Mapping[str, str]) -> list[str]:
    """`helm upgrade` that keeps the installed chart version and the user's values, changing only `sets`."""
    argv = ["helm", "upgrade", ref.name, f"castai-helm/{ref.chart}", "-n", ns]
    if ref.version:
        argv += ["--version", ref.version]
    argv.append("--reset-then-reuse-values")
    for key, value in sets.items():
        argv += ["--set", f"{ref.key(key)}={value}"]
    return argv


def terraform_guidance(ref: ReleaseRef, sets: Mapping[str, str]) -> str:
    """What to change in Terraform instead of running helm (the next apply would revert helm)."""
    variable = TERRAFORM_VARIABLES.get(ref.component, "the module's values for " + ref.component)
    pairs = ", ".join(f"{k} = {v}" for k, v in sets.items())
    return (f"Release {ref.name} is managed by Terraform: set {pairs} in `{variable}` (castai_components_sets "
            "for a single key) and run `terraform apply`; a helm upgrade would be reverted by the next apply.")


def _field(release: Any, name: str) -> Any:
    if isinstance(release, dict):
        return release.get(name)
    return getattr(release, name, None)


def helm_commands(component: str, **sets: str) -> Any:
    """A FixTemplate `commands` callable: the pinned upgrade of whichever release installed
    `component` (judges put it in `fix_args["release"]` with `release_for`); none when the
    release is unknown or Terraform owns it (then `helm_guidance` says what to do)."""

    def commands(values: Mapping[str, Any]) -> list[list[str]]:
        ref = values.get("release")
        if not isinstance(ref, ReleaseRef) or ref.terraform:
            return []
        filled = {key: fill(value, values) for key, value in sets.items()}
        return [pinned_upgrade(ref, str(values["ns"]), filled)]

    return commands


def helm_guidance(component: str, **sets: str) -> Any:
    """A FixTemplate `guidance` callable: the Terraform change, or why no command is offered."""

    def guidance(values: Mapping[str, Any]) -> str | None:
        ref = values.get("release")
        filled = {key: fill(value, values) for key, value in sets.items()}
        if not isinstance(ref, ReleaseRef):
            change = (": set " + ", ".join(f"{k}={v}" for k, v in filled.items())) if filled else ""
            return (f"no Helm release of chart {component} (nor the umbrella chart) was found, so castui offers no "
                    f"command; change it where the component was installed{change}")
        if ref.terraform:
            return terraform_guidance(ref, filled)
        return None

    return guidance
