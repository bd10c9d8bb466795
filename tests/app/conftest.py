"""The app's tests run the real app (Textual's pilot) against a real lab over HTTP.

Each lab is built on a fixed clock, so timestamps on screen (and snapshots) never
change; the app judges at that same clock (`CastuiApp(now=FIXED)`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from textual.pilot import Pilot
from textual.screen import Screen

from castui.app import CastuiApp
from castui.config import Settings, load_settings
from castui.lab import RunningLab, start_lab
from castui.lab.scenarios import build

FIXED = datetime(2025, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
#: snapshot labs listen on the first free port of this range, so an API URL that reaches
#: the screen (the curl of an API fix) is the same on every run
SNAPSHOT_PORTS = range(23410, 23430)  # below the ephemeral range, where no outgoing connection takes them
NO_CONFIG = Path("/nonexistent/castui/config.toml")


@pytest.fixture(autouse=True)
def _quiet_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real clipboard, audit log in a temp dir, no user config or key from the developer's shell."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "CASTAI_API_KEY", "CASTAI_API_URL", "CASTAI_CLUSTER_ID", "KUBECONFIG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


#: snapshot labs write their kubeconfig in the first free slot of these directories: the fix commands
#: name it (`kubectl --kubeconfig …`), so it must be the same path on every run, like the port
SNAPSHOT_DIRS = Path("/tmp/castui-snapshot-labs")
_held_slots: dict[str, int] = {}


def snapshot_workdir(scenario: str) -> Path:
    """`/tmp/castui-snapshot-labs/<scenario>-<n>`, the first slot no other test process holds (the lock
    lasts as long as this process: a parallel run takes the next slot instead of sharing files)."""
    import fcntl
    import os

    SNAPSHOT_DIRS.mkdir(parents=True, exist_ok=True)
    for n in range(20):
        slot = SNAPSHOT_DIRS / f"{scenario}-{n}"
        key = str(slot)
        if key in _held_slots:
            return slot
        fd = os.open(str(slot) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _held_slots[key] = fd
        slot.mkdir(exist_ok=True)
        return slot
    raise RuntimeError(f"no free snapshot directory under {SNAPSHOT_DIRS}")


def lab_on_fixed_clock(scenario: str, *, port: int = 0, fixed_workdir: bool = False) -> RunningLab:
    """`fixed_workdir`: the lab's files at the same path on every run (snapshots show the kubeconfig's path);
    otherwise a temporary one, so two labs of one scenario never share a kubeconfig."""
    workdir = snapshot_workdir(scenario) if fixed_workdir else None
    return start_lab(scenario, cluster=build(scenario, now=FIXED), port=port, workdir=workdir)


def free_snapshot_port() -> int:
    for port in SNAPSHOT_PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SNAPSHOT_PORTS}")


async def bundle_on_fixed_clock(lab: RunningLab, directory: Path) -> Path:
    """`castui bundle` of the lab, captured at FIXED, under the name it gives (which says when)."""
    from castui.bundle import collect_bundle
    from castui.engine.session import Session

    output = directory / f"castui-bundle-{FIXED:%Y%m%dT%H%M%SZ}.tar.gz"
    async with Session(settings_for(lab), lab=lab.scenario, captured_at=FIXED) as session:
        return (await collect_bundle(session, output)).path


def settings_for(lab: RunningLab, *, config: Path = NO_CONFIG, **flags: Any) -> Settings:
    settings = load_settings({**lab.settings_overrides(), **flags}, env={}, path=config)
    if lab.api_key:
        settings.api_key = SecretStr(lab.api_key)
    return settings


def renamed_context(lab: RunningLab, new_name: str, directory: Path) -> Path:
    """A copy of the lab's kubeconfig whose context is called `new_name` (e.g. a production name)."""
    config = yaml.safe_load(lab.kubeconfig.read_text())
    for context in config["contexts"]:
        context["name"] = new_name
    config["current-context"] = new_name
    path = directory / "kubeconfig-renamed"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def make_app() -> Callable[..., CastuiApp]:
    def make(lab: RunningLab, settings: Settings | None = None, **kwargs: Any) -> CastuiApp:
        return CastuiApp(settings or settings_for(lab), lab=lab, now=FIXED, **kwargs)

    return make


# --- waiting on real conditions -----------------------------------------------------------------


async def wait_for(pilot: Pilot[Any], condition: Callable[[], Any], what: str, *, timeout: float = 15.0) -> Any:
    """Let the app run until `condition()` is truthy; a bounded loop over real app state, never a sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await pilot.pause(0.02)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; screen is {pilot.app.screen!r}")


async def wait_for_screen(pilot: Pilot[Any], kind: type[Screen[Any]], *, timeout: float = 15.0, on_top: bool = True) -> Any:
    """The screen of that kind once it is the active one (or anywhere in the stack: `on_top=False`)."""
    def found() -> Any:
        screens = [pilot.app.screen] if on_top else pilot.app.screen_stack
        return next((s for s in reversed(screens) if isinstance(s, kind)), None)

    return await wait_for(pilot, found, f"the {kind.__name__}", timeout=timeout)


async def finish_triage(pilot: Pilot[Any], *, allow_active: bool = False, timeout: float = 20.0) -> Any:
    """Wait for the triage run to end, answering the active check's consent modal on the way."""
    from castui.screens.consent_screen import ConsentScreen
    from castui.screens.triage_screen import TriageScreen

    asked: list[str] = []

    def done() -> Any:
        screen = pilot.app.screen
        if isinstance(screen, ConsentScreen):
            return "consent"
        return screen.diagnosis if isinstance(screen, TriageScreen) else None

    while True:
        state = await wait_for(pilot, done, "the triage run to finish", timeout=timeout)
        if state == "consent":
            asked.append(pilot.app.screen.check.id)  # type: ignore[attr-defined]
            await pilot.press("y" if allow_active else "n")
            await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ConsentScreen), "the consent modal to close")
            continue
        return state, asked


def footer_keys(app: CastuiApp) -> dict[str, str]:
    """What the footer shows: description → key as displayed."""
    from textual.widgets._footer import FooterKey

    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


def text_of(widget: Any) -> str:
    """The text a widget shows on screen now, line by line (trailing spaces dropped)."""
    from textual.geometry import Region

    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in strips).rstrip("\n")
