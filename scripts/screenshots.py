#!/usr/bin/env python3
"""Render castui's real screens from lab scenarios to SVG, then PNG, into screenshots/.

    .venv/bin/pip install -e '.[screenshots]'     # once: cairosvg, for the PNGs
    .venv/bin/python scripts/screenshots.py [--out screenshots] [--size 120x40] [NAME...]

Each picture drives the real app with Textual's pilot against a lab on a fixed clock;
`fleet` against a lab fleet (`castui --all-contexts`), `replay` against a bundle of a
lab captured at that clock (`castui --bundle FILE`).
PNGs need cairosvg (the `screenshots` extra) and, to read well, Debian's fonts-firacode;
symbols (✓, ✗, ⚠, the spinner) are drawn with DejaVu Sans Mono, which has them all (Fira Code lacks
some, and a fallback font drew ✓ as √). The SVGs are drawn in a temporary directory: a failed run
leaves nothing behind in screenshots/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from castui.lab.fleet import start_fleet  # noqa: E402
from castui.lab.scenarios import build  # noqa: E402

FIXED = datetime(2025, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
NO_CONFIG = Path("/nonexistent/castui/config.toml")
FLEET = ("healthy", "demo", "invalid-api-key")
FALLBACK_GLYPHS = "✓✗⚠⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
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


async def steps_evidence_replayed(pilot: Pilot[Any]) -> None:
    await triage(pilot, "2")
    await until(pilot, lambda: pilot.app.screen.highlighted_cause() is not None, "the cursor on the confirmed cause")


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


async def steps_fixed(pilot: Pilot[Any]) -> None:
    """The fix run and re-checked: the before → after right under the header."""
    await steps_remediation(pilot)
    await pilot.press("x")
    await on(pilot, "ConfirmScreen")
    await pilot.press("y")
    screen = await on(pilot, "RemediationScreen")
    await until(pilot, lambda: "After the fix" in shown(screen.query_one("#fix-outcome")), "the re-check", timeout=40)


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


async def steps_fleet(pilot: Pilot[Any]) -> None:
    screen = await on(pilot, "FleetScreen")
    table = screen.table
    await until(pilot, lambda: all(str(table.get_cell(c, "state")) not in ("waiting", "running") for c in screen.fleet.contexts),
                "every row's verdict")
    await pilot.press("down")  # lab-demo: its confirmed causes in the detail
    await until(pilot, lambda: "lab-demo  cluster" in shown(screen.query_one("#fleet-detail")), "lab-demo's detail")


#: name → (scenario, steps, production context?)
PICTURES: dict[str, tuple[str, Steps, bool]] = {
    "home": ("heartbeat-failing", steps_home, False),
    "triage": ("demo", steps_triage_all, False),
    "evidence": ("heartbeat-failing", steps_evidence, False),
    "evidence-json": ("unschedulable-pods-disabled", steps_json, False),
    "remediation": ("heartbeat-failing", steps_remediation, False),
    "remediation-api": ("unschedulable-pods-disabled", steps_remediation_api, False),
    "confirm": ("heartbeat-failing", steps_confirm, False),
    "fixed": ("heartbeat-failing", steps_fixed, False),
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


def lab_settings(lab: Any, **flags: Any) -> Any:
    settings = load_settings({**lab.settings_overrides(), **flags}, env={}, path=NO_CONFIG)
    settings.api_key = SecretStr(lab.api_key) if lab.api_key else None
    return settings


async def save(app: CastuiApp, steps: Steps, svg: Path, size: tuple[int, int]) -> Path:
    async with app.run_test(size=size) as pilot:
        await steps(pilot)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot(filename=svg.name, path=str(svg.parent))
    return svg


async def picture(name: str, out: Path, size: tuple[int, int], workdir: Path) -> Path:
    if name in OTHER_PICTURES:
        return await OTHER_PICTURES[name](out / f"{name}.svg", size, workdir)
    scenario, steps, production = PICTURES[name]
    lab = start_lab(scenario, cluster=build(scenario, now=FIXED))
    try:
        flags = {"kubeconfig": str(production_kubeconfig(lab, workdir)), "context": "prod-eu"} if production else {}
        app = CastuiApp(lab_settings(lab, **flags), lab=lab, now=FIXED, timings=False)
        return await save(app, steps, out / f"{name}.svg", size)
    finally:
        lab.stop()


async def fleet_picture(svg: Path, size: tuple[int, int], workdir: Path) -> Path:
    """`castui --all-contexts` on three lab clusters, lab-demo highlighted."""
    from castui.fleet_app import FleetApp

    with start_fleet(FLEET, workdir=workdir / "fleet") as fleet:
        settings = load_settings(fleet.settings_overrides(), env={}, path=NO_CONFIG)
        settings.api_key = SecretStr(fleet.api_key)
        return await save(FleetApp(settings, fleet.contexts, parallel=len(FLEET)), steps_fleet, svg, size)


async def replay_picture(svg: Path, size: tuple[int, int], workdir: Path) -> Path:
    """`castui --bundle castui-bundle-….tar.gz` (a heartbeat-failing lab captured at FIXED), on its triage."""
    from castui.bundle import collect_bundle
    from castui.engine.session import Session
    from castui.replay import start_replay

    bundle = workdir / f"castui-bundle-{FIXED:%Y%m%dT%H%M%SZ}.tar.gz"
    lab = start_lab("heartbeat-failing", cluster=build("heartbeat-failing", now=FIXED))
    try:
        async with Session(lab_settings(lab), lab=lab.scenario, captured_at=FIXED) as session:
            await collect_bundle(session, bundle)
    finally:
        lab.stop()
    with contextlib.chdir(workdir):
        replay = start_replay(Path(bundle.name))  # the header names the file as typed beside it
    with replay:
        app = CastuiApp(lab_settings(replay), lab=replay, now=FIXED, timings=False)
        return await save(app, steps_evidence_replayed, svg, size)


#: pictures of another target than one lab: name → the function that renders it to an SVG
OTHER_PICTURES: dict[str, Callable[[Path, tuple[int, int], Path], Awaitable[Path]]] = {
    "fleet": fleet_picture,
    "replay": replay_picture,
}


def with_fallback_glyphs(svg: str) -> str:
    """Symbols the first fonts lack (or draw wrongly, ✓ as √): DejaVu Sans Mono, inside the same text run."""
    pattern = re.compile(f"[{re.escape(FALLBACK_GLYPHS)}]")
    return pattern.sub(lambda m: f'<tspan style="font-family: DejaVu Sans Mono">{m.group(0)}</tspan>', svg)


def to_png(svg: Path, out: Path) -> Path:
    import cairosvg

    png = out / svg.with_suffix(".png").name
    cairosvg.svg2png(bytestring=with_fallback_glyphs(svg.read_text(encoding="utf-8")).encode(), write_to=str(png))
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--size", default="120x40", help="columns x rows (default 120x40)")
    parser.add_argument("--keep-svg", action="store_true", help="keep the SVGs next to the PNGs")
    parser.add_argument("names", nargs="*", help=f"which pictures (default all): {', '.join([*PICTURES, *OTHER_PICTURES])}")
    args = parser.parse_args(argv)
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    unknown = sorted(set(args.names) - {*PICTURES, *OTHER_PICTURES})
    if unknown:
        parser.error(f"no picture called {', '.join(unknown)}")
    try:
        import cairosvg  # noqa: F401 - checked before any picture is drawn
    except ImportError:
        print("screenshots: PNGs need cairosvg: run `.venv/bin/pip install -e '.[screenshots]'` first", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="castui-shots-") as workdir:
        drawn = Path(workdir) / "svg"
        drawn.mkdir()
        for name in args.names or [*PICTURES, *OTHER_PICTURES]:
            svg = asyncio.run(picture(name, drawn, (columns, rows), Path(workdir)))
            png = to_png(svg, args.out)
            if args.keep_svg:
                svg.replace(args.out / svg.name)
            print(png.relative_to(ROOT) if png.is_relative_to(ROOT) else png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
