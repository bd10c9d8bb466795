#!/usr/bin/env python3
"""Render castui's real screens from lab scenarios to SVG, then PNG, into screenshots/.

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--size 120x40]

Each picture drives the real app with Textual's pilot against a lab on a fixed clock.
PNGs need cairosvg (the `screenshots` extra) and, to read well, Debian's fonts-firacode;
glyphs Fira Code lacks (✗, ⚠) are drawn with DejaVu Sans Mono.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr
from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from castui.app import CastuiApp  # noqa: E402
from castui.config import load_settings  # noqa: E402
from castui.lab import RunningLab, start_lab  # noqa: E402
from castui.lab.scenarios import build  # noqa: E402

FIXED = datetime(2025, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
NO_CONFIG = Path("/nonexistent/castui/config.toml")
FALLBACK_GLYPHS = "✗⚠⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
Steps = Callable[[Pilot[Any]], Awaitable[None]]


# --- driving the app ------------------------------------------------------------------------------


async def until(pilot: Pilot[Any], condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await pilot.pause(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def shown(widget: Any) -> str:
    """The text a widget draws now."""
    from textual.geometry import Region

    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.connection.kube.checked and app.connection.api.checked, "the header")  # type: ignore[attr-defined]


async def on(pilot: Pilot[Any], name: str) -> Any:
    return await until(pilot, lambda: pilot.app.screen if type(pilot.app.screen).__name__ == name else None, name)


async def triage(pilot: Pilot[Any], key: str) -> Any:
    await ready(pilot)
    await pilot.press(key)
    await until(pilot, lambda: any(type(s).__name__ == "TriageScreen" for s in pilot.app.screen_stack), "triage")
    while True:
        screen = await until(pilot, lambda: pilot.app.screen if type(pilot.app.screen).__name__ == "ConsentScreen"
                             or getattr(pilot.app.screen, "diagnosis", None) else None, "the run")
        if type(screen).__name__ != "ConsentScreen":
            return screen
        await pilot.press("n")


def steps_home(pilot: Pilot[Any]) -> Awaitable[None]:
    return ready(pilot)


async def steps_triage_all(pilot: Pilot[Any]) -> None:
    await triage(pilot, "a")


async def steps_evidence(pilot: Pilot[Any]) -> None:
    await triage(pilot, "2")
    await pilot.press("v")


async def steps_json(pilot: Pilot[Any]) -> None:
    await triage(pilot, "4")


async def steps_remediation(pilot: Pilot[Any]) -> None:
    await triage(pilot, "2")
    await pilot.press("f")
    await on(pilot, "RemediationScreen")


async def steps_remediation_api(pilot: Pilot[Any]) -> None:
    await triage(pilot, "4")
    await pilot.press("f")
    await on(pilot, "RemediationScreen")


async def steps_confirm(pilot: Pilot[Any]) -> None:
    await steps_remediation(pilot)
    await pilot.press("x")
    await on(pilot, "ConfirmScreen")


async def steps_help(pilot: Pilot[Any]) -> None:
    await triage(pilot, "2")
    await pilot.press("question_mark")
    await on(pilot, "HelpScreen")


async def steps_escalation(pilot: Pilot[Any]) -> None:
    await triage(pilot, "2")
    await pilot.press("e")
    screen = await on(pilot, "EscalationScreen")
    await until(pilot, lambda: "checking" not in shown(screen.query_one("#esc-status")), "the status page")


async def steps_production(pilot: Pilot[Any]) -> None:
    await steps_remediation(pilot)


#: name → (scenario, steps, production context?)
PICTURES: dict[str, tuple[str, Steps, bool]] = {
    "home": ("heartbeat-failing", steps_home, False),
    "triage": ("demo", steps_triage_all, False),
    "evidence": ("heartbeat-failing", steps_evidence, False),
    "evidence-json": ("unschedulable-pods-disabled", steps_json, False),
    "remediation": ("heartbeat-failing", steps_remediation, False),
    "remediation-api": ("unschedulable-pods-disabled", steps_remediation_api, False),
    "confirm": ("heartbeat-failing", steps_confirm, False),
    "help": ("heartbeat-failing", steps_help, False),
    "escalation": ("heartbeat-failing", steps_escalation, False),
    "production": ("heartbeat-failing", steps_production, True),
    "production-confirm": ("heartbeat-failing", steps_confirm, True),
}


# --- labs and settings ----------------------------------------------------------------------------


def production_kubeconfig(lab: RunningLab, directory: Path) -> Path:
    config = yaml.safe_load(lab.kubeconfig.read_text())
    for context in config["contexts"]:
        context["name"] = "prod-eu"
    config["current-context"] = "prod-eu"
    path = directory / "kubeconfig-prod"
    path.write_text(yaml.safe_dump(config))
    return path


async def picture(name: str, out: Path, size: tuple[int, int], workdir: Path) -> Path:
    scenario, steps, production = PICTURES[name]
    lab = start_lab(scenario, cluster=build(scenario, now=FIXED))
    try:
        flags = lab.settings_overrides()
        if production:
            flags.update(kubeconfig=str(production_kubeconfig(lab, workdir)), context="prod-eu")
        settings = load_settings(flags, env={}, path=NO_CONFIG)
        settings.api_key = SecretStr(lab.api_key) if lab.api_key else None
        app = CastuiApp(settings, lab=lab, now=FIXED, timings=False)
        svg = out / f"{name}.svg"
        async with app.run_test(size=size) as pilot:
            await steps(pilot)
            await pilot.pause()
            app.clear_notifications()
            await pilot.pause()
            app.save_screenshot(filename=svg.name, path=str(out))
        return svg
    finally:
        lab.stop()


def with_fallback_glyphs(svg: str) -> str:
    """Fira Code has no ✗ or ⚠: draw those with DejaVu Sans Mono, inside the same text run."""
    pattern = re.compile(f"[{re.escape(FALLBACK_GLYPHS)}]")
    return pattern.sub(lambda m: f'<tspan style="font-family: DejaVu Sans Mono">{m.group(0)}</tspan>', svg)


def to_png(svg: Path) -> Path:
    import cairosvg

    png = svg.with_suffix(".png")
    cairosvg.svg2png(bytestring=with_fallback_glyphs(svg.read_text(encoding="utf-8")).encode(), write_to=str(png))
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--size", default="120x40", help="columns x rows (default 120x40)")
    parser.add_argument("--keep-svg", action="store_true", help="keep the SVGs next to the PNGs")
    parser.add_argument("names", nargs="*", help=f"which pictures (default all): {', '.join(PICTURES)}")
    args = parser.parse_args(argv)
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="castui-shots-") as workdir:
        for name in args.names or PICTURES:
            svg = asyncio.run(picture(name, args.out, (columns, rows), Path(workdir)))
            png = to_png(svg)
            if not args.keep_svg:
                svg.unlink()
            print(png.relative_to(ROOT) if png.is_relative_to(ROOT) else png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
