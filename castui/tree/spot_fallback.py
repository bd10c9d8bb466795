"""6. `spot-fallback`: pods that need spot stay Pending and nothing falls back (guide v2 §6).

Observed: Pending pods as in 4 (≥ 15 min unschedulable) that need spot: they select
`scheduling.cast.ai/spot: "true"`, or their node template has `spot: true, onDemand: false`.
Spot settings live on node templates since provider 5.x; the policies' `spotInstances` are
read only where no template applies (castai/terraform-provider-castai@58fea27 README.md,
"Migrating from 4.x.x to 5.x.x"). With fallback on, the causes of 4 apply.
"""

from __future__ import annotations

from typing import Any

from castui.tree.cluster_checks import POLICIES
from castui.tree.model import (
    Cause,
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
from castui.tree.no_scale_up import NODE_TEMPLATES, PENDING_PODS, table
from castui.tree.reading import (
    as_dict,
    as_dicts,
    as_str,
    json_evidence,
    name_of,
    namespaced_name,
)
from castui.tree.scheduling import (
    TEMPLATE_LABEL,
    count,
    pod_names,
    selected_values,
    selects_spot,
    split_by_age,
    waited,
)

CHECKS = (PENDING_PODS, NODE_TEMPLATES, POLICIES)


def pod_template(pod: dict[str, Any], templates: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The template the pod selects, else the default one; None: no template applies (the policies do)."""
    by_name = {as_str(t.get("name")): t for t in templates}
    selected = selected_values(pod, TEMPLATE_LABEL)
    if selected:
        return next((by_name[n] for n in sorted(selected) if n in by_name), None)
    return next((t for t in templates if t.get("isDefault") is True), None)


def needs_spot(pod: dict[str, Any], templates: list[dict[str, Any]]) -> bool:
    constraints = as_dict((pod_template(pod, templates) or {}).get("constraints"))
    return selects_spot(pod) or (constraints.get("spot") is True and constraints.get("onDemand") is False)


def spot_pods(obs: Observations) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stuck, young) Pending pods that need spot."""
    templates = as_dicts(obs["node-templates"])
    pods = [p for p in obs["pending-pods"]["pods"] if needs_spot(p, templates)]
    return split_by_age(pods, obs.now)


def observe(obs: Observations) -> Observation:
    stuck, young = spot_pods(obs)
    if stuck:
        return Observation(True, f"Pending for 15 min or more and needing spot: {count(len(stuck), 'pod')}, {pod_names(stuck)}")
    if young:
        return Observation(False, f"Pending for less than 15 min (in progress) and needing spot: {count(len(young), 'pod')}, {pod_names(young)}")
    return Observation(False, "no Pending pod needs spot")


def judge_backups(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go NodetemplatesV1TemplateConstraints.UseSpotFallbacks
    # ("on-demand instances will be created, when spots are unavailable"); policies spotInstances.spotBackups where no template applies
    templates = as_dicts(obs["node-templates"])
    stuck, young = spot_pods(obs)
    pods = stuck or young
    if not pods:
        return _latent_templates(templates)
    off: list[tuple[dict[str, Any], str, dict[str, Any], str]] = []
    undecided: list[str] = []
    for pod in pods:
        template = pod_template(pod, templates)
        if template is not None:
            value, where, document, path = (as_dict(template.get("constraints")).get("useSpotFallbacks"),
                                            f"node template {as_str(template.get('name'))}", template, "constraints.useSpotFallbacks")
        else:
            policies = as_dict(obs["policies"])
            value, where, document, path = (as_dict(as_dict(policies.get("spotInstances")).get("spotBackups")).get("enabled"),
                                            "policies (no node template applies)", policies, "spotInstances.spotBackups.enabled")
        if value is False:
            off.append((pod, where, document, path))
        elif value is not True:
            undecided.append(f"{namespaced_name(pod)}: {where} does not say whether spot fallback is on")
    if off:
        pod, where, document, path = off[0]
        template = pod_template(pod, templates)
        return confirmed(
            f"spot fallback is off in the {where} of {pod_names([p for p, *_ in off])}: "
            "no on-demand node is created while spot is unavailable",
            table("Pending pods that need spot", ["POD", "PENDING FOR", "SETTINGS FROM"],
                  [[namespaced_name(p), waited(p, obs.now), w] for p, w, _, _ in off]),
            json_evidence(where, document, path),
            template=as_str((template or {}).get("name")) or None, pod_name=name_of(pod),
        )
    if undecided:
        return unknown("; ".join(undecided[:3]))
    return ruled_out("spot fallback is on where these pods' spot settings live; the causes of no-scale-up apply")


def _latent_templates(templates: list[dict[str, Any]]) -> Judgement:
    """No pod waits for spot: an enabled spot template without fallback is a risk, nothing more."""
    risky = [t for t in templates if t.get("isEnabled") is True and as_dict(t.get("constraints")).get("spot") is True
             and as_dict(t.get("constraints")).get("useSpotFallbacks") is False]
    if risky:
        names = ", ".join(as_str(t.get("name")) for t in risky)
        return latent(f"no Pending pod needs spot, but spot pods of template {names} would stay Pending when spot runs out "
                      "(fallback is off)", json_evidence(f"node template {as_str(risky[0].get('name'))}", risky[0],
                                                         "constraints.useSpotFallbacks"),
                      template=as_str(risky[0].get("name")))
    return ruled_out("no Pending pod needs spot")


def judge_diversity(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/resource_node_template.go (enable_spot_diversity, default false)
    return ruled_out("spot diversity is optional and off by default (CAST AI's default); it is not a fallback setting, "
                     "so it never keeps spot pods Pending")


def judge_price_limit(obs: Observations) -> Judgement:
    # castai/terraform-provider-castai@58fea27 castai/sdk/api.gen.go SpotDiversityPriceIncreaseLimitPercent
    return ruled_out("the price-increase limit only bounds spot diversity's choice of pricier types; "
                     "no CAST AI source sets a recommended range")


SYMPTOM = Symptom(
    id="spot-fallback",
    title="Spot instance fallback does not work",
    recognise="when spot capacity is gone, pods that need spot stay Pending instead of landing on fallback nodes",
    label="spot fallback",
    abbrev="spot",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("spot-backups-disabled", "Spot fallback to on-demand is off where these pods' spot settings live",
              judge_backups,
              FixTemplate(
                  title="Enable spot fallback on node template {template}",
                  explanation=("With useSpotFallbacks on, CAST AI creates on-demand nodes while spot is unavailable and "
                               "moves back to spot later (fallbackRestoreRateSeconds)."),
                  recheck=("spot-fallback", "no-scale-up"),
                  guidance=lambda values: (
                      f"Console → Autoscaler → Node templates → {values['template']} → enable spot fallback "
                      "(Terraform: castai_node_template constraints.use_spot_fallbacks = true)."
                      if values.get("template") else
                      "No node template applies: enable spotInstances.spotBackups in the policies "
                      "(console → Autoscaler → Settings)."),
              )),
        Cause("spot-diversity-disabled", "Spot diversity is off (not a fallback setting)", judge_diversity),
        Cause("spot-price-limit-out-of-range", "Spot diversity's price-increase limit (no recommended range)", judge_price_limit),
    ),
)
