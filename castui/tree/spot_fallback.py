"""6. `spot-fallback`: when spot capacity runs out, nothing falls back to on-demand.

Spot settings moved from the policies to node templates: where the two disagree,
the template decides, and castui says which one it read.
"""

from __future__ import annotations

from typing import Any

from castui.tree.model import (
    Cause,
    FixTemplate,
    Judgement,
    Observation,
    Observations,
    Symptom,
    confirmed,
    ruled_out,
)
from castui.tree.no_scale_up import CHECKS as SCALE_UP_CHECKS
from castui.tree.reading import dig, json_evidence

POLICIES, TEMPLATES = SCALE_UP_CHECKS[1], SCALE_UP_CHECKS[3]


def spot_templates(obs: Observations) -> list[dict[str, Any]]:
    return [t for t in obs["node-templates"] if t.get("isEnabled", True) and (t.get("constraints") or {}).get("spot")]


def spot_in_use(obs: Observations) -> bool:
    return bool(dig(obs["policies"], "spotInstances.enabled")) or bool(spot_templates(obs))


def observe(obs: Observations) -> Observation:
    if not spot_in_use(obs):
        return Observation(False, "spot instances are not used")
    return Observation(None, "spot instances are used; whether a fallback failed is not visible from here")


def _setting(obs: Observations, template_key: str, policy_path: str) -> tuple[Any, str, Any, str]:
    """(value, where it was read, document, path): the first spot template decides, else the policies."""
    templates = spot_templates(obs)
    if templates:
        template = templates[0]
        constraints = template.get("constraints") or {}
        return (constraints.get(template_key), f"node template {template.get('name')!r}", template, f"constraints.{template_key}")
    return dig(obs["policies"], policy_path), "policies", obs["policies"], policy_path


def _not_applicable() -> Judgement:
    return ruled_out("not applicable: spot instances are not used (spotInstances off and no spot node template)")


def _template_args(obs: Observations) -> dict[str, Any]:
    templates = spot_templates(obs)
    return {"template": templates[0].get("name")} if templates else {}


def judge_backups(obs: Observations) -> Judgement:
    if not spot_in_use(obs):
        return _not_applicable()
    value, where, document, path = _setting(obs, "useSpotFallbacks", "spotInstances.spotBackups.enabled")
    if not value:
        return confirmed(f"spot fallback to on-demand is off in the {where}", json_evidence(where, document, path), **_template_args(obs))
    return ruled_out(f"spot fallback is on in the {where}")


def judge_diversity(obs: Observations) -> Judgement:
    if not spot_in_use(obs):
        return _not_applicable()
    value, where, document, path = _setting(obs, "enableSpotDiversity", "spotInstances.spotDiversityEnabled")
    if not value:
        return confirmed(f"spot diversity is off in the {where}", json_evidence(where, document, path), **_template_args(obs))
    return ruled_out(f"spot diversity is on in the {where}")


def judge_price_limit(obs: Observations) -> Judgement:
    if not spot_in_use(obs):
        return _not_applicable()
    value, where, document, path = _setting(
        obs, "spotDiversityPriceIncreaseLimitPercent", "spotInstances.spotDiversityPriceIncreaseLimitPercent"
    )
    if not value or not 20 <= value <= 30:
        shown = "unset" if not value else f"{value}%"
        return confirmed(f"the spot price-increase limit is {shown} in the {where} (20–30% expected)",
                         json_evidence(where, document, path), **_template_args(obs))
    return ruled_out(f"the spot price-increase limit is {value}% in the {where}")


def _template_fix(title: str, explanation: str, constraints: dict[str, Any], policies: dict[str, Any]) -> FixTemplate:
    """Where a template decides, the console or the template API changes it; the policies patch covers clusters without one."""
    return FixTemplate(
        title=title,
        explanation=explanation + " Where a node template uses spot, change it on that template "
        "(console → Autoscaler → Node templates → {template}); castui changes the policies only.",
        policies_patch={"spotInstances": policies},
        recheck=("spot-fallback",),
        note="template constraints to set: " + ", ".join(f"{k}={v}" for k, v in constraints.items()),
    )


SYMPTOM = Symptom(
    id="spot-fallback",
    title="Spot instance fallback does not work",
    recognise="when spot capacity is gone, pods stay Pending instead of landing on on-demand nodes",
    checks=(POLICIES, TEMPLATES),
    observe=observe,
    causes=(
        Cause("spot-backups-disabled", "Fallback to on-demand is off", judge_backups,
              _template_fix("Enable spot fallback", "Fallback creates on-demand nodes while spot is unavailable.",
                            {"useSpotFallbacks": True}, {"spotBackups": {"enabled": True}})),
        Cause("spot-diversity-disabled", "Spot diversity is off", judge_diversity,
              _template_fix("Enable spot diversity", "Diversity spreads nodes over more instance types, so one shortage hurts less.",
                            {"enableSpotDiversity": True}, {"spotDiversityEnabled": True})),
        Cause("spot-price-limit-out-of-range", "The spot price-increase limit is unset or outside 20–30%",
              judge_price_limit,
              _template_fix("Set the price-increase limit to 25%", "A limit of 20–30% lets diversity pick other types at a bounded cost.",
                            {"spotDiversityPriceIncreaseLimitPercent": 25}, {"spotDiversityPriceIncreaseLimitPercent": 25})),
    ),
)
