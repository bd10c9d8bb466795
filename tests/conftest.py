"""Fixtures every test shares: an isolated home for castui's config, state and audit log,
and no CAST AI credentials leaking in from the developer's shell."""

from __future__ import annotations

import pytest

CANARY_KEY = "canary-key-5f0c1e9a7b3d2468ace0"


@pytest.fixture(autouse=True)
def isolated_castui_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    for name in ("CASTAI_API_KEY", "CASTAI_API_URL", "CASTAI_CLUSTER_ID", "CASTUI_NAMESPACE", "NO_COLOR", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
