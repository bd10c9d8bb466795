"""The cluster id, found every way real installs leave it (guide v2, conventions)."""

from __future__ import annotations

import pytest

from castui.clients.castai_models import Cluster
from castui.engine.facts import _cluster_names, cloud_cluster_name
from castui.lab import start_lab
from tests.core.helpers import diagnose


@pytest.mark.parametrize(("kube_name", "cloud_name"), [
    ("arn:aws:eks:eu-west-1:123456789012:cluster/prod-apps", "prod-apps"),  # aws eks update-kubeconfig
    ("arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/gov", "gov"),
    ("gke_my-project_europe-west1-b_prod-1", "prod-1"),  # gcloud container clusters get-credentials
    ("prod-aks", "prod-aks"),  # az aks get-credentials
])
def test_cloud_cli_names_give_the_clusters_name(kube_name: str, cloud_name: str) -> None:
    assert cloud_cluster_name(kube_name) == cloud_name


def test_v1_mistake_the_apis_provider_blocks_are_read_without_crashing() -> None:
    """v1 read `.cluster_name` off the API's `eks` dict: AttributeError on every API check."""
    cluster = Cluster.model_validate({"id": "x", "name": "console-name", "eks": {"clusterName": "lab-eks", "accountId": "1"}})
    assert _cluster_names(cluster) == {"console-name", "lab-eks"}


def test_without_a_configmap_the_id_comes_from_the_arn_context_and_every_api_check_runs() -> None:
    with start_lab("trap-cluster-id-from-arn") as lab:
        diagnosis = diagnose(lab)
    assert diagnosis.target.cluster_id == "6f1c2a9e-3b7d-4c1a-9e2f-5a8b7c6d4e3f"
    assert [(s.id, c.id, c.reason) for s in diagnosis.symptoms for c in s.checks if c.reason and "cluster id" in c.reason] == []


def test_two_clusters_of_the_same_name_are_reported_as_ambiguous_not_guessed() -> None:
    with start_lab("trap-cluster-id-from-arn") as lab:
        twin = dict(lab.cluster.cluster)
        twin["id"] = "0b8e5c1a-0000-4000-8000-000000000002"
        lab.cluster.state.castai.clusters.append(twin)
        diagnosis = diagnose(lab, ["no-scale-up"])
    reasons = [c.reason or "" for s in diagnosis.symptoms for c in s.checks if c.reason]
    assert any("2 clusters in the API are named" in r and "0b8e5c1a-" in r for r in reasons), reasons
    assert diagnosis.exit_code == 3
