"""The newest chart versions from a Helm repository's index.yaml, served by the lab."""

from __future__ import annotations

import pytest

from castui.clients.errors import MalformedResponse, NotFound
from castui.clients.helmrepo import fetch_index, is_older
from castui.clients.http import create_client
from castui.lab.server import LabServer
from castui.lab.state import Fault


def entry(name: str, version: str) -> dict[str, str]:
    return {
        "apiVersion": "v2",
        "name": name,
        "version": version,
        "appVersion": f"v{version}",
        "created": "2024-06-01T00:00:00Z",
    }


async def test_the_newest_release_of_each_chart_ignoring_order_and_prereleases(lab: LabServer) -> None:
    lab.state.helm_index = {
        "apiVersion": "v1",
        "entries": {
            # deliberately out of order: 0.161.10 is newest although listed after 0.161.9
            "castai-agent": [entry("castai-agent", v) for v in ("0.162.0-rc.1", "0.161.9", "0.161.10", "0.99.0")],
            "castai-evictor": [entry("castai-evictor", "0.35.143")],
            "castai-experimental": [entry("castai-experimental", "1.0.0-alpha")],
        },
        "generated": "2024-06-01T00:00:00Z",
    }
    async with create_client(5.0) as client:
        newest = await fetch_index(client, f"{lab.url}/helm-charts/")
    assert newest == {"castai-agent": "0.161.10", "castai-evictor": "0.35.143"}


async def test_a_missing_index_is_not_found(lab: LabServer) -> None:
    async with create_client(5.0) as client:
        with pytest.raises(NotFound, match="read the Helm repository index at .*/helm-charts/index.yaml: 404"):
            await fetch_index(client, f"{lab.url}/helm-charts")


async def test_an_index_that_is_not_yaml_is_malformed(lab: LabServer) -> None:
    lab.state.helm_index = {"apiVersion": "v1", "entries": {}}
    lab.state.faults.append(Fault(kind="invalid-json", path="index.yaml"))
    async with create_client(5.0) as client:
        with pytest.raises(MalformedResponse, match="invalid YAML"):
            await fetch_index(client, f"{lab.url}/helm-charts")


@pytest.mark.parametrize(
    ("a", "b", "older"),
    [
        ("0.9.0", "0.10.0", True),
        ("0.161.1", "0.161.1", False),
        ("v1.2.3", "1.2.3", False),
        ("1.2", "1.2.1", True),
        ("1.0.0-rc.1", "1.0.0", True),
        ("1.0.0", "1.0.0-rc.1", False),
        ("1.0.0-rc.2", "1.0.0-rc.10", True),
        ("1.0.0+build.5", "1.0.0", False),
        ("latest", "1.0.0", False),
        ("1.0.0", "", False),
    ],
)
def test_is_older(a: str, b: str, older: bool) -> None:
    assert is_older(a, b) is older
