"""A fleet of three lab clusters (three scenarios) behind one kubeconfig and one CAST AI API,
plus members that cannot be read: a context on a closed port and a server that never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.lab.fleet import RunningFleet, start_fleet, write_fleet_kubeconfig
from castui.lab.server import LabServer
from castui.lab.state import Fault, LabState

SCENARIOS = ("healthy", "demo", "invalid-api-key")
GONE = "lab-gone"
HUNG = "lab-hung"


@pytest.fixture(autouse=True)
def quiet_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, suppressions or audit log leak into the runs."""
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    for var in ("KUBECONFIG", "CASTAI_API_KEY", "CASTAI_API_URL", "CASTAI_CLUSTER_ID", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def fleet() -> Iterator[RunningFleet]:
    with start_fleet(SCENARIOS) as running:
        yield running


@pytest.fixture
def fleet_env(fleet: RunningFleet, monkeypatch: pytest.MonkeyPatch) -> RunningFleet:
    for key, value in fleet.environment().items():
        monkeypatch.setenv(key, value)
    return fleet


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hung_server() -> Iterator[LabServer]:
    """Accepts connections and never answers (until it stops)."""
    state = LabState()
    state.faults.append(Fault("hang"))
    with LabServer(state) as server:
        yield server


@pytest.fixture
def broken_kubeconfig(fleet: RunningFleet, hung_server: LabServer, tmp_path: Path) -> Path:
    """The fleet's contexts, then one on a closed port and one on a server that hangs."""
    members = [(lab.context, lab.server.https_url) for lab in fleet.labs]
    members += [(GONE, f"https://127.0.0.1:{closed_port()}"), (HUNG, hung_server.https_url)]
    return write_fleet_kubeconfig(tmp_path / "kubeconfig", members)
