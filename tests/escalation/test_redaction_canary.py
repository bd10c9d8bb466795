"""No secret leaves in a bundle or a report: canaries planted across the lab (the configured API key,
the kubeconfig's bearer token, Secret values, a password in a URL, an X-API-Key header, a bearer token,
a key-shaped string) must appear nowhere, in no encoding, while the findings stay the same."""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import tarfile
from datetime import timedelta
from pathlib import Path

from castui.bundle import collect_bundle
from castui.clients.helm import encode_release_secret
from castui.clients.kubeconfig import kubeconfig_users
from castui.lab import objects as k8s
from castui.lab import start_lab
from castui.lab.scenarios import NS, LabCluster, build, log_line
from castui.replay import start_replay
from castui.report.redact import Redactor, kubeconfig_credentials
from castui.support import build_report, open_session

from .conftest import confirmed, helm_release_payload, settings_for, verdicts

USER_KEY = "canary-user-key-5f1e2d3c4b5a6978"
KUBE_TOKEN = "canary-kube-token-0a9b8c7d6e5f"
AGENT_KEY = "canary-agent-key-7c6b5a4d3e2f"
URL_PASSWORD = "canary-url-pass-4e3d2c1b"
HEADER_KEY = "canary-header-key-9f8e7d6c"
BEARER = "canary-bearer-1a2b3c4d5e6f"
KEY_SHAPED = "ab12" * 16
AWS_ACCESS_KEY = "AKIACANARY0123456789"
AWS_SECRET = "canaryAwsSecret/0123456789abcdefghij"
HEADER_JSON = "canary-json-header-5d4c3b2a"
COOKIE = "canary-cookie-6e5d4c3b"
GITHUB_TOKEN = "ghp_" + "Canary0GithubToken1234567890abcdef12"
SLACK_PATH = "T0CANARY/B0CANARY/canarySlackHookSecret"
ARG_PASSWORD = "canary-arg-password-8a7b"
LAST_APPLIED_VALUE = "canary-last-applied-env-9c8d"
CANARIES = (USER_KEY, KUBE_TOKEN, AGENT_KEY, URL_PASSWORD, HEADER_KEY, BEARER, KEY_SHAPED, AWS_ACCESS_KEY, AWS_SECRET,
            HEADER_JSON, COOKIE, GITHUB_TOKEN, SLACK_PATH, ARG_PASSWORD, LAST_APPLIED_VALUE)
PLANTED_IN_LOGS = {"api-key", "kubeconfig-credential", "url-password", "header", "bearer-token", "key-shaped",
                   "aws-access-key", "key-value", "cookie", "github-token", "slack-webhook", "agent-key"}


def planted_lab() -> LabCluster:
    lab = build("healthy")
    now = lab.now
    lab.user_key = USER_KEY
    lab.state.castai.api_keys[USER_KEY] = {"status": 200}
    lab.state.castai.api_keys[AGENT_KEY] = {"status": 200}
    lab.state.castai.auth_tokens[0]["tokenPrefix"] = USER_KEY[:12]
    lab.agent_logs(lab.healthy_agent_logs() + [
        log_line(now, "info", f"using key {USER_KEY}"),
        log_line(now, "debug", f"kube client token {KUBE_TOKEN}"),
        log_line(now, "error", f"cache postgres://castai:{URL_PASSWORD}@db.internal:5432/agent unreachable"),
        log_line(now, "debug", f"request headers: X-API-Key: {HEADER_KEY}"),
        log_line(now, "debug", f"token refreshed: bearer {BEARER}"),
        log_line(now, "debug", f"agent instance {KEY_SHAPED}"),
        log_line(now, "debug", f"aws {AWS_ACCESS_KEY} aws_secret_access_key={AWS_SECRET}"),
        log_line(now, "debug", 'request headers {"X-Api-Key":["' + HEADER_JSON + '"]}'),
        log_line(now, "debug", f"Cookie: session={COOKIE}"),
        log_line(now, "debug", f"cloned with {GITHUB_TOKEN}"),
        log_line(now, "debug", f"notify https://hooks.slack.com/services/{SLACK_PATH}"),
        log_line(now, "debug", f"registering with key {AGENT_KEY}"),  # the agent's own key, not 64 hex digits
    ])
    lab.remove("secrets", NS, "castai-agent")
    lab.add("secrets", k8s.secret("castai-agent", NS, now, {"API_KEY": AGENT_KEY}))
    agent = lab.get("deployments", NS, "castai-agent")
    agent["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "API_KEY", "value": AGENT_KEY})
    agent["spec"]["template"]["spec"]["containers"][0]["args"] = ["--password", ARG_PASSWORD, "--verbose"]
    agent["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"spec": {"template": {"spec": {"containers": [{"name": "agent", "env": [{"name": "DB_PASSWORD", "value": LAST_APPLIED_VALUE}]}]}}}})
    lab.get("configmaps", NS, "castai-agent-metadata")["data"]["PROXY"] = f"https://castai:{URL_PASSWORD}@proxy.internal"
    lab.add("events", k8s.event("castai-agent.canary", NS, now, reason="Failed", kind="Pod", obj="castai-agent-7d9f8c6b5-x2k9p",
                                type_="Warning", message=f"probe failed: Authorization: Bearer {KUBE_TOKEN}", ago=timedelta(minutes=1)))
    # the agent's release as Helm stores it: the key in the values and, base64-encoded, in the rendered Secret
    secret_doc = ("---\n# Source: castai-agent/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: castai-agent\n"
                  f"data:\n  API_KEY: {base64.b64encode(AGENT_KEY.encode()).decode()}\n")
    stored = next(s for s in lab.state.items("secrets") if s["metadata"]["name"] == "sh.helm.release.v1.castai-agent.v3")
    release = helm_release_payload(stored)
    release["config"]["apiKey"] = AGENT_KEY
    release["manifest"] = secret_doc + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: castai-agent\n"
    lab.remove("secrets", NS, "sh.helm.release.v1.castai-agent.v3")
    lab.add("secrets", encode_release_secret(release, namespace=NS, name="castai-agent", revision=3, status="deployed"))
    return lab


def leaks(data: bytes) -> list[str]:
    """Canaries found in these bytes, as they are or base64-encoded (as Secrets and Helm carry them)."""
    found = []
    for canary in CANARIES:
        forms = [canary.encode(), base64.b64encode(canary.encode()).rstrip(b"="), base64.urlsafe_b64encode(canary.encode()).rstrip(b"=")]
        found += [canary for form in forms if form in data]
    return found


def test_no_secret_appears_anywhere_in_the_bundle_or_the_report(tmp_path: Path) -> None:
    lab_cluster = planted_lab()
    with start_lab("healthy", cluster=lab_cluster) as lab:
        lab_cluster.state.kube_tokens[KUBE_TOKEN] = "lab-admin"
        lab.server.write_kubeconfig(lab.kubeconfig, token=KUBE_TOKEN, context="castui-lab")

        async def run() -> tuple[object, str]:
            async with open_session(settings_for(lab), lab) as session:
                result = await collect_bundle(session, tmp_path / "b.tar.gz", since=timedelta(hours=1))
                return result, build_report(session, result.diagnosis, str(result.path))

        result, report = asyncio.run(run())
    assert confirmed(result.diagnosis) == set()  # the canaries changed nothing castui judges

    archive = result.path.read_bytes()
    tar_stream = gzip.decompress(archive)
    assert leaks(archive) == [] and leaks(tar_stream) == []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    for name, data in files.items():
        assert leaks(data) == [], name
    answers = json.loads(next(d for n, d in files.items() if n.endswith("raw/answers.json")))["answers"]
    helm = [s for a in answers if a["key"][:2] == ["list", "secrets"] for s in a["value"] if s.get("type") == "helm.sh/release.v1"]
    assert helm
    for secret in helm:  # inside the gzip'd Helm payloads too
        payload = json.dumps(helm_release_payload(secret)).encode()
        assert leaks(payload) == [], secret["metadata"]["name"]
    agent_release = next(helm_release_payload(s) for s in helm if s["metadata"]["name"].endswith("castai-agent.v3"))
    assert agent_release["config"]["apiKey"] == "[REDACTED]" and "kind: Secret" in agent_release["manifest"]
    assert leaks(report.encode()) == [] and "# CAST AI support report" in report

    counts = result.manifest.redactions
    assert PLANTED_IN_LOGS | {"secret-data", "secret-value"} <= set(counts)
    log_files = [d.decode() for n, d in files.items() if n.endswith("/agent.log")]
    assert len(log_files) == 2
    for kind in PLANTED_IN_LOGS:  # each agent pod's log carries one of each, redacted in place
        assert counts[kind] >= len(log_files), kind
    assert all("X-API-Key: [REDACTED]" in log and "castai:[REDACTED]@db.internal" in log for log in log_files)
    manifest = json.loads(next(d for n, d in files.items() if n.endswith("manifest.json")))
    assert manifest["redactions"] == counts and sum(counts.values()) >= 2 * len(PLANTED_IN_LOGS) + 4

    # and the redacted bundle still replays to the same findings
    with start_replay(result.path) as replay:
        async def replayed():  # type: ignore[no-untyped-def]
            async with open_session(settings_for(replay), replay) as session:
                return await session.diagnose()
        assert verdicts(asyncio.run(replayed())) == verdicts(result.diagnosis)


def test_kubeconfig_credentials_are_known_secrets(tmp_path: Path) -> None:
    key_pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIcanarycanarycanary\n-----END EC PRIVATE KEY-----"
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({"users": [
        {"name": "a", "user": {"token": KUBE_TOKEN}},
        {"name": "b", "user": {"client-key-data": base64.b64encode(key_pem.encode()).decode(), "password": "hunter2-but-longer"}},
        {"name": "c", "user": {"exec": {"env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "canary-aws-secret-1"}]}}},
        {"name": "d", "user": {"token": "short"}},
    ]}))

    found = kubeconfig_credentials(kubeconfig_users(str(config)))

    assert {KUBE_TOKEN, "hunter2-but-longer", "canary-aws-secret-1", key_pem} <= set(found) and "short" not in found
    redactor = Redactor()
    for value in found:
        redactor.add_secret(value, "kubeconfig-credential")
    assert redactor.text(f"token {KUBE_TOKEN} and {key_pem}") == "token [REDACTED] and [REDACTED]"
