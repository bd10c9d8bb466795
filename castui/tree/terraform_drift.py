"""8. `terraform-drift`: the Terraform state and the live policies disagree."""

from __future__ import annotations

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
from castui.tree.no_scale_up import POLICIES
from castui.tree.reading import Evidence


async def gather_state(facts: Facts) -> dict[str, Any] | None:
    return await facts.terraform_state()


CHECKS = (
    Check("terraform-state", "castai_autoscaler in the Terraform state (--terraform-dir)", gather_state,
          lambda s: f"{s['address']}: {len(s['declared'])} declared sections" if s else "no CAST AI Terraform state"),
    POLICIES,
)


def changes(obs: Observations) -> list[tuple[str, Any, Any]]:
    from castui.clients.terraform import drift

    state = obs["terraform-state"]
    return drift(state["declared"], obs["policies"]) if state else []


def observe(obs: Observations) -> Observation:
    state = obs["terraform-state"]
    if state is None:
        return Observation(False, "no Terraform state for CAST AI in the Terraform directory")
    found = changes(obs)
    return Observation(bool(found), f"{len(found)} declared fields differ from the live policies")


def judge_drift(obs: Observations) -> Judgement:
    state = obs["terraform-state"]
    if state is None:
        return ruled_out("not applicable: the Terraform directory has no state for castai_autoscaler")
    found = changes(obs)
    if not found:
        return ruled_out(f"the live policies match what {state['address']} declares")
    rows = [["FIELD", "TERRAFORM", "LIVE"], *([path, repr(want), repr(have)] for path, want, have in found)]
    return confirmed(
        "the live policies differ from Terraform: " + ", ".join(path for path, _, _ in found),
        Evidence(kind="table", title=f"{state['address']} vs live policies", data=rows),
    )


SYMPTOM = Symptom(
    id="terraform-drift",
    title="Terraform state and the live policies disagree",
    recognise="`terraform plan` wants to change castai_autoscaler, or console edits keep being reverted",
    checks=CHECKS,
    observe=observe,
    causes=(
        Cause("terraform-drift-detected", "Terraform and the console disagree", judge_drift,
              FixTemplate(
                  title="Pick one source of truth, then refresh or apply",
                  explanation="Apply Terraform to put its values back, or copy the console's values into Terraform and refresh. "
                  "Do not mix console and Terraform changes.",
                  commands=(("terraform", "-chdir={terraform_dir}", "apply", "-refresh-only"),),
                  recheck=("terraform-drift",),
              )),
    ),
)
