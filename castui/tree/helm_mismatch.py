"""9. `helm-mismatch`: CAST AI charts are behind, or a release is broken.

Releases are read from their Secrets (no `helm` binary needed) and matched to the
repository index by chart name, not release name: the Terraform module calls the
cluster controller's release `cluster-controller`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from castui.engine.facts import Facts
from castui.tree.model import (
    Cause,
    Check,
    FixTemplate,
    Judgement,
    Observation,
    Observations,
    Symptom,
    confirmed,
    ruled_out,
)
from castui.tree.reading import Evidence


async def gather_releases(facts: Facts) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "chart": r.chart, "version": r.chart_version, "app_version": r.app_version, "status": r.status,
         "revision": r.revision, "last_deployed": r.last_deployed.isoformat() if r.last_deployed else None,
         "managed": bool((r.values or {}).get("managedByCASTAI"))}
        for r in await facts.helm_releases()
    ]


async def gather_index(facts: Facts) -> dict[str, str]:
    return await facts.chart_index()


CHECKS = (
    Check("helm-releases", "Helm releases in the namespace (from their Secrets)", gather_releases,
          lambda rs: ", ".join(f"{r['name']} {r['version']} {r['status']}" for r in rs) or "no releases"),
    Check("chart-index", "Newest chart versions in the castai-helm repository", gather_index,
          lambda idx: f"{len(idx)} charts indexed"),
)


def releases_table(releases: list[dict[str, Any]], index: dict[str, str] | None) -> Evidence:
    rows = [["RELEASE", "CHART", "INSTALLED", "NEWEST", "STATUS", "REVISION", "MANAGED BY CAST AI"]]
    for r in releases:
        rows.append([r["name"], r["chart"], r["version"], (index or {}).get(r["chart"], "?"), r["status"], str(r["revision"]),
                     "yes" if r["managed"] else "no"])
    return Evidence(kind="table", title="Helm releases", data=rows)


def outdated(obs: Observations) -> list[dict[str, Any]]:
    from castui.clients.helmrepo import is_older

    index = obs["chart-index"]
    return [r for r in obs["helm-releases"] if r["chart"] in index and is_older(r["version"], index[r["chart"]])]


def stuck(obs: Observations) -> list[dict[str, Any]]:
    from castui.tree.reading import parse_time

    limit = timedelta(minutes=obs.thresholds.pending_release_minutes)
    result = []
    for release in obs["helm-releases"]:
        deployed = parse_time(release["last_deployed"])
        if release["status"] == "failed" or (
            str(release["status"]).startswith("pending-") and (deployed is None or obs.now - deployed > limit)
        ):
            result.append(release)
    return result


def observe(obs: Observations) -> Observation:
    broken = stuck(obs)
    if broken:
        return Observation(True, ", ".join(f"{r['name']} is {r['status']}" for r in broken))
    return Observation(None if obs.get("chart-index") is None else False, f"{len(obs['helm-releases'])} releases deployed")


def judge_outdated(obs: Observations) -> Judgement:
    releases = obs["helm-releases"]
    if not releases:
        return ruled_out("no Helm release in the namespace")
    behind = outdated(obs)
    if not behind:
        return ruled_out("every CAST AI chart is at the newest version")
    first = behind[0]
    index = obs["chart-index"]
    managed = " (CAST AI upgrades it itself)" if first["managed"] else ""
    return confirmed(
        "; ".join(f"{r['name']}: chart {r['chart']} {r['version']}, newest {index[r['chart']]}" for r in behind) + managed,
        releases_table(releases, index),
        release=first["name"], chart=first["chart"],
    )


def judge_not_deployed(obs: Observations) -> Judgement:
    broken = stuck(obs)
    if not broken:
        return ruled_out("every release's last revision is deployed")
    first = broken[0]
    return confirmed(
        f"release {first['name']} revision {first['revision']} is {first['status']}",
        releases_table(obs["helm-releases"], obs.get("chart-index")),
        release=first["name"], chart=first["chart"],
    )


UPGRADE = (
    ("helm", "repo", "update"),
    ("helm", "upgrade", "{release}", "castai-helm/{chart}", "-n", "{ns}", "--reuse-values"),
)

SYMPTOM = Symptom(
    id="helm-mismatch",
    title="Helm chart versions are behind or broken",
    recognise="`helm list -n castai-agent` shows old chart versions, or a release failed / is stuck pending",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("chart-outdated", "An installed chart is older than the newest", judge_outdated,
              FixTemplate(title="Upgrade the release to the newest chart",
                          explanation="Update the repository index, then upgrade keeping your values.",
                          commands=UPGRADE, recheck=("helm-mismatch",))),
        Cause("release-not-deployed", "A release's last revision failed or is stuck", judge_not_deployed,
              FixTemplate(title="Upgrade again, or roll back",
                          explanation="A failed or stuck revision blocks later upgrades; upgrade again, or `helm rollback {release}`.",
                          commands=UPGRADE, recheck=("helm-mismatch",))),
    ),
)
