"""9. `helm-mismatch`: CAST AI charts are behind, or a release is broken.

Guide v2 §9. Releases are read from their Secrets (no `helm` binary needed) and matched to the
repository index by chart name, not release name: the Terraform module calls the cluster
controller's release `cluster-controller`, and an umbrella install has one release `castai`
(chart `castai`) compared as one chart, since its subcharts are pinned
(castai/helm-charts@daa4628 `charts/castai-umbrella/charts/autoscaler/Chart.yaml`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from castui.diagnosis import Evidence, LogSource
from castui.tree.logs import parse_lines
from castui.tree.model import (
    Cause,
    Check,
    FixTemplate,
    Judgement,
    Observation,
    Observations,
    Symptom,
    confirmed,
    latent,
    ruled_out,
    unknown,
)
from castui.tree.reader import Reader
from castui.tree.reading import as_dict, as_dicts, log_evidence, name_of, parse_time
from castui.tree.releases import ReleaseRef, is_terraform_managed

CLUSTER_CONTROLLER = "castai-cluster-controller"
#: cluster-controller acks an action its version cannot handle with this error
#: (castai/cluster-controller@5919ac5 internal/controller/controller.go handleAction)
INVALID_ACTION = re.compile(r"invalid action, check action data or if cluster controller version supports this action type")


async def gather_releases(facts: Reader) -> list[dict[str, Any]]:
    secrets = await facts.kube_list("secrets", facts.ns, label_selector="owner=helm")
    history: dict[str, list[list[Any]]] = {}
    for secret in secrets:  # every revision's status is in its Secret's labels: no decoding needed
        labels = as_dict(as_dict(secret.get("metadata")).get("labels"))
        if str(labels.get("version", "")).isdigit():
            history.setdefault(str(labels.get("name")), []).append([int(labels["version"]), str(labels.get("status", ""))])
    releases = []
    for r in await facts.helm_releases():
        values = {**(r.values or {}), **(r.config or {})}
        releases.append({
            "name": r.name, "chart": r.chart, "version": r.chart_version, "app_version": r.app_version, "status": r.status,
            "revision": r.revision, "last_deployed": r.last_deployed.isoformat() if r.last_deployed else None,
            "managed": values.get("managedByCASTAI") is True, "terraform": is_terraform_managed(values),
            "history": sorted(history.get(r.name, [])),
        })
    return releases


async def gather_index(facts: Reader) -> dict[str, str]:
    return await facts.chart_index()


async def gather_controller_logs(facts: Reader) -> dict[str, list[str]]:
    """The current log of each cluster-controller pod's `cluster-controller` container (the chart's name for it)."""
    logs: dict[str, list[str]] = {}
    for pod in await facts.pods_of(CLUSTER_CONTROLLER):
        containers = [c.get("name") for c in as_dicts(as_dict(pod.get("spec")).get("containers"))]
        container = "cluster-controller" if "cluster-controller" in containers else None
        logs[name_of(pod)] = (await facts.logs(name_of(pod), container)).splitlines()
    return logs


CHECKS = (
    Check("helm-releases", "Helm releases in the namespace (from their Secrets)", gather_releases,
          lambda rs: ", ".join(f"{r['name']} {r['version']} {r['status']}" for r in rs) or "no releases"),
    Check("chart-index", "Newest chart versions in the castai-helm repository", gather_index,
          lambda idx: f"{len(idx)} charts indexed"),
    Check("controller-logs", "cluster-controller logs", gather_controller_logs,
          lambda logs: f"{len(logs)} pods read" if logs else "no cluster-controller pod"),
)


def releases_table(releases: list[dict[str, Any]], index: Mapping[str, str] | None) -> Evidence:
    rows = [["RELEASE", "CHART", "INSTALLED", "NEWEST", "STATUS", "REVISION", "UPDATED BY"]]
    for r in releases:
        rows.append([r["name"], str(r["chart"]), str(r["version"]), (index or {}).get(str(r["chart"]), "?"), r["status"],
                     str(r["revision"]), updated_by(r) or "you"])
    return Evidence(kind="table", title="Helm releases", data=rows)


def updated_by(release: Mapping[str, Any]) -> str | None:
    """Who keeps the release current, when not the user (docs.cast.ai `helm`: CAST AI updates
    cluster-controller always and the evictor when CAST AI-managed; the agent and spot-handler never)."""
    if release["chart"] == CLUSTER_CONTROLLER:
        return "CAST AI"
    if release["chart"] == "castai-evictor" and release.get("managed"):
        return "CAST AI (managedByCASTAI)"
    if release.get("terraform") and release["chart"] != "castai-agent":
        # the EKS module's component releases have `ignore_changes = [version]`; its agent release has not
        # (castai/terraform-castai-eks-cluster@d2436b0 main.tf)
        return "CAST AI (Terraform ignores its version)"
    return None


def ref_of(release: Mapping[str, Any]) -> ReleaseRef:
    return ReleaseRef(name=str(release["name"]), chart=str(release["chart"]), component=str(release["chart"]),
                      version=release.get("version"), terraform=bool(release.get("terraform")), status=release.get("status"))


def stuck(obs: Observations) -> list[dict[str, Any]]:
    """Releases whose last revision failed, or is pending longer than castui's threshold (10 min)."""
    limit = timedelta(minutes=obs.thresholds.pending_release_minutes)
    result = []
    for release in obs["helm-releases"]:
        deployed = parse_time(release["last_deployed"])
        if release["status"] == "failed" or (
            str(release["status"]).startswith("pending-") and (deployed is None or obs.now - deployed > limit)
        ):
            result.append(release)
    return result


def invalid_actions(obs: Observations) -> tuple[str, list[str], list[int]] | None:
    """The first cluster-controller pod that logged an action its version does not support."""
    for pod, lines in as_dict(obs.get("controller-logs")).items():
        hits = [i for i, line in enumerate(parse_lines(lines)) if INVALID_ACTION.search(line.raw)]
        if hits:
            return pod, lines, hits
    return None


def observe(obs: Observations) -> Observation:
    broken = stuck(obs)
    if broken:
        return Observation(True, ", ".join(f"{r['name']} is {r['status']}" for r in broken))
    if obs.failed("controller-logs") is None and invalid_actions(obs):
        return Observation(True, "cluster-controller received actions its version does not support")
    if (why := obs.failed("controller-logs")) is not None:
        return Observation(None, f"{len(obs['helm-releases'])} releases deployed; cluster-controller logs unread: {why}")
    return Observation(False, f"{len(obs['helm-releases'])} releases deployed")


def judge_outdated(obs: Observations) -> Judgement:
    releases = obs["helm-releases"]
    controller = next((r for r in releases if r["chart"] == CLUSTER_CONTROLLER), None)
    index = obs.get("chart-index")
    if controller is not None and (found := invalid_actions(obs)):
        # guide v2 §9: confirmed only for cluster-controller with the `invalid action` line (CC controller.go)
        pod, lines, hits = found
        newest = (index or {}).get(CLUSTER_CONTROLLER)
        return confirmed(
            f"{pod} rejects actions its version does not support: release {controller['name']} runs chart "
            f"{controller['version']}" + (f", newest {newest}" if newest else ""),
            log_evidence(f"{pod} (cluster-controller)", lines, hits,
                         LogSource(namespace=obs.namespace, pod=pod, container="cluster-controller")),
            releases_table(releases, index),
            release=ref_of(controller), release_name=controller["name"], newest=newest or "",
        )
    if not releases:
        return ruled_out("no Helm release in the namespace")
    if index is None:
        return unknown(f"could not check the newest chart versions: {obs.failed('chart-index')}")
    from castui.clients.helmrepo import is_older

    behind = [r for r in releases if r["chart"] in index and is_older(str(r["version"]), index[r["chart"]])]
    yours = [r for r in behind if updated_by(r) is None]
    if yours:
        # docs.cast.ai `helm`: the agent and spot-handler are not auto-updated; behind the newest is a risk, not a fault
        first = yours[0]
        return latent("; ".join(f"{r['name']} runs chart {r['chart']} {r['version']}, newest {index[r['chart']]}" for r in yours)
                      + " (CAST AI does not update " + ("it" if len(yours) == 1 else "them") + ": upgrading is up to you)",
                      releases_table(releases, index), release=ref_of(first), release_name=first["name"],
                      newest=index[first["chart"]])
    if (why := obs.failed("controller-logs")) and any(r["chart"] == CLUSTER_CONTROLLER for r in behind):
        return unknown(f"cluster-controller is behind the newest chart, and its logs could not be read: {why}")
    if behind:
        # CAST AI upgrades these itself (docs.cast.ai `helm`; the EKS module's ignore_changes = [version])
        return ruled_out("; ".join(f"{r['name']} {r['version']} is behind {index[r['chart']]}, and {updated_by(r)} updates it"
                                   for r in behind))
    return ruled_out("every CAST AI chart is at the newest version")


def judge_not_deployed(obs: Observations) -> Judgement:
    broken = stuck(obs)
    if not broken:
        return ruled_out("every release's last revision is deployed (or pending for less than "
                         f"{obs.thresholds.pending_release_minutes} min)")
    first = broken[0]
    # the revision to roll back to: the newest earlier one that was deployed (its Secret's `status` label)
    good = [rev for rev, status in first.get("history") or [] if rev < first["revision"] and status in ("deployed", "superseded")]
    # self-evident: Helm refuses upgrades while a release is pending (helm/helm@00669cd pkg/action/upgrade.go errPending)
    return confirmed(
        f"release {first['name']} revision {first['revision']} is {first['status']}"
        + (f"; revision {max(good)} was the last deployed" if good else "; no earlier deployed revision is kept"),
        releases_table(obs["helm-releases"], obs.get("chart-index")),
        # release_name: the plain string lets render_fix refuse commands when a name from the cluster holds `${`
        release=ref_of(first), release_name=first["name"], rollback_to=str(max(good)) if good else "",
    )


def upgrade_commands(values: Mapping[str, Any]) -> list[list[str]]:
    """`helm repo update`, then the upgrade to the newest chart, keeping the user's values and new defaults."""
    ref = values.get("release")
    if not isinstance(ref, ReleaseRef) or ref.terraform:
        return []
    upgrade = ["helm", "upgrade", ref.name, f"castai-helm/{ref.chart}", "-n", str(values["ns"])]
    if values.get("newest"):
        upgrade += ["--version", str(values["newest"])]
    return [["helm", "repo", "update"], [*upgrade, "--reset-then-reuse-values"]]


def upgrade_guidance(values: Mapping[str, Any]) -> str | None:
    ref = values.get("release")
    if isinstance(ref, ReleaseRef) and ref.terraform:
        # docs.cast.ai `component-troubleshooting`: Terraform installs pin the agent with `agent_version`
        return (f"Release {ref.name} is managed by Terraform: raise the module's version for it (`agent_version` for the "
                "agent) and run `terraform apply`; a helm upgrade would be reverted by the next apply.")
    return None


def rollback_commands(values: Mapping[str, Any]) -> list[list[str]]:
    ref = values.get("release")
    if not isinstance(ref, ReleaseRef) or ref.terraform:
        return []
    ns = str(values["ns"])
    history = ["helm", "history", ref.name, "-n", ns]
    if not values.get("rollback_to"):
        return [history]
    return [history, ["helm", "rollback", ref.name, str(values["rollback_to"]), "-n", ns]]


def rollback_guidance(values: Mapping[str, Any]) -> str | None:
    ref = values.get("release")
    if not isinstance(ref, ReleaseRef):
        return None
    if ref.terraform:
        return (f"Release {ref.name} is managed by Terraform: run `terraform apply` again (it retries the release); "
                "a helm rollback would be undone by the next apply.")
    if not values.get("rollback_to"):
        return f"No earlier deployed revision of {ref.name} is kept: rerun the upgrade instead."
    return None


SYMPTOM = Symptom(
    id="helm-mismatch",
    title="Helm chart versions are behind or broken",
    recognise="`helm list -n castai-agent` shows a failed or stuck release, or cluster-controller rejects actions",
    label="Helm releases",
    abbrev="helm",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("release-not-deployed", "A release's last revision failed or is stuck", judge_not_deployed,
              FixTemplate(title="Roll back to the last deployed revision",
                          explanation="A failed or pending revision blocks later upgrades. `helm history` shows the "
                          "revisions; roll back to the last deployed one, or rerun the upgrade. CAST AI rolls back "
                          "its own stuck pending-upgrade releases when it upgrades them.",
                          commands=rollback_commands, guidance=rollback_guidance, recheck=("helm-mismatch",))),
        Cause("chart-outdated", "An installed chart is older than the newest", judge_outdated,
              FixTemplate(title="Upgrade the release to the newest chart",
                          explanation="Update the repository index, then upgrade to the newest chart, keeping your "
                          "values and the chart's new defaults (--reset-then-reuse-values, Helm 3.14 or later).",
                          commands=upgrade_commands, guidance=upgrade_guidance, recheck=("helm-mismatch",))),
    ),
)
