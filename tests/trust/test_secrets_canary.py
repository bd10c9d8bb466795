"""A canary API key goes in; it must never come out.

castui is given a distinctive key (`CANARY_KEY`), the cluster holds the agent's own
key (in its Secret and its Helm release) and the kubeconfig a bearer token. None of
the three may appear in anything castui shows, writes or leaves running: `diagnose`
in every format (with the key accepted, rejected, or echoed back by the server),
exceptions, log records, the audit log, the process list while a fix runs, and the
support bundle and report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import tarfile
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from castui.clients.castai import CastaiClient
from castui.clients.errors import CastuiError, Unauthorized
from castui.diagnosis import Fix
from castui.engine.execute import apply_api_call, audit_path, run_command
from castui.engine.session import Session
from castui.lab import KUBE_TOKEN, RunningLab, start_lab
from castui.lab.scenarios import AGENT_KEY, build
from tests.conftest import CANARY_KEY
from tests.core.helpers import castui, lab_settings
from tests.trust.helpers import HELM_UPGRADE, fifo_message, processes_showing, recording_helm, settings_for

SECRETS = {"castui's API key": CANARY_KEY, "the agent's key": AGENT_KEY, "the kubeconfig token": KUBE_TOKEN}


def assert_no_secret(where: str, text: str) -> None:
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} appears in {where}"


def canary_lab(scenario: str = "demo", *, accepted: bool = True) -> RunningLab:
    """A lab scenario whose CAST AI API knows the canary as castui's key (accepting or rejecting it)."""
    cluster = build(scenario)
    cluster.user_key = CANARY_KEY
    cluster.state.castai.api_keys[CANARY_KEY] = {"status": 200 if accepted else 401}
    return start_lab(scenario, cluster=cluster)


def lab_flags(lab: RunningLab, **override: str) -> list[str]:
    flags = {**lab.settings_overrides(), **override}
    return [f"--{flag.replace('_', '-')}={value}" for flag, value in flags.items()]


# --- a CAST AI API that quotes the key back in everything it says -----------------------------------


class EchoingApi:
    """Answers every request 401 with the X-API-Key it got in the message, the headers and a field."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                key = self.headers.get("X-API-Key", "")
                body = json.dumps({"message": f"key {key} is not valid", "key": key}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("WWW-Authenticate", f'Key realm="{key}"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_PUT = do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "EchoingApi":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echoing_api() -> Iterator[EchoingApi]:
    with EchoingApi() as api:
        yield api


# --- diagnose, every format ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("accepted", [True, False], ids=["key-accepted", "key-rejected"])
def test_diagnose_never_prints_a_secret(fmt: str, accepted: bool) -> None:
    with canary_lab("demo" if accepted else "api-key-invalid", accepted=accepted) as lab:
        result = castui("diagnose", *lab_flags(lab), "--format", fmt, "--verbose", env={"CASTAI_API_KEY": CANARY_KEY})
    assert result.returncode == 1, result.stderr
    if not accepted:  # the rejection itself is reported, and still without the key
        assert "401 Unauthorized" in result.stdout
    assert_no_secret(f"diagnose --format {fmt} output", result.stdout + result.stderr)


def test_diagnose_does_not_repeat_a_key_the_server_echoes(echoing_api: EchoingApi) -> None:
    with canary_lab() as lab:
        result = castui("diagnose", *lab_flags(lab, api_url=echoing_api.url), "--format", "json",
                        env={"CASTAI_API_KEY": CANARY_KEY})
    assert result.returncode == 1, result.stderr
    assert "401 Unauthorized" in result.stdout
    assert_no_secret("diagnose output with an echoing API", result.stdout + result.stderr)


def test_config_show_says_only_whether_a_key_is_set() -> None:
    result = castui("config", "show", env={"CASTAI_API_KEY": CANARY_KEY})
    assert "api_key = (set)" in result.stdout
    assert_no_secret("config show", result.stdout + result.stderr)


def test_config_show_hides_a_password_inside_the_api_url() -> None:
    result = castui("config", "show", env={"CASTAI_API_URL": "https://castui:url-canary-pass-77@api.example.com"})
    assert "api.example.com" in result.stdout and "url-canary-pass-77" not in result.stdout + result.stderr


def test_a_credential_plugins_stderr_is_redacted_and_inert(tmp_path: Path) -> None:
    """A plugin that fails and prints a token (and an escape sequence) on stderr: whatever castui
    shows of it, on stdout or stderr, holds neither."""
    import yaml

    plugin = tmp_path / "leaky-plugin"
    plugin.write_text("#!/bin/sh\necho 'exec: Authorization: Bearer plugin-canary-token-314159 "
                      "aws_secret_access_key=plugin-aws-canary \033]52;c;SElK\007' >&2\nexit 1\n")
    plugin.chmod(0o755)
    with start_lab("healthy") as lab:
        doc = yaml.safe_load(lab.kubeconfig.read_text())
        doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin),
                                            "interactiveMode": "Never"}}
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(doc))
        result = castui("diagnose", "-s", "agent-crashloop", *lab_flags(lab, kubeconfig=str(kubeconfig)),
                        env={"CASTAI_API_KEY": CANARY_KEY})
    shown = result.stdout + result.stderr
    assert "could not check" in result.stdout  # the failure is reported...
    assert "plugin-canary-token-314159" not in shown and "plugin-aws-canary" not in shown  # ...without its secrets
    assert "\x1b]52" not in shown and "\x07" not in shown


# --- exceptions and logs ----------------------------------------------------------------------------


async def test_an_error_from_a_server_that_quotes_the_key_does_not_carry_it(echoing_api: EchoingApi) -> None:
    async with CastaiClient(echoing_api.url, CANARY_KEY, timeout=5) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.list_clusters()
        with pytest.raises(CastuiError) as tested:
            status = await client.test_key(AGENT_KEY)
            raise CastuiError(f"the agent's key gets {status}")
    for error in (caught.value, tested.value):
        assert_no_secret("an exception", " ".join([str(error), repr(error), str(error.hint), *traceback.format_exception(error)]))
    assert repr(client) == f"CastaiClient(url={echoing_api.url!r}, key=set)"


def test_debug_logs_of_a_whole_run_hold_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with canary_lab() as lab:

        async def run() -> None:
            async with Session(lab_settings(lab), lab=lab.scenario) as session:
                await session.diagnose(with_status_page=True)

        asyncio.run(run())
    assert caplog.records, "the run logged nothing at DEBUG: is logging wired?"
    assert_no_secret("log records", caplog.text + "".join(str(r.args) for r in caplog.records))


# --- fixes: the audit log and the process list --------------------------------------------------------


async def test_the_audit_log_of_fixes_holds_no_secret(standins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASTAI_API_KEY", CANARY_KEY)
    out = tmp_path / "helm-saw"
    out.mkdir()
    recording_helm(standins, out)
    assert (await run_command(settings_for(tmp_path), Fix(title="new key", commands=[HELM_UPGRADE]), HELM_UPGRADE, target="t")).ok
    with canary_lab("unschedulable-pods-disabled") as lab:
        async with Session(lab_settings(lab), lab=lab.scenario) as session:
            diagnosis = await session.diagnose(["no-scale-up"])
            fix = next(c.fix for _, c in diagnosis.confirmed() if c.id == "unschedulable-pods-disabled")
            assert fix is not None and fix.api_call is not None
            assert (await apply_api_call(session, fix, target=session.audit_target())).ok
    entries = audit_path().read_text()
    assert len(entries.splitlines()) >= 2
    assert_no_secret("the audit log", entries)


async def test_the_process_list_never_shows_the_key_while_a_fix_runs(standins: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASTAI_API_KEY", CANARY_KEY)
    out = tmp_path / "helm-saw"
    out.mkdir()
    gate, started = tmp_path / "gate", tmp_path / "started"
    os.mkfifo(gate)
    os.mkfifo(started)
    recording_helm(standins, out, block_on=gate, started=started)  # it waits on `gate` until the test has looked
    run = asyncio.ensure_future(run_command(settings_for(tmp_path), Fix(title="new key", commands=[HELM_UPGRADE]),
                                            HELM_UPGRADE, target="t"))
    running = False
    try:
        running = (await fifo_message(started)).strip() == "started"
        assert processes_showing(CANARY_KEY) == []
    finally:
        if running:
            await asyncio.to_thread(lambda: gate.write_text("go\n"))
        else:
            run.cancel()
    assert (await asyncio.wait_for(run, timeout=10)).ok
    assert (out / "set-file").read_text() == CANARY_KEY  # it did get the key: through the file only


# --- what goes to CAST AI support ---------------------------------------------------------------------


def test_the_support_bundle_and_report_hold_no_secret(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.tar.gz"
    with canary_lab() as lab:
        made = castui("bundle", *lab_flags(lab), "--output", str(bundle), env={"CASTAI_API_KEY": CANARY_KEY})
        report = castui("report", *lab_flags(lab), env={"CASTAI_API_KEY": CANARY_KEY})
    assert made.returncode == 0, made.stderr
    assert_no_secret("castui bundle's output", made.stdout + made.stderr)
    assert_no_secret("castui report", report.stdout + report.stderr)
    with tarfile.open(bundle) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        assert members
        for member in members:
            data = tar.extractfile(member)
            assert data is not None
            content = data.read()
            for name, secret in SECRETS.items():
                assert secret.encode() not in content, f"{name} is in the bundle's {member.name}"
                assert base64.b64encode(secret.encode()) not in content, f"{name} is in {member.name}, base64-encoded"
