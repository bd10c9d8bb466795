"""Fixtures: the clients' lab served over real HTTP, a kubeconfig for it, and a closed port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from castui.lab.server import LabServer

from .lab_data import ADMIN_TOKEN, make_state


@pytest.fixture
def lab() -> Iterator[LabServer]:
    with LabServer(make_state()) as server:
        yield server


@pytest.fixture
def kubeconfig(lab: LabServer, tmp_path: Path) -> Path:
    return lab.write_kubeconfig(tmp_path / "kubeconfig", token=ADMIN_TOKEN)


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
