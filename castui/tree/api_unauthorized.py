"""3. `api-unauthorized`: the CAST AI API answers 401 to your key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from castui.clients.errors import ApiKeyMissing, Forbidden, Unauthorized
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
from castui.tree.reading import parse_time


async def gather_key_present(facts: Facts) -> bool:
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


async def gather_cluster_list(facts: Facts) -> dict[str, Any]:
    return await status_of(facts.clusters)


async def gather_cluster_access(facts: Facts) -> dict[str, Any]:
    """A key of another organisation lists clusters fine but gets 403 on this one."""
    return await status_of(facts.cluster)


async def gather_key_details(facts: Facts) -> dict[str, Any] | None:
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


CHECKS = (
    Check("api-key-present", "Is a CAST AI API key configured (CASTAI_API_KEY)", gather_key_present,
          lambda present: "configured" if present else "missing"),
    Check("api-cluster-list", "List clusters with the key (200 expected)", gather_cluster_list,
          lambda r: "no key" if r["status"] is None else f"HTTP {r['status']}"),
    Check("api-cluster-access", "Read this cluster with the key", gather_cluster_access,
          lambda r: "no key" if r["status"] is None else f"HTTP {r['status']}"),
    Check("api-key-details", "The key's record: active, read-only, expiry (/v1/auth/tokens)", gather_key_details,
          lambda d: "no key" if d is None else ("not listed" if d.get("name") is None else
                    f"{d['name']}: {'active' if d['active'] else 'inactive'}{', read-only' if d['readonly'] else ''}")),
)


def observe(obs: Observations) -> Observation:
    listing = obs["api-cluster-list"]
    if listing["status"] is None:
        return Observation(True, "no API key is configured, so every API call is unauthorized")
    if listing["status"] == 401:
        return Observation(True, "the API answers 401 Unauthorized to the key")
    return Observation(False, f"the API answers {listing['status']} to the key")


def judge_key_missing(obs: Observations) -> Judgement:
    if obs["api-key-present"]:
        return ruled_out("CASTAI_API_KEY is set")
    return confirmed("no API key: CASTAI_API_KEY is unset and none was entered")


def judge_key_invalid(obs: Observations) -> Judgement:
    status = obs["api-cluster-list"]["status"]
    if status is None:
        return unknown("no key to test")
    if status == 401:
        return confirmed("GET /v1/kubernetes/external-clusters answers 401 Unauthorized to the key")
    return ruled_out(f"the API accepts the key (HTTP {status} on the cluster list)")


def judge_key_forbidden(obs: Observations) -> Judgement:
    listing = obs["api-cluster-list"]["status"]
    if listing is None:
        return unknown("no key to test")
    if listing == 403:
        return confirmed("the cluster list answers 403 Forbidden to the key")
    if listing == 401:
        return ruled_out("the key is not recognised at all (see api-key-invalid)")
    details = obs.get("api-key-details") or {}
    if details.get("name") is not None:
        if details.get("active") is False:
            return confirmed(f"the API reports the key {details['name']!r} inactive")
        expires = parse_time(details.get("expiresAt"))
        if expires and expires < obs.now:
            return confirmed(f"the key {details['name']!r} expired on {expires:%Y-%m-%d %H:%M} UTC")
    access = obs.get("api-cluster-access")
    if access is None:
        return unknown(f"could not read this cluster with the key: {obs.failed('api-cluster-access')}")
    if access["status"] == 403:
        return confirmed("the key lists clusters but gets 403 on this cluster: it belongs to another organisation or lacks access")
    note = " (read-only: castui's API fixes will be refused)" if details.get("readonly") else ""
    return ruled_out(f"the key can read this cluster{note}")


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
    recognise="curl or Terraform calls to api.cast.ai fail with 401; the console works",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("api-key-missing", "No API key is configured", judge_key_missing, NEW_KEY),
        Cause("api-key-invalid", "The API key is not valid", judge_key_invalid, NEW_KEY),
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

