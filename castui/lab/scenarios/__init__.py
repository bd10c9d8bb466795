"""Named lab scenarios: a healthy CAST AI cluster, and one fault (or a few) on top.

Each scenario says which cause ids it confirms and which it leaves latent; the tests
hold castui to exactly those lists. Faults cascade as they would on a real cluster (a
crash-looping agent is also "not running"), and the lists say so. Traps are healthy
clusters that look suspicious: they must confirm nothing.

One module per group of symptoms (agent, scale_up, scale_down, components); `base`
holds the healthy cluster every scenario starts from.
"""

from __future__ import annotations

from datetime import UTC, datetime

from castui.lab.scenarios import agent, components, scale_down, scale_up  # noqa: F401 - registers their scenarios
from castui.lab.scenarios.agent import *
from castui.lab.scenarios.base import *
from castui.lab.scenarios.base import (
    SCENARIOS,
    LabCluster,
    build_healthy,
    scenario,
    tfstate,
)
from castui.lab.scenarios.components import *
from castui.lab.scenarios.scale_down import *
from castui.lab.scenarios.scale_down import demo_faults
from castui.lab.scenarios.scale_up import *


@scenario("demo", "several problems at once: a cluster after a bad week",
          "unschedulable-pods-disabled", "pdb-blocking-eviction", "evictor-aggressive-mode", "eviction-storm",
          "cluster-controller-drains", "evictor-cycle-short", "chart-outdated", "missing-annotation")
def _demo(lab: LabCluster) -> None:
    for name in ("unschedulable-pods-disabled", "chart-outdated", "agent-chart-behind", "missing-annotation"):
        SCENARIOS[name].apply(lab)
    demo_faults(lab)  # symptoms 5 and 7: a cordoned node a PDB holds, a storm of drains, an aggressive Evictor


def build(name: str, now: datetime | None = None) -> LabCluster:
    try:
        chosen = SCENARIOS[name]
    except KeyError:
        from castui.clients.errors import ConfigurationError

        raise ConfigurationError(f"unknown lab scenario {name!r}; `castui lab list` shows them") from None
    lab = build_healthy(now or datetime.now(UTC).replace(microsecond=0))
    chosen.apply(lab)
    if lab.tfstate is None:
        lab.tfstate = tfstate(lab.policies)  # Terraform applied what is live, unless the scenario drifted
    from castui.lab.reactions import install

    install(lab)
    return lab
