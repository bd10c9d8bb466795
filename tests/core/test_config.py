"""The configuration file, precedence, and suppressions, as a user meets them."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from castui.clients.errors import ConfigurationError
from castui.config import config_path, load_settings
from tests.core.helpers import castui


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_precedence_flag_over_env_over_file_over_default() -> None:
    write_config('namespace = "from-file"\ntimeout = 20\napi_url = "https://file.example"\n[thresholds]\neviction_storm_per_hour = 50\n')
    env = {"CASTAI_API_URL": "https://env.example", "CASTUI_NAMESPACE": "from-env", "HOME": os.environ.get("HOME", "/root"),
           "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"]}
    settings = load_settings({"namespace": "from-flag"}, env=env)
    assert settings.namespace == "from-flag" and settings.sources["namespace"] == "flag"
    assert settings.api_url == "https://env.example" and settings.sources["api_url"] == "env"
    assert settings.timeout == 20 and settings.sources["timeout"] == "file"
    assert settings.status_url == "https://status.cast.ai" and settings.sources["status_url"] == "default"
    assert settings.thresholds.eviction_storm_per_hour == 50 and settings.sources["thresholds.eviction_storm_per_hour"] == "file"
    assert settings.thresholds.metrics_hours == 24


def test_config_show_names_the_source_of_each_value() -> None:
    write_config("timeout = 20\n")
    result = castui("config", "show", "--namespace", "ops", env={"CASTAI_API_URL": "https://api.eu.cast.ai"})
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" = ", 1) for line in result.stdout.splitlines())
    assert lines["namespace"] == '"ops"    # flag'
    assert lines["api_url"] == '"https://api.eu.cast.ai"    # env'
    assert lines["timeout"] == "20.0    # file"
    assert lines["helm_repo_url"].endswith("# default")


def test_invalid_config_names_file_line_and_key() -> None:
    path = write_config('namespace = "ok"\n\n[thresholds]\neviction_storm_per_hour = "lots"\n')
    with pytest.raises(ConfigurationError) as error:
        load_settings({})
    message = str(error.value)
    assert str(path) in message and "line 4" in message and "thresholds.eviction_storm_per_hour" in message
    result = castui("diagnose", "--lab", "healthy")
    assert result.returncode == 2 and "eviction_storm_per_hour" in result.stderr and "Traceback" not in result.stderr


def test_a_toml_syntax_error_and_a_key_in_the_file_are_refused() -> None:
    write_config("timeout = \n")
    result = castui("config", "show")
    assert result.returncode == 2 and "config.toml" in result.stderr
    write_config('api_key = "secret-in-a-file"\n')
    result = castui("config", "show")
    assert result.returncode == 2 and "CASTAI_API_KEY" in result.stderr and "secret-in-a-file" not in result.stderr


def test_config_init_writes_a_file_that_loads_to_the_defaults() -> None:
    assert castui("config", "init").returncode == 0
    assert load_settings({}, env={"XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"]}).timeout == 10
    assert castui("config", "init").returncode == 2  # never overwrites silently


def test_suppression_lifecycle() -> None:
    add = castui("suppress", "heartbeat-failing", "--reason", "upgrading on Friday", "--until",
                 (date.today() + timedelta(days=7)).isoformat())
    assert add.returncode == 0, add.stderr
    assert "heartbeat-failing" in castui("suppress", "--list").stdout

    result = castui("diagnose", "--lab", "heartbeat-failing", "--format", "json")
    document = json.loads(result.stdout)
    cause = next(c for s in document["symptoms"] for c in s["causes"] if c["id"] == "heartbeat-failing")
    assert cause["verdict"] == "confirmed"
    assert cause["suppressed"]["reason"] == "upgrading on Friday" and cause["suppressed"]["expired"] is False
    assert result.returncode == 0  # shown, but no longer failing the run
    text = castui("diagnose", "--lab", "heartbeat-failing").stdout
    assert "~ suppressed: heartbeat-failing" in text and "upgrading on Friday" in text

    # a day already past is refused (it would never apply); one that passes later expires
    past = castui("suppress", "heartbeat-failing", "--reason", "old", "--until", (date.today() - timedelta(days=1)).isoformat())
    assert past.returncode == 2 and "is in the past" in past.stderr
    from castui import suppressions

    suppressions.add(suppressions.SuppressionRecord(cause="heartbeat-failing", reason="old",
                                                    until=date.today() - timedelta(days=1)))
    result = castui("diagnose", "--lab", "heartbeat-failing", "--format", "json")
    cause = next(c for s in json.loads(result.stdout)["symptoms"] for c in s["causes"] if c["id"] == "heartbeat-failing")
    assert cause["suppressed"]["expired"] is True and result.returncode == 1
    assert "expired" in castui("suppress", "--list").stdout

    assert castui("suppress", "heartbeat-failing", "--remove").returncode == 0
    assert castui("suppress", "--list").stdout.strip() == "no suppressions"


def test_suppress_needs_a_reason_and_a_known_cause() -> None:
    assert castui("suppress", "chart-outdated").returncode == 2
    result = castui("suppress", "no-such-cause", "--reason", "x")
    assert result.returncode == 2 and "unknown cause" in result.stderr


def test_a_suppression_covers_a_latent_finding_too() -> None:
    """A known risk (an agent chart behind, latent) can be accepted like a confirmed cause."""
    assert castui("suppress", "chart-outdated", "--reason", "agent upgrades are batched monthly", "--until",
                  (date.today() + timedelta(days=30)).isoformat()).returncode == 0
    result = castui("diagnose", "--lab", "agent-chart-behind", "--format", "json")
    assert result.returncode == 0, result.stderr
    cause = next(c for s in json.loads(result.stdout)["symptoms"] for c in s["causes"] if c["id"] == "chart-outdated")
    assert cause["verdict"] == "latent" and cause["suppressed"]["reason"] == "agent upgrades are batched monthly"
    assert "~ suppressed: chart-outdated" in castui("diagnose", "--lab", "agent-chart-behind").stdout
