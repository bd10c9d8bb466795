"""3. `api-unauthorized`: the CAST AI API answers 401 to your key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from castui.clients.errors import ApiKeyMissing, Forbidden, Unauthorized
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
from castui.tree.reader import AGENT, Reader
from castui.tree.reading import container_env, json_evidence, parse_time


async def gather_key_present(facts: Reader) -> bool:
    return await facts.has_api_key()


async def status_of(call: Callable[[], Awaitable[object]]) -> dict[str, Any]:
    """The status the API gives castui's key: 401 and 403 are answers here, not failures."""
    try:
        await call()
    except ApiKeyMissing:
        return {"status": None}
    except Unauthorized:
        return {"status": 401}
    except Forbidden:
        return {"status": 403}
    return {"status": 200}


async def gather_cluster_list(facts: Reader) -> dict[str, Any]:
    return await status_of(facts.clusters)


async def gather_cluster_access(facts: Reader) -> dict[str, Any]:
    """A key of another organisation lists clusters fine but gets 403 on this one."""
    return await status_of(facts.cluster)


async def gather_key_details(facts: Reader) -> dict[str, Any] | None:
    """The token record for castui's key (matched by prefix): active, read-only, expiry."""
    if not await facts.has_api_key():
        return None
    tokens = await facts.auth_tokens()
    key = facts.settings.api_key_value or ""
    for token in tokens:
        prefix = token.token_prefix or ""
        if prefix and key.startswith(prefix):
            return {"name": token.name, "active": token.active, "readonly": token.readonly,
                    "expiresAt": token.expires_at.isoformat() if token.expires_at else None}
    return {"name": None}


async def gather_api_region(facts: Reader) -> dict[str, Any]:
    """The region of castui's API URL and of the agent's API_URL (its Deployment env)."""
    deployment = await facts.deployment(AGENT)
    agent_url = container_env(deployment, "agent").get("API_URL") if deployment else None
    return {"castui_url": facts.settings.api_url, "castui_region": region_of(facts.settings.api_url),
            "agent_url": agent_url, "agent_region": region_of(agent_url) if agent_url else None}


def region_of(url: str) -> str:
    """CAST AI's hosts: api.cast.ai (US) and api.eu.cast.ai (EU); anything else counts as the default region."""
    host = urlparse(url if "://" in url else "https://" + url).hostname or ""
    return "EU" if host.startswith("api.eu.") else "US"


CHECKS = (
    Check("api-key-present", "Is a CAST AI API key configured (CASTAI_API_KEY)", gather_key_present,
          lambda present: "configured" if present else "missing"),
    Check("api-cluster-list", "List clusters with the key (200 expected)", gather_cluster_list,
          lambda r: "no key" if r["status"] is None else f"HTTP {r['status']}"),
    Check("api-cluster-access", "Read this cluster with the key", gather_cluster_access,
          lambda r: "no key" if r["status"] is None else f"HTTP {r['status']}"),
    Check("api-region", "The API region castui and the agent use (API_URL)", gather_api_region,
          lambda r: f"castui {r['castui_region']}, agent {r['agent_region'] or 'unknown'}"),
    Check("api-key-details", "The key's record: active, read-only, expiry (/v1/auth/tokens)", gather_key_details,
          lambda d: "no key" if d is None else ("not listed" if d.get("name") is None else
                    f"{d['name']}: {'active' if d['active'] else 'inactive'}{', read-only' if d['readonly'] else ''}")),
)


def observe(obs: Observations) -> Observation:
    """No key (only when the user names this symptom), 401/403 on the cluster list, or 403 on this
    cluster (guide v2 §3): in a run of every check a missing key is castui's configuration, not a fault."""
    listing = obs["api-cluster-list"]
    if listing["status"] is None:
        if obs.named:
            return Observation(True, "no API key is configured, so every API call is unauthorized")
        return Observation(None, "no API key (CASTAI_API_KEY): the checks that need the CAST AI API could not run")
    if listing["status"] in (401, 403):
        return Observation(True, f"the API answers {listing['status']} to the key on the cluster list")
    access = obs.get("api-cluster-access") or {}
    if access.get("status") == 403:
        return Observation(True, "the API answers 403 to the key on this cluster")
    return Observation(False, f"the API answers {listing['status']} to the key")


def judge_key_missing(obs: Observations) -> Judgement:
    """Guide v2 §3: confirmed only when the user names api-unauthorized; else the API checks are unknown."""
    if obs["api-key-present"]:
        return ruled_out("CASTAI_API_KEY is set")
    if not obs.named:
        return unknown("no API key (CASTAI_API_KEY): castui's configuration, not a CAST AI fault; "
                       "the checks that need the API could not run")
    return confirmed("no API key: CASTAI_API_KEY is unset and none was entered")


def judge_key_invalid(obs: Observations) -> Judgement:
    """401 on GET /v1/kubernetes/external-clusters (guide v2 §3); /v1/auth/tokens is detail only
    (it can 404 for a working key: terraform-provider-castai#178)."""
    status = obs["api-cluster-list"]["status"]
    if status is None:
        return unknown("no key to test")
    if status == 401:
        return confirmed("GET /v1/kubernetes/external-clusters answers 401 Unauthorized to the key",
                         json_evidence("cluster list", obs["api-cluster-list"], "status"))
    return ruled_out(f"the API accepts the key (HTTP {status} on the cluster list)")


def judge_key_forbidden(obs: Observations) -> Judgement:
    """403 on the list or this cluster, or the key inactive/expired (guide v2 §3)."""
    listing = obs["api-cluster-list"]["status"]
    if listing is None:
        return unknown("no key to test")
    if listing == 403:
        return confirmed("the cluster list answers 403 Forbidden to the key", json_evidence("cluster list", obs["api-cluster-list"], "status"))
    if listing == 401:
        return ruled_out("the key is not recognised at all (see api-key-invalid)")
    details = obs.get("api-key-details") or {}
    if details.get("name") is not None:
        if details.get("active") is False:
            return confirmed(f"the API reports the key {details['name']!r} inactive", json_evidence("the key's record", details, "active"))
        expires = parse_time(details.get("expiresAt"))
        if expires and expires < obs.now:
            return confirmed(f"the key {details['name']!r} expired on {expires:%Y-%m-%d %H:%M} UTC",
                             json_evidence("the key's record", details, "expiresAt"))
    access = obs.get("api-cluster-access")
    if access is None:
        return unknown(f"could not read this cluster with the key: {obs.failed('api-cluster-access')}")
    if access["status"] == 403:
        return confirmed("the key lists clusters but gets 403 on this cluster: it belongs to another organisation or lacks access",
                         json_evidence("this cluster", access, "status"))
    note = " (read-only: castui's API fixes will be refused)" if details.get("readonly") else ""
    return ruled_out(f"the key can read this cluster{note}")


def judge_region_mismatch(obs: Observations) -> Judgement:
    """401 at castui's URL while the agent's API_URL names the other region's host (guide v2 §3;
    EU host api.eu.cast.ai: docs.cast.ai communication-requirements)."""
    status = obs["api-cluster-list"]["status"]
    if status is None:
        return unknown("no key to test")
    if status != 401:
        return ruled_out(f"the key is accepted at {obs.settings.api_url} (HTTP {status})")
    region = obs.get("api-region") or {}
    if not region.get("agent_url"):
        return unknown("the key is refused, and the agent's API_URL could not be read to compare regions: "
                       + (obs.failed("api-region") or "no API_URL in the agent's Deployment"))
    if region["agent_region"] != region["castui_region"]:
        return confirmed(f"the key is refused at castui's {region['castui_region']} API while the agent talks to "
                         f"{region['agent_url']} ({region['agent_region']}): the key belongs to the other region",
                         json_evidence("API regions", region, "agent_url"), api_url=region["agent_url"])
    return ruled_out(f"castui and the agent use the same region ({region['castui_region']})")


NEW_KEY = FixTemplate(
    title="Create a key and export it",
    explanation=(
        "Create a key in the console (console.cast.ai → API → API Access Keys; the value is shown once), "
        "then export it in this shell. castui reads CASTAI_API_KEY from the environment only."
    ),
    commands=(("export", "CASTAI_API_KEY=<the new key>"),),
    mutates=False,
    recheck=("api-unauthorized",),
    note="`export` is a shell builtin: copy it into your shell; castui does not run it.",
)

SYMPTOM = Symptom(
    id="api-unauthorized",
    title="The API answers 401 Unauthorized",
    label="API 401",
    abbrev="api",
    recognise="curl or Terraform calls to api.cast.ai fail with 401; the console works",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("api-key-missing", "No API key is configured", judge_key_missing, NEW_KEY),
        Cause(
            "api-region-mismatch",
            "The key belongs to the other CAST AI region",
            judge_region_mismatch,
            FixTemplate(
                title="Point castui at the region the key belongs to",
                explanation="Keys are per region: a key of the EU console is refused by api.cast.ai and the reverse.",
                commands=(("export", "CASTAI_API_URL={api_url}"),),
                mutates=False,
                recheck=("api-unauthorized",),
                note="`export` is a shell builtin: copy it into your shell; castui does not run it.",
            ),
        ),
        Cause("api-key-invalid", "The API key is not valid", judge_key_invalid, NEW_KEY, explained_by=("api-region-mismatch",)),
        Cause(
            "api-key-forbidden",
            "The key lacks access (403, inactive, expired or another organisation)",
            judge_key_forbidden,
            FixTemplate(
                title="Use a key with the right access level",
                explanation="Create a key in the organisation that owns this cluster with the access level you need, and export it.",
                commands=(("export", "CASTAI_API_KEY=<a key with access to this cluster>"),),
                mutates=False,
                recheck=("api-unauthorized",),
            ),
        ),
    ),
)

