"""The redactor: each credential shape of issue 15 is removed where it stands, ordinary text is
left alone, and adversarial input costs linear time (the old `url-password` pattern took 12 s on
40 k characters: these would not finish within the bound)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from castui.report.redact import LAST_APPLIED, Redactor, learn_secret
from castui.redaction import redactor_for


@pytest.mark.parametrize(("text", "kind", "left"), [
    ("creds AKIAIOSFODNN7EXAMPLE ok", "aws-access-key", "creds [REDACTED] ok"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "key-value", "aws_secret_access_key=[REDACTED]"),
    ('{"X-Api-Key":["abcdef123456"]}', "header", '{"X-Api-Key":["[REDACTED]"]}'),
    ('msg="{\\"X-Api-Key\\":[\\"abcdef123456\\"]}"', "header", 'msg="{\\"X-Api-Key\\":[\\"[REDACTED]\\"]}"'),
    ("Cookie: session=abc123; theme=dark", "cookie", "Cookie: [REDACTED]"),
    ("Set-Cookie: sid=s3cr3t; Path=/", "cookie", "Set-Cookie: [REDACTED]"),
    ("token ghp_" + "A1" * 18 + " used", "github-token", "token [REDACTED] used"),
    ("pat github_pat_" + "B2" * 15, "github-token", "pat [REDACTED]"),
    ("post to https://hooks.slack.com/services/T00/B00/XXXXsecret", "slack-webhook", "post to https://hooks.slack.com/services/[REDACTED]"),
    ("slack xoxb-123456789012-abcdefABCDEF", "slack-token", "slack [REDACTED]"),
    ("agent --password hunter2longer --verbose", "flag-value", "agent --password [REDACTED] --verbose"),
    ("agent --db-password=hunter2longer", "flag-value", "agent --db-password=[REDACTED]"),
    ("postgres://castai:pw-123@db:5432", "url-password", "postgres://castai:[REDACTED]@db:5432"),
    ("Authorization: Bearer abcdefgh12345", "header", "Authorization: Bearer [REDACTED]"),
    ("a -----BEGIN EC PRIVATE KEY-----\nMHcC-AQEE\n-----END EC PRIVATE KEY----- b", "private-key", "a [REDACTED] b"),
])
def test_each_credential_shape_is_redacted(text: str, kind: str, left: str) -> None:
    redactor = Redactor()
    assert redactor.text(text) == left
    assert redactor.counts[kind] >= 1


@pytest.mark.parametrize("text", [
    "image sha256:" + "a" * 64, "token_count=3", "--token-ttl 5m", "cookies are tasty", "see https://api.cast.ai/v1/x",
    "-----BEGIN CERTIFICATE-----", "ghp_short", "AKIA is a prefix",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


def test_container_args_and_last_applied_env_values() -> None:
    redactor = Redactor()
    obj = {"metadata": {"annotations": {LAST_APPLIED: '{"spec":{"containers":[{"env":[{"name":"DB_PASSWORD","value":"canary-1"}]}]}}'}},
           "spec": {"containers": [{"args": ["--password", "canary-2", "--verbose", "--api-key", "${CASTAI_API_KEY}"]}]}}
    out = redactor.kube_object(obj, "deployments")
    assert "canary-1" not in out["metadata"]["annotations"][LAST_APPLIED]
    assert out["spec"]["containers"][0]["args"] == ["--password", "[REDACTED]", "--verbose", "--api-key", "${CASTAI_API_KEY}"]


def test_a_secret_castui_read_is_redacted_in_every_output_made_afterwards() -> None:
    key = "agent-key-of-no-particular-shape-41"  # not 64 hex digits: no pattern knows it
    assert key in redactor_for(None).text(f"using {key}")
    learn_secret(key, "agent-key")
    assert redactor_for(None).text(f"using {key}") == "using [REDACTED]"


SHAPES = {
    "url-password": "a://" + "b:" * 100_000,
    "schemes without @": "a://b:" * 40_000,
    "jwt prefix": "eyJ" * 70_000,
    "BEGIN without END": "-----BEGIN PRIVATE KEY-----" * 8_000,
    "one letter": "a" * 200_000,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_adversarial_input_is_redacted_in_linear_time(shape: str) -> None:
    """200 k characters each; the quadratic patterns took minutes on these. A generous bound, in a
    child process so a regression fails instead of hanging the suite."""
    code = f"from castui.report.redact import Redactor; import tests.trust.test_redaction_shapes as t; Redactor().text(t.SHAPES[{shape!r}])"
    try:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=20, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"redacting 200 k characters of {shape!r} took over 20 s")
