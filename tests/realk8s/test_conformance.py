"""The lab tells the truth: every scenario, loaded as real objects into a real
kube-apiserver (Kubernetes 1.20.2), gets the same verdicts as the lab gives it.

One server serves the whole module; each scenario's objects are loaded, diagnosed
and deleted again (loading ~70-100 objects with their statuses takes ~0.3 s,
deleting ~0.2 s; a fresh apiserver per scenario would cost ~5 s each). The CAST AI
API, Helm repository and status page stay with the lab; only the Kubernetes side
moves to the real server, and pod logs come through a kubelet stand-in.

Exceptions where 1.20 lacks an API: there are none left to excuse. 1.20 has no
policy/v1, so PodDisruptionBudgets live in policy/v1beta1 there; castui falls back
to it on the 404 and the PDB scenarios judge the same (checked below).
"""

from __future__ import annotations

import pytest

from castui.diagnosis import CauseVerdict, CheckStatus, Diagnosis
from castui.lab import RunningLab
from castui.lab.scenarios import SCENARIOS
from castui.report.redact import Redactor
from castui.report.text import render_text
from castui.tree.agent_checks import LOG_TAIL
from tests.core.helpers import confirmed_ids, diagnose
from tests.realk8s.conftest import CONTEXT, RealCluster

pytestmark = pytest.mark.realk8s


def outcome(diagnosis: Diagnosis) -> dict[str, object]:
    """Everything a verdict is made of: each symptom's verdict, each cause's, each check's status."""
    table: dict[str, object] = {}
    for s in diagnosis.symptoms:
        table[s.id] = s.verdict
        table.update({f"{s.id}/cause/{c.id}": c.verdict for c in s.causes})
        table.update({f"{s.id}/check/{c.id}": (c.status, c.reason) for c in s.checks})
    return table


def via_real_server(cluster: RealCluster, lab: RunningLab, *, restricted: bool = False) -> Diagnosis:
    kubeconfig = cluster.restricted_kubeconfig if restricted else cluster.admin_kubeconfig
    context = CONTEXT
    if lab.cluster.context != "castui-lab":
        # the scenario names its context as a cloud CLI would (an EKS ARN): so does the real server's kubeconfig
        context = lab.cluster.context
        kubeconfig = cluster.server.write_kubeconfig(lab.workdir / "real-kubeconfig", context_name=context, verify_tls=True,
                                                     **({"user": "restricted"} if restricted else {}))
    scenario = SCENARIOS[lab.scenario]
    return diagnose(lab, scenario.named or None, kubeconfig=str(kubeconfig), context=context, nodes=list(scenario.nodes))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_real_apiserver_gives_the_labs_verdicts(real_cluster: RealCluster, name: str) -> None:
    scenario = SCENARIOS[name]
    with real_cluster.scenario(name) as lab:
        on_the_lab = diagnose(lab, scenario.named or None, nodes=list(scenario.nodes))
        on_a_real_server = via_real_server(real_cluster, lab)
    assert on_a_real_server.target.context in (CONTEXT, lab.cluster.context)
    assert outcome(on_a_real_server) == outcome(on_the_lab)
    assert confirmed_ids(on_a_real_server) == set(scenario.confirms)


def test_the_leader_is_found_through_its_lease_on_a_real_apiserver(real_cluster: RealCluster) -> None:
    """Lease agent-leader-election-lock names the leader by the UUID it logs as own_identity
    (castai/k8s-agent internal/services/replicas/leaderelection.go)."""
    with real_cluster.scenario("heartbeat-failing") as lab:
        diagnosis = via_real_server(real_cluster, lab)
    symptom = next(s for s in diagnosis.symptoms if s.id == "agent-disconnected")
    logs_check = next(c for c in symptom.checks if c.id == "agent-logs")
    assert logs_check.summary and "leader castai-agent-7d9f8c6b5-x2k9p" in logs_check.summary
    heartbeat = next(c for c in symptom.causes if c.id == "heartbeat-failing")
    assert heartbeat.verdict is CauseVerdict.CONFIRMED and "(leader)" in heartbeat.evidence[0].title


def test_pod_disruption_budgets_come_from_policy_v1beta1_on_kubernetes_1_20(real_cluster: RealCluster) -> None:
    with real_cluster.scenario("pdb-blocking-eviction") as lab:
        diagnosis = via_real_server(real_cluster, lab)
    pdb = next(c for s in diagnosis.symptoms if s.id == "no-scale-down" for c in s.causes if c.id == "pdb-blocking-eviction")
    assert pdb.verdict is CauseVerdict.CONFIRMED
    assert pdb.reason.startswith("PodDisruptionBudget shop/web ")
    real_cluster.server.api("GET", "/apis/policy/v1/poddisruptionbudgets", expect=(404,))  # what castui fell back from
    real_cluster.server.api("GET", "/apis/policy/v1beta1/poddisruptionbudgets", expect=(200,))


def test_agent_logs_reach_castui_through_the_apiserver_and_the_kubelet(real_cluster: RealCluster) -> None:
    """The crash's reason is in the previous container's log: the apiserver asks the kubelet for it."""
    real_cluster.kubelet.requests.clear()
    with real_cluster.scenario("invalid-api-key") as lab:
        diagnosis = via_real_server(real_cluster, lab)
    key = next(c for s in diagnosis.symptoms if s.id == "agent-crashloop" for c in s.causes if c.id == "invalid-api-key")
    assert key.verdict is CauseVerdict.CONFIRMED
    assert "status_code=401" in key.reason
    asked = [(path, query) for path, query in real_cluster.kubelet.requests if path.startswith("/containerLogs/castai-agent/castai-agent-")]
    assert any(query.get("previous") == ["true"] for _, query in asked)
    assert all(query.get("tailLines") == [str(LOG_TAIL)] for _, query in asked)


@pytest.mark.parametrize("name", ["healthy", "demo"])
def test_with_partial_rights_castui_says_what_it_could_not_check_and_finishes_the_rest(
    real_cluster: RealCluster, name: str
) -> None:
    """User `restricted` may read everything castui reads except Secrets, and Events only in castai-agent."""
    with real_cluster.scenario(name) as lab:
        as_admin = via_real_server(real_cluster, lab)
        as_restricted = via_real_server(real_cluster, lab, restricted=True)

    admin_checks = {(s.id, c.id): c for s in as_admin.symptoms for c in s.checks}
    forbidden = {}
    for s in as_restricted.symptoms:
        for check in s.checks:
            if check.status is CheckStatus.FAILED:
                forbidden[(s.id, check.id)] = check.reason or ""
            elif "could not be read" in (check.summary or ""):  # degraded: the part it may not read is named
                assert "403 Forbidden" in check.summary and 'User "restricted" cannot' in check.summary
            else:  # the rest complete, exactly as for an administrator
                assert (check.status, check.summary) == (admin_checks[(s.id, check.id)].status, admin_checks[(s.id, check.id)].summary)
    assert {("helm-mismatch", "helm-releases"), ("agent-crashloop", "agent-key")} <= set(forbidden)
    assert ("evictor-aggressive", "evictions") in forbidden  # Evicted events are listed cluster-wide
    for reason in forbidden.values():
        assert "403 Forbidden" in reason and 'User "restricted" cannot' in reason, reason
        assert ("secrets" in reason) or ("events" in reason and "at the cluster scope" in reason), reason

    admin_causes = {(s.id, c.id): c for s in as_admin.symptoms for c in s.causes}
    for s in as_restricted.symptoms:
        for cause in s.causes:
            if cause.verdict is not admin_causes[(s.id, cause.id)].verdict:
                assert cause.verdict is CauseVerdict.UNKNOWN
                assert cause.reason.startswith("could not check: ") and "403 Forbidden" in cause.reason
    assert as_restricted.exit_code in (1, 3)

    text = render_text(as_restricted, Redactor())
    assert "? could not check helm-releases: list secrets in castai-agent: 403 Forbidden" in text
    assert "Traceback" not in text
