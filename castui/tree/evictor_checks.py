"""The Evictor as symptoms 5 and 7 read it: its pods, Deployment env, `EvictorConfig`, Helm
release, and who owns its settings.

Guide v2 §7: `managedByCASTAI: true` is just the chart default; the owner is
`EvictorConfig.spec.managementMode` (`castai` | `self-managed`: castai/helm-charts@c2de1e1
charts/castai-evictor/templates/evictorconfig.yaml) or the API's `configOwnership`
(docs.cast.ai evictor-config-ownership); without either, the Evictor's causes are unknown.
CAST AI-owned settings are the policies' `nodeDownscaler.evictor` (they override the Helm
values: docs.cast.ai evictor-configuration); a self-managed Evictor takes its Deployment's
`AGGRESSIVE_MODE`, `CYCLE_INTERVAL`, `DRY_RUN` (templates/deployment.yaml) and its EvictorConfig.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from castui.clients.errors import CastuiError
from castui.tree.model import Check, Observations
from castui.tree.reader import Reader
from castui.tree.reading import as_dict, as_dicts, as_str, container_env, dig, has_running_container, is_ready, name_of
from castui.tree.releases import ReleaseRef, find_release

EVICTOR = "castai-evictor"
OWNERS = ("castai", "self-managed")
#: the chart's env for each setting (castai/helm-charts@c2de1e1 charts/castai-evictor/templates/deployment.yaml)
ENV = {"aggressiveMode": "AGGRESSIVE_MODE", "cycleInterval": "CYCLE_INTERVAL", "dryRun": "DRY_RUN"}


async def gather_evictor(facts: Reader) -> dict[str, Any]:
    """Pods, Deployment env, the applied EvictorConfig and the release (read when castui may: a user
    who may not read Secrets still gets the rest)."""
    pods = await facts.pods_of(EVICTOR)
    deployment = await facts.deployment(EVICTOR)
    config_error = None
    try:
        configs = await facts.evictor_configs()
    except CastuiError as error:  # a user who may not read the CRD: the API's configOwnership may still say
        configs, config_error = [], str(error)
    release: dict[str, Any] | None = None
    releases_error = None
    try:
        releases = await facts.helm_releases()
        ref = find_release(releases, EVICTOR)
        if ref is not None:
            chosen = next(r for r in releases if r.name == ref.name)
            release = {"name": chosen.name, "chart": chosen.chart, "chart_version": chosen.chart_version,
                       "status": chosen.status, "values": chosen.values, "config": chosen.config}
    except CastuiError as error:
        releases_error = str(error)
    config = next((c for c in configs if name_of(c) == "evictor-config"), configs[0] if configs else None)
    return {
        "pods": [{"pod": name_of(p), "ready": is_ready(p), "running": has_running_container(p)} for p in pods],
        "deployment": None if deployment is None else {
            "name": name_of(deployment), "replicas": as_dict(deployment.get("spec")).get("replicas"),
            "env": container_env(deployment)},
        "evictorconfig": None if config is None else {"name": name_of(config), "spec": as_dict(config.get("spec"))},
        "evictorconfig_error": config_error,
        "release": release,
        "releases_error": releases_error,
    }


def summarise_evictor(value: dict[str, Any]) -> str:
    pods = as_dicts(value.get("pods"))
    mode = dig(value, "evictorconfig.spec.managementMode")
    return (f"{sum(1 for p in pods if p.get('ready'))} of {len(pods)} evictor pods ready"
            + (f", EvictorConfig managementMode {mode}" if mode else ", no EvictorConfig"))


async def gather_ownership(facts: Reader) -> str | None:
    return await facts.evictor_ownership()


async def gather_advanced(facts: Reader) -> list[dict[str, Any]]:
    return await facts.evictor_advanced_config()


EVICTOR_CHECK = Check("evictor", "Evictor pods, Deployment env, EvictorConfig and Helm release", gather_evictor, summarise_evictor)
EVICTOR_OWNERSHIP = Check("evictor-ownership", "Who owns the Evictor's settings (API configOwnership)", gather_ownership,
                          lambda owner: f"configOwnership {owner}" if owner else "no configOwnership in the API")
EVICTOR_ADVANCED = Check("evictor-advanced-config", "The Evictor's advanced rules (API)", gather_advanced,
                         lambda rules: f"{len(rules)} advanced rules")


class Undecided(Exception):
    """A setting castui cannot determine; its message says why (the judge returns `unknown`)."""


def evictor(obs: Observations) -> dict[str, Any]:
    return as_dict(obs["evictor"])


def ready_pods(obs: Observations) -> list[str]:
    return [as_str(p.get("pod")) for p in as_dicts(evictor(obs).get("pods")) if p.get("ready") and p.get("running")]


def installed(obs: Observations) -> bool:
    value = evictor(obs)
    return bool(as_dicts(value.get("pods")) or value.get("deployment") or value.get("release"))


def owner(obs: Observations) -> tuple[str | None, str]:
    """(`castai` | `self-managed` | None, where that was read or why it is unknown)."""
    config = as_dict(evictor(obs).get("evictorconfig"))
    mode = dig(config, "spec.managementMode")
    if mode in OWNERS:
        return mode, f"EvictorConfig {config.get('name')} spec.managementMode"
    ownership = obs.get("evictor-ownership")
    if ownership in OWNERS:
        return ownership, "the API's configOwnership"
    failed = obs.failed("evictor-ownership")
    unread = evictor(obs).get("evictorconfig_error")
    return None, ("neither an EvictorConfig managementMode nor the API's configOwnership says who owns the Evictor's settings"
                  + (f" (the API: {failed})" if failed else "") + (f" (EvictorConfig: {unread})" if unread else ""))


@dataclass(frozen=True)
class Setting:
    value: Any
    #: where it was read, for people ("policies nodeDownscaler.evictor.dryRun")
    source: str
    document: Any
    path: str
    owner: str


def _normalise(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key == "cycleInterval":
        return as_str(value).strip()
    if isinstance(value, bool):
        return value
    text = as_str(value).strip().lower()
    return True if text == "true" else False if text == "false" else value


def setting(obs: Observations, key: str) -> Setting:
    """The effective value of `aggressiveMode`, `cycleInterval` or `dryRun` from the Evictor's owner;
    raises Undecided (or CouldNotCheck through `obs`) when it cannot be known."""
    who, where = owner(obs)
    if who is None:
        raise Undecided(where)
    if who == "castai":
        policies = as_dict(obs["policies"])
        path = f"nodeDownscaler.evictor.{key}"
        value = dig(policies, path)
        if value is None:
            raise Undecided(f"CAST AI owns the Evictor's settings ({where}) and the policies have no `{path}`")
        return Setting(_normalise(key, value), f"policies {path}", policies, path, who)
    value_ = evictor(obs)
    env = as_dict(as_dict(value_.get("deployment")).get("env"))
    from_env = _normalise(key, env.get(ENV[key]))
    config = as_dict(value_.get("evictorconfig"))
    from_config = _normalise(key, dig(config, f"spec.config.{key}"))
    if from_env is not None and from_config is not None and from_env != from_config:
        # guide v2 Unverified: env vs EvictorConfig precedence
        raise Undecided(f"the self-managed Evictor's {ENV[key]}={env.get(ENV[key])} and its EvictorConfig {key}="
                        f"{from_config} disagree, and which one wins is not documented")
    if from_env is not None:
        return Setting(from_env, f"Deployment {EVICTOR} env {ENV[key]}", env, ENV[key], who)
    if from_config is not None:
        return Setting(from_config, f"EvictorConfig {config.get('name')} spec.config.{key}", config, f"spec.config.{key}", who)
    raise Undecided(f"the self-managed Evictor sets no {ENV[key]} and its EvictorConfig no {key}")


def release(obs: Observations) -> ReleaseRef | None:
    found = evictor(obs).get("release")
    return find_release([found], EVICTOR) if isinstance(found, dict) else None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)")
_SCALE = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(value: Any) -> float | None:
    """`1m`, `90s`, `1h30m`, `0.5m` → seconds (Go's time.ParseDuration units); None when it is not a
    Go duration (a bare `600` is not: the field guide's `cycleInterval=600` never parsed)."""
    text = as_str(value).strip()
    if text == "0":
        return 0.0
    if not text or _DURATION.sub("", text) != "":
        return None
    return sum(float(n) * _SCALE[u] for n, u in _DURATION.findall(text))
