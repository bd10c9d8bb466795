"""7. `evictor-aggressive`: the evictor evicts too often.

When CAST AI manages the evictor, the policies decide its settings (they override
the Helm values); a self-managed evictor takes its Helm values and env.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from castui.clients.errors import CastuiError
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
    unknown,
)
from castui.tree.reading import Evidence, container_env, event_rows, json_evidence, parse_time

EVICTOR = "castai-evictor"
CHART_KEYS_NOTE = (
    "The field guide's `--set evictor.aggressiveMode=false` and `evictor.cycleInterval=600` do not match the "
    "chart's keys (`aggressiveMode`, `cycleInterval`), and 600 is not a Go duration (`10m` is)."
)


async def gather_evictions(facts: Facts) -> dict[str, Any]:
    """Evicted events: the count in the last hour (sum of `count`) and the newest 20."""
    events = await facts.events(reason="Evicted")
    since = facts.now - timedelta(hours=1)

    def last_seen(event: dict[str, Any]) -> Any:
        return parse_time(event.get("lastTimestamp") or event.get("eventTime")) or parse_time(event.get("firstTimestamp"))

    recent = [e for e in events if (t := last_seen(e)) and t >= since]
    newest = sorted(events, key=lambda e: str(e.get("lastTimestamp") or ""), reverse=True)[:20]
    return {"last_hour": sum(int(e.get("count") or 1) for e in recent), "newest": newest, "total": len(events)}


async def gather_evictor_config(facts: Facts) -> dict[str, Any]:
    """The evictor's effective settings and who decides them.

    The release (a Secret) is read when castui may; without it the Deployment's env and the
    policies still decide, so a user who may not read Secrets still gets an answer."""
    releases_error = None
    try:
        release = next((r for r in await facts.helm_releases() if r.chart == EVICTOR), None)
    except CastuiError as error:
        release, releases_error = None, str(error)
    deployment = await facts.deployment(EVICTOR)
    applied = await facts.evictor_configs()
    env = container_env(deployment) if deployment else {}
    helm = {
        "aggressiveMode": _bool(env.get("AGGRESSIVE_MODE", (release.values or {}).get("aggressiveMode") if release else None)),
        "cycleInterval": env.get("CYCLE_INTERVAL") or ((release.values or {}).get("cycleInterval") if release else None) or "1m",
    }
    managed_by_release = bool(release and (release.values or {}).get("managedByCASTAI"))
    return {
        "installed": deployment is not None or release is not None,
        "release": release.name if release else EVICTOR,
        "helm": helm,
        "managed_hint": managed_by_release or bool(applied),
        "evictorconfig": applied[0] if applied else None,
        "releases_error": releases_error,
    }


def summarise_evictor_config(config: dict[str, Any]) -> str:
    if config.get("releases_error"):
        return f"Helm release could not be read ({config['releases_error']}); the policies and the Deployment's env decide"
    if not config["installed"]:
        return "not installed"
    return "managed by CAST AI" if config["managed_hint"] else "self-managed"


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def go_duration_seconds(value: str | None) -> float | None:
    """`1m`, `90s`, `1h30m` → seconds; None when it is not a Go duration."""
    if not value or not re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", value.strip()):
        return None
    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", value))


async def gather_policies_evictor(facts: Facts) -> dict[str, Any]:
    return (await facts.policies_with_raw())[1]


CHECKS = (
    Check("evictions", "Evicted events in all namespaces (last hour, newest 20)", gather_evictions,
          lambda r: f"{r['last_hour']} evictions in the last hour"),
    Check("evictor-config", "The evictor's Helm values, env and applied EvictorConfig", gather_evictor_config,
          summarise_evictor_config),
    Check("policies", "Autoscaler policies from the API (nodeDownscaler.evictor)", gather_policies_evictor,
          lambda p: "evictor policy " + ("on" if (p.get("nodeDownscaler") or {}).get("evictor", {}).get("enabled") else "off")),
)


def effective(obs: Observations) -> dict[str, Any]:
    """{"aggressiveMode", "cycleInterval", "source", "managed", "document", "prefix"}; raises CouldNotCheck via obs."""
    config = obs["evictor-config"]
    policies = obs.get("policies")
    policy_evictor = ((policies or {}).get("nodeDownscaler") or {}).get("evictor") or {}
    managed = bool(policy_evictor.get("enabled")) or config["managed_hint"]
    if managed:
        if policies is None:
            raise _Undecidable(f"CAST AI manages the evictor and the policies could not be read: {obs.failed('policies')}")
        return {"aggressiveMode": bool(policy_evictor.get("aggressiveMode")), "cycleInterval": policy_evictor.get("cycleInterval") or "1m",
                "source": "policies", "managed": True, "document": policies, "prefix": "nodeDownscaler.evictor."}
    return {**config["helm"], "source": f"Helm release {config['release']}", "managed": False, "document": config["helm"], "prefix": ""}


class _Undecidable(Exception):
    pass


def storm(obs: Observations) -> tuple[bool, int]:
    count = obs["evictions"]["last_hour"]
    return count > obs.thresholds.eviction_storm_per_hour, count


def observe(obs: Observations) -> Observation:
    is_storm, count = storm(obs)
    return Observation(is_storm, f"{count} evictions in the last hour (threshold {obs.thresholds.eviction_storm_per_hour})")


def events_evidence(obs: Observations) -> Evidence:
    return Evidence(kind="events", title="Evicted events (newest 20)", data=event_rows(obs["evictions"]["newest"]))


def judge_aggressive(obs: Observations) -> Judgement:
    if not obs["evictor-config"]["installed"] and obs.get("policies") is not None and not _policy_evictor(obs).get("enabled"):
        return ruled_out("no evictor is installed")
    try:
        config = effective(obs)
    except _Undecidable as exc:
        return unknown(str(exc))
    if config["aggressiveMode"]:
        return confirmed(f"aggressive mode is on ({config['source']})",
                         json_evidence(config["source"], config["document"], config["prefix"] + "aggressiveMode"),
                         release=obs["evictor-config"]["release"])
    return ruled_out(f"aggressive mode is off ({config['source']})")


def judge_cycle_short(obs: Observations) -> Judgement:
    try:
        config = effective(obs)
    except _Undecidable as exc:
        return unknown(str(exc))
    seconds = go_duration_seconds(config["cycleInterval"])
    is_storm, count = storm(obs)
    if seconds is None:
        return unknown(f"cycleInterval {config['cycleInterval']!r} ({config['source']}) is not a Go duration")
    if seconds < obs.thresholds.evictor_cycle_min_seconds and is_storm:
        return confirmed(f"the evictor cycles every {config['cycleInterval']} ({config['source']}) and evicted {count} pods in the last hour",
                         json_evidence(config["source"], config["document"], config["prefix"] + "cycleInterval"),
                         events_evidence(obs), release=obs["evictor-config"]["release"])
    if seconds < obs.thresholds.evictor_cycle_min_seconds:
        return ruled_out(f"cycle {config['cycleInterval']} is short but normal (the chart's default is 1m) with only {count} evictions in the last hour")
    return ruled_out(f"cycle {config['cycleInterval']} is not short")


def judge_storm(obs: Observations) -> Judgement:
    is_storm, count = storm(obs)
    if is_storm:
        return confirmed(f"{count} pods were evicted in the last hour (threshold {obs.thresholds.eviction_storm_per_hour})", events_evidence(obs))
    return ruled_out(f"{count} evictions in the last hour is within the threshold of {obs.thresholds.eviction_storm_per_hour}")


def _policy_evictor(obs: Observations) -> dict[str, Any]:
    return ((obs.get("policies") or {}).get("nodeDownscaler") or {}).get("evictor") or {}


def _evictor_fix(title: str, policy: dict[str, Any], helm_set: str) -> FixTemplate:
    return FixTemplate(
        title=title,
        explanation="Where CAST AI manages the evictor the policies decide (castui updates them); a self-managed "
        "evictor takes its Helm values: run the helm command instead.",
        commands=(("helm", "upgrade", "{release}", "castai-helm/castai-evictor", "-n", "{ns}", "--reuse-values", "--set", helm_set),),
        policies_patch={"nodeDownscaler": {"evictor": policy}},
        recheck=("evictor-aggressive",),
        note=CHART_KEYS_NOTE,
    )


SYMPTOM = Symptom(
    id="evictor-aggressive",
    title="The evictor evicts too often",
    recognise="pods are evicted and rescheduled again and again; Evicted events pile up",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("evictor-aggressive-mode", "The evictor runs in aggressive mode", judge_aggressive,
              _evictor_fix("Turn aggressive mode off", {"aggressiveMode": False}, "aggressiveMode=false")),
        Cause("evictor-cycle-short", "The evictor cycles too often during an eviction storm", judge_cycle_short, _evictor_fix("Lengthen the evictor cycle to 10m", {"cycleInterval": "10m"}, "cycleInterval=10m")),
        Cause("eviction-storm", "More evictions than the threshold", judge_storm,
              FixTemplate(title="Find what evicts and slow it down",
                          explanation="Read the Evicted events: the evictor's settings above, node pressure (kubelet evictions) "
                          "or a rebalancing plan are the usual sources.",
                          commands=(("kubectl", "get", "events", "-A", "--field-selector", "reason=Evicted", "--sort-by=.lastTimestamp"),),
                          mutates=False, recheck=("evictor-aggressive",))),
    ),
)
