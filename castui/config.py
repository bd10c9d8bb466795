"""The one configuration model, resolved flags > environment > config file > defaults.

`Settings.sources` remembers where each value came from (`castui config show`).
The API key is read from the environment (or typed into the app) only: a key in
argv leaks into shell history and `ps`, and a key in a file leaks into backups.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from castui.errors import ConfigurationError

DEFAULT_API_URL = "https://api.cast.ai"
DEFAULT_NAMESPACE = "castai-agent"

#: what a CAST AI cluster id may hold (they are UUIDs; letters, digits, `-`, `_` and `.` leave room)
CLUSTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def checked_cluster_id(value: str, *, source: str = "the cluster id") -> str:
    """A cluster id trimmed and checked: from the environment or a ConfigMap in the cluster it is
    outside text, and `a/../../auth/tokens` must not become another endpoint."""
    trimmed = value.strip()
    if not CLUSTER_ID.match(trimmed) or ".." in trimmed:
        raise ConfigurationError(f"{source} {trimmed[:80]!r} is not a CAST AI cluster id (letters, digits, '-', '_', '.')",
                                 hint="set CASTAI_CLUSTER_ID or --cluster-id to the id the console shows")
    return trimmed


class Thresholds(BaseModel):
    """The numbers the decision tree judges by."""

    model_config = ConfigDict(extra="forbid")

    #: guide v2 §7: more nodes drained by cluster-controller in the last hour than this is the evictor complaint
    drained_nodes_per_hour: int = Field(10, ge=1,
                                        description="nodes cluster-controller drained in the last hour that make an eviction storm")
    # unused since guide v2 (kubelet Evicted events are not the Evictor's; the delay and cycle have no castui
    # threshold): kept so that existing configuration files still load
    eviction_storm_per_hour: int = Field(10, ge=1, description="unused since guide v2 (see drained_nodes_per_hour)")
    empty_node_delay_seconds: int = Field(600, ge=0, description="unused since guide v2: emptyNodes.delaySeconds has no fixed threshold")
    evictor_cycle_min_seconds: int = Field(300, ge=1, description="unused since guide v2: a cycle is short below the chart's 1m default")
    snapshot_age_minutes: int = Field(15, ge=1, description="an agent snapshot older than this is stale")
    metrics_hours: int = Field(24, ge=1, description="hours the workload autoscaler needs before it recommends")
    confidence: float = Field(0.9, ge=0, le=1, description="recommendation confidence below this is low")
    pending_release_minutes: int = Field(10, ge=1, description="a Helm release pending longer than this is stuck")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    api_url: str = DEFAULT_API_URL
    cluster_id: str | None = None
    helm_repo_url: str = "https://castai.github.io/helm-charts"
    status_url: str = "https://status.cast.ai"
    terraform_dir: str = "."
    terraform_var_file: str | None = None
    #: the user says no Terraform manages CAST AI on this cluster: the drift symptom is not applicable
    no_terraform: bool = False
    timeout: float = Field(10.0, gt=0, le=600)
    read_only: bool = False
    active: bool = False
    plain: bool = False
    theme: str = "textual-dark"
    production_patterns: list[str] = Field(default_factory=lambda: ["prod", "prd", "live"])
    redact_patterns: list[str] = Field(default_factory=list)
    #: workloads the user asks about for the workload-autoscaler symptom, as namespace/name
    workloads: list[str] = Field(default_factory=list)
    #: nodes the user names for the no-scale-down symptom (`--node`): the Evictor's causes judge these
    nodes: list[str] = Field(default_factory=list)
    keymap: dict[str, str] = Field(default_factory=dict)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    #: the config file the settings were read from, when there was one (messages name it)
    config_file: str | None = Field(default=None, exclude=True, repr=False)

    #: field name → "flag" | "env" | "file" | "default"
    sources: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("api_url", "helm_repo_url", "status_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value) and re.match(r"^[A-Za-z0-9.-]+(:\d+)?(/|$)", value):
            value = f"https://{value}"  # `api.eu.cast.ai`, as users write it: https, like a browser would
        if not re.match(r"^https?://", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("cluster_id")
    @classmethod
    def _cluster_id(cls, value: str | None) -> str | None:
        return checked_cluster_id(value) if value is not None and value.strip() else None

    @field_validator("redact_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"redact pattern {pattern!r} is not a regular expression: {exc}") from None
        return patterns

    @property
    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None

    def is_production(self, *names: str | None) -> bool:
        lowered = [n.lower() for n in names if n]
        return any(re.search(p, n) for p in (p.lower() for p in self.production_patterns) for n in lowered)


#: environment variables → settings fields
ENVIRONMENT = {
    "CASTAI_API_URL": "api_url",
    "CASTAI_CLUSTER_ID": "cluster_id",
    "CASTUI_NAMESPACE": "namespace",
    "KUBECONFIG": "kubeconfig",
}


def config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "castui" / "config.toml"


def state_dir(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "state")
    return Path(base) / "castui"


def load_settings(
    flags: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    path: Path | None = None,
) -> Settings:
    """Resolve the settings; a broken config file raises ConfigurationError naming file, line and key."""
    env = dict(os.environ) if env is None else env
    path = config_path(env) if path is None else path
    layers: list[tuple[str, dict[str, Any]]] = [
        ("file", _read_file(path)),
        ("env", {field: env[var] for var, field in ENVIRONMENT.items() if env.get(var)}),
        ("flag", {k: v for k, v in (flags or {}).items() if v is not None and v != [] and v != ()}),
    ]
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            if key == "thresholds" and isinstance(value, dict):
                merged["thresholds"] = {**merged.get("thresholds", {}), **value}
                sources.update({f"thresholds.{k}": source for k in value})
            else:
                merged[key] = value
            sources[key] = source
    if env.get("NO_COLOR"):
        merged.setdefault("plain", True)
        sources.setdefault("plain", "env")
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        raise _explain(exc, path, sources) from None
    if env.get("CASTAI_API_KEY"):
        settings.api_key = SecretStr(env["CASTAI_API_KEY"])
    settings.config_file = str(path) if path.is_file() else None
    settings.sources = {name: sources.get(name, "default") for name in Settings.model_fields
                        if name not in ("sources", "api_key", "config_file")}
    settings.sources.update({k: v for k, v in sources.items() if k.startswith("thresholds.")})
    return settings


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"config file {path}: cannot read it: {exc}") from None
    if "api_key" in data:
        raise ConfigurationError(
            f"config file {path}: key 'api_key' is not allowed", hint="keep the key in CASTAI_API_KEY, never in a file"
        )
    return data


def _explain(exc: ValidationError, path: Path, sources: dict[str, str]) -> ConfigurationError:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    top = str(error["loc"][0]) if error["loc"] else ""
    if sources.get(key, sources.get(top)) == "file":
        line = _line_of(path, str(error["loc"][-1]))
        where = f"config file {path}, line {line}" if line else f"config file {path}"
        return ConfigurationError(f"{where}: key '{key}': {error['msg']}")
    origin = {"flag": "option", "env": "environment variable"}.get(sources.get(top, ""), "setting")
    return ConfigurationError(f"{origin} '{key}': {error['msg']}")


def _line_of(path: Path, key: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(rf'^\s*"?{re.escape(key)}"?\s*=', line):
                return number
    except OSError:
        pass
    return None
