"""Helm v3 releases decoded from their storage Secrets, as Helm writes them and as the
Kubernetes API returns them."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from castui.clients.errors import MalformedResponse
from castui.clients.helm import (
    decode_release_secret,
    encode_release_secret,
    latest_releases,
)
from castui.clients.kube import KubeGateway
from castui.lab.server import LabServer

from .lab_data import NS


def agent_release(version: str = "0.153.2", config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "info": {
            "first_deployed": "2024-05-01T10:00:00.123456789Z",
            "last_deployed": "2024-06-01T08:30:00.5+02:00",
            "deleted": "",
            "Description": "Upgrade complete",
            "status": "ignored: the status argument wins",
        },
        "chart": {
            "metadata": {"name": "castai-agent", "version": version, "appVersion": "v0.123.1"},
            "values": {
                "apiURL": "https://api.cast.ai",
                "provider": "",
                "clusterVPA": {"enabled": True, "resources": {"cpu": "100m"}},
                "metadataStore": {"enabled": True},
            },
        },
        "config": config
        if config is not None
        else {"provider": "eks", "clusterVPA": {"resources": {"cpu": "200m"}}, "metadataStore": None},
        "manifest": "---\n# Source: castai-agent/templates/deployment.yaml\n",
    }


def test_a_release_survives_the_round_trip_through_its_secret() -> None:
    secret = encode_release_secret(agent_release(), namespace=NS, name="castai-agent", revision=3, status="deployed")
    release = decode_release_secret(secret)
    assert (release.name, release.namespace, release.revision, release.status) == ("castai-agent", NS, 3, "deployed")
    assert (release.chart, release.chart_version, release.app_version) == ("castai-agent", "0.153.2", "v0.123.1")
    assert release.first_deployed == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert release.last_deployed is not None and release.last_deployed.utcoffset() is not None
    assert release.description == "Upgrade complete"
    assert release.config["provider"] == "eks"


def test_values_are_the_chart_defaults_with_the_user_overrides_merged_in() -> None:
    secret = encode_release_secret(agent_release(), namespace=NS, name="castai-agent", revision=1, status="deployed")
    values = decode_release_secret(secret).values
    assert values["provider"] == "eks"  # overridden
    assert values["apiURL"] == "https://api.cast.ai"  # default kept
    assert values["clusterVPA"] == {"enabled": True, "resources": {"cpu": "200m"}}  # merged deeply
    assert "metadataStore" not in values  # null deletes, as in Helm


def test_the_secret_is_shaped_as_helm_stores_it() -> None:
    secret = encode_release_secret(agent_release(), namespace=NS, name="castai-agent", revision=2, status="superseded")
    meta = secret["metadata"]
    assert secret["type"] == "helm.sh/release.v1"
    assert meta["name"] == "sh.helm.release.v1.castai-agent.v2"
    assert {k: meta["labels"][k] for k in ("owner", "name", "status", "version")} == {
        "owner": "helm", "name": "castai-agent", "status": "superseded", "version": "2",
    }  # fmt: skip
    helm_payload = base64.b64decode(secret["data"]["release"])  # the API's base64 off: Helm's own remains
    assert base64.b64decode(helm_payload)[:3] == b"\x1f\x8b\x08"


def test_a_payload_helm_did_not_gzip_is_read_as_is() -> None:
    raw = json.dumps(
        {
            "name": "castai-evictor",
            "namespace": NS,
            "version": 1,
            "info": {"status": "failed"},
            "chart": {},
            "config": {},
        }
    )
    secret = {
        "metadata": {"name": "sh.helm.release.v1.castai-evictor.v1", "namespace": NS},
        "type": "helm.sh/release.v1",
        "data": {"release": base64.b64encode(base64.b64encode(raw.encode())).decode()},
    }
    release = decode_release_secret(secret)
    assert (release.name, release.status, release.chart) == ("castai-evictor", "failed", None)


@pytest.mark.parametrize(
    "payload",
    [
        "not base64 at all!",
        base64.b64encode(b"also not base64!").decode(),
        base64.b64encode(base64.b64encode(b"\x1f\x8b\x08 broken gzip")).decode(),
        base64.b64encode(base64.b64encode(b'{"truncated": ')).decode(),
        base64.b64encode(base64.b64encode(b'{"no": "name"}')).decode(),
    ],
)
def test_a_corrupt_payload_is_a_malformed_response(payload: str) -> None:
    secret = {
        "metadata": {"name": "sh.helm.release.v1.x.v1", "namespace": NS},
        "type": "helm.sh/release.v1",
        "data": {"release": payload},
    }
    with pytest.raises(MalformedResponse, match=f"Helm release Secret {NS}/sh.helm.release.v1.x.v1"):
        decode_release_secret(secret)


def test_only_the_newest_revision_of_each_release_is_kept_and_decoded() -> None:
    corrupt_old = encode_release_secret(
        agent_release("0.150.0"), namespace=NS, name="castai-agent", revision=1, status="superseded"
    )
    corrupt_old["data"]["release"] = "garbage"  # never decoded: a newer revision exists
    secrets = [
        encode_release_secret(
            agent_release("0.153.2"), namespace=NS, name="castai-agent", revision=10, status="deployed"
        ),
        corrupt_old,
        encode_release_secret(
            agent_release("0.152.0"), namespace=NS, name="castai-agent", revision=9, status="superseded"
        ),
        encode_release_secret(agent_release(), namespace=NS, name="castai-evictor", revision=1, status="failed"),
        {"metadata": {"name": "castai-agent", "namespace": NS}, "type": "Opaque", "data": {"API_KEY": "eA=="}},
    ]
    releases = latest_releases(secrets)
    assert [(r.name, r.revision, r.chart_version) for r in releases] == [
        ("castai-agent", 10, "0.153.2"),
        ("castai-evictor", 1, "0.153.2"),
    ]


def test_releases_read_from_the_lab_through_the_kubernetes_api(lab: LabServer, kubeconfig: Path) -> None:
    lab.state.objects["secrets"] = [
        encode_release_secret(
            agent_release("0.152.0"), namespace=NS, name="castai-agent", revision=1, status="superseded"
        ),
        encode_release_secret(
            agent_release("0.153.2"), namespace=NS, name="castai-agent", revision=2, status="deployed"
        ),
        encode_release_secret(
            agent_release(), namespace=NS, name="cluster-controller", revision=4, status="pending-upgrade"
        ),
    ]
    with KubeGateway(str(kubeconfig)) as gateway:
        secrets = gateway.list("secrets", NS, label_selector="owner=helm")
    releases = {r.name: r for r in latest_releases(secrets)}
    assert releases["castai-agent"].chart_version == "0.153.2"
    assert releases["castai-agent"].values["provider"] == "eks"
    assert releases["cluster-controller"].status == "pending-upgrade"
