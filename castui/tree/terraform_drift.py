"""8. `terraform-drift`: the Terraform state and the live policies disagree.

Guide v2 §8. Observed (self-evident): a declared value differs from the live API. castui reads
the state natively (`terraform plan` needs the castai provider) and compares the way the provider
does: it merges the configuration onto the live policies (castai/terraform-provider-castai@58fea27
`castai/resource_autoscaler.go` `getChangedPolicies`), so only declared keys can drift, minus the
keys `filterVolatileFields` drops.
"""

from __future__ import annotations

from typing import Any

from castui.diagnosis import Evidence
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
from castui.tree.reader import Reader
from castui.tree.reading import as_dict, as_dicts


async def gather_state(facts: Reader) -> dict[str, Any] | None:
    if facts.settings.no_terraform:  # the user said so: nothing to read, nothing to compare
        return {"skipped": "--no-terraform"}
    return await facts.terraform_state()


async def gather_policies(facts: Reader) -> dict[str, Any]:
    return (await facts.policies_with_raw())[1]


async def gather_templates(facts: Reader) -> list[dict[str, Any]] | None:
    """The live node templates, read only when the state declares some (None: nothing to compare)."""
    state = None if facts.settings.no_terraform else await facts.terraform_state()
    if not state or not state.get("node_templates"):
        return None
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in await facts.node_templates()]


def summarise_state(state: dict[str, Any] | None) -> str:
    if state is None:
        return "no terraform.tfstate in the Terraform directory (--terraform-dir)"
    if state.get("skipped"):
        return f"not read: {state['skipped']}"
    resources = state.get("castai_resources")
    if resources is None:  # a bundle recorded before v2: the castai_autoscaler only
        return f"{state.get('address')}: declared policies"
    return f"{len(resources)} CAST AI resources" if resources else "no CAST AI resources in the state"


CHECKS = (
    Check("terraform-state", "CAST AI resources in the Terraform state (--terraform-dir)", gather_state, summarise_state),
    Check("policies", "Autoscaler policies from the API", gather_policies,
          lambda p: "policies " + ("enabled" if p.get("enabled") else "disabled")),
    Check("node-templates", "Node templates from the API (when Terraform declares some)", gather_templates,
          lambda ts: "not needed" if ts is None else f"{len(ts)} templates"),
)


def castai_resources(state: dict[str, Any]) -> list[str]:
    resources = state.get("castai_resources")
    if resources is None:  # recorded before v2: a castai_autoscaler declaration, or nothing
        return [state["address"]] if state.get("address") else []
    return [str(r) for r in resources]


def differences(obs: Observations) -> tuple[list[tuple[str, Any, Any]], list[tuple[str, Any, Any]]]:
    """(drifted fields, fields that differ only because of the policy↔template sync), as (path, declared, live)."""
    from castui.clients.terraform import TEMPLATE_SYNCED, drift, is_template_synced

    state = obs["terraform-state"]
    found: list[tuple[str, Any, Any]] = []
    if state.get("declared"):
        found += drift(as_dict(state["declared"]), obs["policies"], keep=TEMPLATE_SYNCED)
    declared_templates = as_dicts(state.get("node_templates"))
    if declared_templates:
        live = {t.get("name"): t for t in as_dicts(obs["node-templates"])}
        for template in declared_templates:
            name = template.get("name")
            if name not in live:
                found.append((f"nodeTemplates.{name}", "declared", "absent"))
                continue
            # the API omits zero values that the state spells out: those are not comparable, not drift
            found += [f for f in drift(as_dict(template.get("declared")), live[name], f"nodeTemplates.{name}.")
                      if not (f[2] is None and f[1] in (0, False, ""))]
    synced = [f for f in found if is_template_synced(f[0])]
    return [f for f in found if f not in synced], synced


NOT_APPLICABLE = "not applicable: you said no Terraform manages CAST AI here (--no-terraform)"
NO_STATE_HINT = ("run castui in the Terraform directory or pass --terraform-dir; if no Terraform manages CAST AI "
                 "on this cluster, pass --no-terraform (or set no_terraform = true in the config file)")


def observe(obs: Observations) -> Observation:
    if obs.settings.no_terraform:
        return Observation(False, NOT_APPLICABLE)
    state = obs["terraform-state"]
    if state is None:
        return Observation(None, "no Terraform state was found, so nothing was compared")
    if not castai_resources(state):
        return Observation(False, "the Terraform state manages no CAST AI resources")
    drifted, synced = differences(obs)
    if drifted:
        return Observation(True, f"{len(drifted)} declared fields differ from the live API")
    return Observation(False, "the live API matches what Terraform declares"
                       + (" (but for fields the provider syncs with the default node template)" if synced else ""))


def judge_drift(obs: Observations) -> Judgement:
    if obs.settings.no_terraform:
        # the user's word, not castui's inference: a run without it still says "could not check"
        return ruled_out(NOT_APPLICABLE)
    state = obs["terraform-state"]
    if state is None:
        # issue 15 item 8: no state looked at is not a clean bill of health
        return unknown("no terraform.tfstate was found in the Terraform directory, so nothing was compared: "
                       + NO_STATE_HINT)
    resources = castai_resources(state)
    if not resources:
        # guide v2 §8: no CAST AI resources in state
        return ruled_out(f"{state.get('state_file') or 'the Terraform state'} manages no CAST AI resources")
    drifted, synced = differences(obs)
    if drifted:
        # guide v2 §8: the declared (not volatile) fields that differ from GET /policies and /node-templates
        rows = [["FIELD", "TERRAFORM", "LIVE"], *([path, repr(want), repr(have)] for path, want, have in drifted)]
        return confirmed(
            "the live API differs from what Terraform declares: " + ", ".join(path for path, _, _ in drifted),
            Evidence(kind="table", title=f"{', '.join(resources[:3])} vs the live API", data=rows),
        )
    if synced:
        # TFP PR #577: fields synced between the legacy policies and the default template churn in plans
        return ruled_out("only fields CAST AI syncs between the policies and the default node template differ ("
                         + ", ".join(path for path, _, _ in synced) + "): a provider artefact; upgrade the castai provider")
    return ruled_out(f"the live API matches what {', '.join(resources[:3])} declare")


SYMPTOM = Symptom(
    id="terraform-drift",
    title="Terraform state and the live policies disagree",
    recognise="`terraform plan` wants to change castai_autoscaler, or console edits keep being reverted",
    label="Terraform drift",
    abbrev="tf",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("terraform-drift-detected", "Terraform and the live API disagree", judge_drift,
              FixTemplate(
                  title="Pick one source of truth",
                  explanation="Either `terraform apply` to restore the declared values, or copy the live values into the "
                  "Terraform configuration. `terraform apply -refresh-only` leaves the difference: the provider "
                  "merges the configuration onto the live policies at plan time.",
                  # read-only evidence: exit code 2 means Terraform would change something
                  commands=(("terraform", "-chdir={terraform_dir}", "plan", "-detailed-exitcode"),),
                  mutates=False,
                  recheck=("terraform-drift",),
              )),
    ),
)
