"""`castui bundle`: every part a support engineer needs, readable, and what could not be read said so."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from castui import __version__, cli
from castui.bundle import LOG_MAX_BYTES, newest_bytes, parse_duration, since_filter
from castui.lab import start_lab
from castui.lab.scenarios import AGENT_KEY, CLUSTER_ID, SCENARIOS

from .conftest import bundle_files, helm_release_payload, make_bundle, raw_answer


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """One bundle of the demo lab (a cluster after a bad week), read file by file by the tests below."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        env.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        for name in ("CASTAI_API_KEY", "CASTAI_API_URL", "CASTAI_CLUSTER_ID", "KUBECONFIG"):
            env.delenv(name, raising=False)
        from castui.engine.execute import audit

        audit(kind="command", command="helm upgrade castai-agent", target=f"context castui-lab, cluster {CLUSTER_ID}", exit_code=1)
        audit(kind="command", command="kubectl delete ns prod", target="context elsewhere, cluster other", exit_code=0)
        with start_lab("demo") as lab:
            result = asyncio.run(make_bundle(lab, tmp_path_factory.mktemp("out") / "demo.tar.gz"))
    return result.path, bundle_files(result.path)


def test_the_manifest_says_what_where_when_and_what_was_collected(demo_bundle: tuple[Path, dict[str, bytes]]) -> None:
    _, files = demo_bundle
    manifest = json.loads(files["manifest.json"])
    diagnosis = json.loads(files["diagnosis.json"])

    assert manifest["format"] == "castui.bundle/v1" and manifest["castui_version"] == __version__
    assert manifest["captured_at"] == diagnosis["generated_at"]  # the time is the capture time
    assert (manifest["kube_context"], manifest["cluster_id"], manifest["region"]) == ("castui-lab", CLUSTER_ID, "eu-west-1")
    assert manifest["not_collected"] == []
    listed = {c["path"] for c in manifest["collected"]}
    assert listed == set(files) - {"manifest.json"}
    assert manifest["redactions"] and all(n > 0 for n in manifest["redactions"].values())


def test_helm_releases_show_chart_version_status_and_redacted_user_values(demo_bundle: tuple[Path, dict[str, bytes]]) -> None:
    releases = {r["name"]: r for r in json.loads(demo_bundle[1]["helm/releases.json"])}

    agent = releases["castai-agent"]
    assert (agent["chart"], agent["chart_version"], agent["status"]) == ("castai-agent", "0.150.0", "deployed")
    assert agent["values"] == {"apiKey": "[REDACTED]", "provider": "eks"}  # keys kept, the secret value gone
    assert releases["cluster-controller"]["values"]["castai"] == {"apiKey": "[REDACTED]", "clusterID": CLUSTER_ID}


def test_components_logs_events_nodes_and_pdbs_are_readable(demo_bundle: tuple[Path, dict[str, bytes]]) -> None:
    _, files = demo_bundle
    deployments = {d["name"]: d for d in json.loads(files["components/deployments.json"])}
    assert set(deployments) == {"castai-agent", "castai-cluster-controller", "castai-evictor", "castai-workload-autoscaler"}
    assert deployments["castai-agent"]["status"]["readyReplicas"] == 2
    assert json.loads(files["components/daemonsets.json"]) == []
    pods = {p["name"]: p for p in json.loads(files["components/pods.json"])}
    assert pods["castai-agent-7d9f8c6b5-x2k9p"]["ready"] == "2/2" and pods["castai-agent-7d9f8c6b5-x2k9p"]["phase"] == "Running"
    # every container of every pod in the namespace has its log
    assert {p.split("/")[1] for p in files if p.startswith("logs/")} == set(pods)
    assert b"delta upload finished" in files["logs/castai-agent-7d9f8c6b5-x2k9p/agent.log"]

    warnings = files["events/warnings.txt"].decode()
    assert warnings.startswith("LAST SEEN (UTC)") and "Evicted" in warnings and "shop/pod/web-66b8f5d7c9-00st" in warnings
    assert all(e["type"] == "Warning" for e in json.loads(files["events/warnings.json"]))

    node = json.loads(files["cluster/nodes.json"])[0]
    assert node["provider_id"].startswith("aws:///") and node["capacity"]["cpu"] == "4" and node["allocatable"]["cpu"]
    assert node["conditions"][0]["type"] == "Ready" and node["labels"]["topology.kubernetes.io/zone"] == "eu-west-1a"
    pdb = json.loads(files["cluster/pdbs.json"])[0]
    assert (pdb["namespace"], pdb["name"], pdb["status"]["disruptionsAllowed"]) == ("shop", "web", 0)


def test_castai_json_and_castuis_own_findings_are_included(demo_bundle: tuple[Path, dict[str, bytes]]) -> None:
    _, files = demo_bundle
    assert json.loads(files["castai/cluster.json"])["agentStatus"] == "online"
    assert json.loads(files["castai/policies.json"])["unschedulablePods"]["enabled"] is False
    assert json.loads(files["castai/node-templates.json"])[0]["name"] == "default-by-castai"
    assert json.loads(files["castai/workloads.json"])[0]["name"] == "web"
    diagnosis = json.loads(files["diagnosis.json"])
    found = {c["id"] for s in diagnosis["symptoms"] for c in s["causes"] if c["verdict"] == "confirmed"}
    assert found == SCENARIOS["demo"].confirms
    assert files["diagnosis.md"].startswith(b"# castui diagnosis")
    assert json.loads(files["status-page.json"])["description"] == "All Systems Operational"


def test_the_audit_log_of_this_cluster_only(demo_bundle: tuple[Path, dict[str, bytes]]) -> None:
    entries = [json.loads(line) for line in demo_bundle[1]["audit.jsonl"].splitlines()]
    assert [e["command"] for e in entries] == ["helm upgrade castai-agent"]


def test_raw_answers_keep_objects_as_the_api_returned_them_minus_secrets(demo_bundle: tuple[Path, dict[str, bytes]]) -> None:
    _, files = demo_bundle
    pods = raw_answer(files, "list", "pods", "castai-agent", None, None)["value"]
    assert {"metadata", "spec", "status"} <= set(pods[0])  # whole objects, for replay

    agent_secret = raw_answer(files, "get", "secrets", "castai-agent", "castai-agent")["value"]
    assert base64.b64decode(agent_secret["data"]["API_KEY"]) == b"[REDACTED]"

    releases = raw_answer(files, "list", "secrets", "castai-agent", "owner=helm", None)["value"]
    payloads = {s["metadata"]["name"]: helm_release_payload(s) for s in releases}
    agent = payloads["sh.helm.release.v1.castai-agent.v3"]
    assert agent["config"] == {"apiKey": "[REDACTED]", "provider": "eks"} and agent["chart"]["metadata"]["version"] == "0.150.0"
    assert AGENT_KEY.encode() not in files["raw/answers.json"]


def test_a_forbidden_part_is_recorded_and_the_rest_goes_on(tmp_path: Path) -> None:
    with start_lab("healthy") as lab:
        lab.cluster.state.kube_forbidden = {"lab-admin": {"events"}}
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz"))
    files = bundle_files(result.path)
    missing = {m.part: m for m in result.manifest.not_collected}

    assert set(missing) == {"events in castai-agent", "Warning events in all namespaces"}
    assert all(m.kind == "forbidden" and "403 Forbidden" in m.reason and "events" in m.reason for m in missing.values())
    assert not any(p.startswith("events/") for p in files)
    assert {"helm/releases.json", "components/pods.json", "cluster/nodes.json", "castai/policies.json"} <= set(files)
    # the failure itself is kept for replay
    error = raw_answer(files, "list", "events", "castai-agent", None, None)["error"]
    assert error["kind"] == "forbidden"


def test_without_an_api_key_the_castai_parts_say_why(tmp_path: Path) -> None:
    with start_lab("api-key-missing") as lab:
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz"))
    reasons = {m.part: m.reason for m in result.manifest.not_collected}
    assert "no CAST AI API key" in reasons["the autoscaler policies"]
    assert "helm/releases.json" in bundle_files(result.path)


def test_since_bounds_events(tmp_path: Path) -> None:
    with start_lab("eviction-storm") as lab:
        result = asyncio.run(make_bundle(lab, tmp_path / "b.tar.gz", since=timedelta(minutes=15)))
    events = json.loads(bundle_files(result.path)["events/warnings.json"])
    # the storm spreads 24 evictions over 50 minutes, one every 2 minutes from 2 minutes ago
    assert {e["involvedObject"]["name"] for e in events} == {f"web-66b8f5d7c9-{i:02d}st" for i in range(7)}
    assert result.manifest.since == "15m"


def test_logs_keep_their_newest_lines_since_the_cutoff() -> None:
    cutoff = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
    log = ('time="2024-01-01T11:00:00Z" level=info msg=old\n  old continuation\n'
           '2024-01-01T12:00:01Z new plain\n  new continuation\n{"ts":"2024-01-01T12:30:00Z","msg":"json"}\n')
    assert since_filter(log, cutoff) == '2024-01-01T12:00:01Z new plain\n  new continuation\n{"ts":"2024-01-01T12:30:00Z","msg":"json"}\n'
    big = "".join(f"line {i}\n" for i in range(200_000))
    tail = newest_bytes(big, LOG_MAX_BYTES)
    assert len(tail.encode()) <= LOG_MAX_BYTES and tail.endswith("line 199999\n") and tail.startswith("line ")


def test_castui_bundle_writes_an_owner_only_file_with_progress_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / "support.tar.gz"

    assert cli.main(["bundle", "--lab", "healthy", "--output", str(output), "--since", "2h"]) == 0

    out, err = capsys.readouterr()
    assert f"wrote {output}" in out and "redacted:" in out
    assert "castui bundle:" in err and "100% done" in err
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert not list(output.parent.glob("*.partial"))
    assert json.loads(bundle_files(output)["manifest.json"])["since"] == "2h"


def test_a_bad_since_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bundle", "--lab", "healthy", "--since", "yesterday"]) == cli.EXIT_USAGE
    assert "not a duration" in capsys.readouterr().err
    assert parse_duration("1h30m") == timedelta(minutes=90)


def test_redact_patterns_hide_what_the_user_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "b.tar.gz"
    assert cli.main(["bundle", "--lab", "healthy", "-o", str(output), "--redact", r"ip-10-0-1-\d+", "--redact", "lab-eks"]) == 0
    files = bundle_files(output)
    for name, data in files.items():
        assert b"ip-10-0-1-1" not in data and b"lab-eks" not in data, name
    manifest = json.loads(files["manifest.json"])
    assert manifest["cluster_name"] == "[REDACTED]" and manifest["redactions"]["custom"] > 0
    assert "custom" in capsys.readouterr().out


def test_an_output_directory_gets_a_named_bundle_and_an_unwritable_one_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bundle", "--lab", "healthy", "-o", str(tmp_path)]) == 0
    assert [p.name.startswith("castui-bundle-") and p.name.endswith(".tar.gz") for p in tmp_path.iterdir()] == [True]
    blocked = tmp_path / "file"
    blocked.write_text("")
    capsys.readouterr()
    assert cli.main(["bundle", "--lab", "healthy", "-o", str(blocked / "b.tar.gz")]) == cli.EXIT_USAGE
    assert f"castui: cannot write {blocked / 'b.tar.gz'}" in capsys.readouterr().err
