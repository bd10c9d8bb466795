"""`castui config init`: a commented config file with every default, generated from the model
so the file and the code cannot drift apart."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from castui.config import Settings, Thresholds

FILE_KEYS = ("namespace", "api_url", "helm_repo_url", "status_url", "timeout", "read_only", "no_terraform",
             "theme", "production_patterns", "redact_patterns")

HELP = {
    "namespace": "the CAST AI namespace",
    "api_url": "CAST AI API (EU: https://api.eu.cast.ai); the key stays in CASTAI_API_KEY, never here",
    "helm_repo_url": "the castai-helm chart repository",
    "status_url": "the CAST AI status page",
    "timeout": "seconds each check may take",
    "read_only": "true: fixes are copy-only everywhere",
    "no_terraform": "true: no Terraform manages CAST AI on your clusters (terraform-drift is not applicable)",
    "theme": "a Textual theme name",
    "production_patterns": "contexts/clusters matching these get the PRODUCTION banner and typed confirmation",
    "redact_patterns": "extra regular expressions redacted from every output and bundle",
}


def default_text() -> str:
    defaults = Settings()
    lines = ["# castui configuration. Precedence: flags > environment > this file > defaults.", ""]
    for key in FILE_KEYS:
        lines.append(f"# {HELP[key]}")
        lines.append(f"# {key} = {json.dumps(getattr(defaults, key))}")
        lines.append("")
    lines.append("[thresholds]")
    for name, field in Thresholds.model_fields.items():
        lines.append(f"# {field.description}")
        lines.append(f"# {name} = {json.dumps(field.default)}")
    lines += ["", "# Keys by stable action id (see the help screen, `?`), e.g.:", "[keymap]",
              '# "triage.rerun" = "ctrl+r"', '# "fix.copy" = "y"', ""]
    return "\n".join(lines)


def write_default(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_text(), encoding="utf-8")


def save_theme(path: Path, theme: str) -> None:
    """Keep a theme picked in the app: rewrite the top-level `theme = …` line, or add one before the first
    table; every other line stays as the user wrote it. Written to a temporary file, then moved into place."""
    import os
    import re
    import tempfile

    line = f"theme = {json.dumps(theme)}"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    first_table = next((i for i, text in enumerate(lines) if re.match(r"^\s*\[", text)), len(lines))
    at = next((i for i, text in enumerate(lines[:first_table]) if re.match(r"^\s*theme\s*=", text)), None)
    if at is not None:
        lines[at] = line
    else:
        lines.insert(first_table, line)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        if path.exists():
            os.chmod(name, path.stat().st_mode & 0o777)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
