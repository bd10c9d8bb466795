"""Bundles of a real kube-apiserver (Kubernetes 1.20: list items without `kind`, PDBs only in
policy/v1beta1, logs through a kubelet, real RBAC) replay to the same verdicts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from castui.replay import start_replay
from castui.support import open_session
from tests.realk8s.conftest import CONTEXT, RealCluster, real_cluster  # noqa: F401 - the session fixture

from .conftest import make_bundle, settings_for, verdicts

pytestmark = pytest.mark.realk8s


async def replayed(path: Path):  # type: ignore[no-untyped-def]
    with start_replay(path) as replay:
        async with open_session(settings_for(replay), replay) as session:
            return await session.diagnose()


@pytest.mark.parametrize("name, restricted", [("pdb-blocking-eviction", False), ("invalid-api-key", False), ("demo", True)])
def test_a_bundle_of_a_real_cluster_replays_to_its_verdicts(real_cluster: RealCluster, tmp_path: Path,  # noqa: F811
                                                           name: str, restricted: bool) -> None:
    kubeconfig = real_cluster.restricted_kubeconfig if restricted else real_cluster.admin_kubeconfig
    with real_cluster.scenario(name) as lab:
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz", kubeconfig=str(kubeconfig), context=CONTEXT))

    assert verdicts(asyncio.run(replayed(result.path))) == verdicts(result.diagnosis)
    missing = {m.part: m for m in result.manifest.not_collected}
    if restricted:  # no Secrets, Events only in castai-agent: said, and the rest collected
        assert missing["Helm releases"].kind == "forbidden" and 'User "restricted"' in missing["Helm releases"].reason
        assert missing["Warning events in all namespaces"].kind == "forbidden"
        assert "events in castai-agent" not in missing
    else:
        assert not [m for m in missing.values() if m.kind != "not-found"]
