"""What the benchmark runs in a fresh process, so each measurement owns its memory.

    python benchmarks/probe.py session CONFIG_JSON   castui's Session.diagnose, all ten symptoms, once per `run` line
    python benchmarks/probe.py app CONFIG_JSON       the app headless: `r` once per `run` line, until its results are drawn
    python benchmarks/probe.py cli ARGS...           the `castui` command itself (cold start), e.g. diagnose …
    python benchmarks/probe.py ui LINES ROWS         LogView with LINES lines, EvidenceTable with ROWS rows

Each prints one JSON line on stdout (`cli` on stderr, after castui's own output), with
the process's peak resident memory from /proc/self/status (VmHWM: this process only,
unlike getrusage's maxrss, which Linux carries over from the forking parent).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

MARKER = "CASTUI-BENCH "


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def session(config: dict[str, Any]) -> int:
    """A castui session kept open: one diagnosis of all ten symptoms per `run` line on stdin, each
    answered with a JSON line. The first is a warm-up (imports, connections, the cluster id); the
    ones after are what a re-run in the app costs."""
    from pydantic import SecretStr

    from castui.config import load_settings
    from castui.engine.session import Session

    settings = load_settings(config["settings"], env={})
    settings.api_key = SecretStr(config["api_key"]) if config.get("api_key") else None

    async def serve() -> None:
        async with Session(settings) as opened:
            print(json.dumps({"ready": True}), flush=True)
            loop = asyncio.get_running_loop()
            while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "run":
                started = time.perf_counter()
                diagnosis = await opened.diagnose()
                wall = time.perf_counter() - started
                print(json.dumps({"wall_s": round(wall, 4), "exit_code": diagnosis.exit_code,
                                  "confirmed": sorted(c.id for _, c in diagnosis.confirmed()),
                                  "peak_rss_mb": peak_rss_mb()}), flush=True)

    asyncio.run(serve())
    return 0


def app(config: dict[str, Any]) -> int:
    """The app itself, headless at 120×40: all ten symptoms run once (`a`, the in-cluster probe declined),
    then one `r` per `run` line on stdin, each answered with the time until the re-run's results are on
    the screen: the engine's re-run and the screen's drawing of it, what a user waits for."""
    from pydantic import SecretStr

    from castui.app import CastuiApp
    from castui.config import load_settings
    from castui.screens.consent_screen import ConsentScreen
    from castui.screens.triage_screen import TriageScreen
    from castui.widgets.triage_tree import TriageTree

    settings = load_settings(config["settings"], env={})
    settings.api_key = SecretStr(config["api_key"]) if config.get("api_key") else None

    async def until(pilot: Any, condition: Any, timeout: float = 60.0) -> Any:
        # a plain sleep, not `pilot.pause`: that draws a frame each time it returns, and polling with it
        # would draw the app 200 times a second, where the app itself draws at most 60
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not get there: {pilot.app.screen!r}")
            await asyncio.sleep(0.005)
        return value

    async def run() -> None:
        castui = CastuiApp(settings)
        async with castui.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            await until(pilot, lambda: isinstance(castui.screen, ConsentScreen))
            await pilot.press("n")
            triage = await until(pilot, lambda: next((s for s in castui.screen_stack if isinstance(s, TriageScreen)), None))
            tree = triage.query_one(TriageTree)
            await until(pilot, lambda: triage.diagnosis is not None and not tree.landing)
            print(json.dumps({"ready": True}), flush=True)
            loop = asyncio.get_running_loop()
            while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "run":
                before = triage.runs
                started = time.perf_counter()
                # the key as a terminal delivers it; `pilot.press` would also wait for the app to go idle,
                # which it is only some 70 ms after its last frame, and count that wait
                castui.simulate_key("r")
                await until(pilot, lambda: triage.runs > before and triage.diagnosis is not None and not tree.landing)
                drawn = asyncio.Event()
                castui.call_after_refresh(drawn.set)  # the frame that draws the results
                await drawn.wait()
                wall = time.perf_counter() - started
                diagnosis = triage.diagnosis
                print(json.dumps({"wall_s": round(wall, 4), "exit_code": diagnosis.exit_code,
                                  "confirmed": sorted(c.id for _, c in diagnosis.confirmed())}), flush=True)

    asyncio.run(run())
    return 0


def cli(argv: list[str]) -> int:
    from castui import aio
    from castui.cli import main

    # at castui's own end, which also runs when a stuck read makes it leave at once (no exit handlers then)
    aio.at_end(lambda: print(MARKER + json.dumps({"peak_rss_mb": peak_rss_mb()}), file=sys.stderr, flush=True))

    sys.argv = ["castui", *argv]
    return main()  # as the `castui` command calls it (argv from the command line), its end included


def ui(lines: int, rows: int) -> dict[str, Any]:
    """A million-line log and a 100,000-row events table in the app's own widgets, headless."""
    from textual.app import App, ComposeResult

    try:
        from castui.widgets.evidence_table import EvidenceTable
        from castui.widgets.log_view import LogView
    except ImportError as error:
        return {"skipped": f"castui.widgets not ready: {error}"}

    log = [f'time="2026-01-01T00:00:{i % 60:02d}Z" level={"error" if i % 997 == 0 else "info"} msg="delta upload finished" '
           f'items={i % 500} response_code=204 roundtrip_duration_ms={i % 90}' for i in range(lines)]
    table = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]] + [
        [f"{i % 59}m", "Warning" if i % 7 == 0 else "Normal", "Evicted" if i % 7 == 0 else "Scheduled",
         f"pod/svc-{i % 5000:05d}-{i:06x}", f"event {i} for team-{i % 50:02d}"] for i in range(rows)]
    result: dict[str, Any] = {"lines": lines, "rows": rows}

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(id="log")
            yield EvidenceTable(id="events")

    async def run() -> None:
        app = Bench()
        async with app.run_test(size=(120, 40)) as pilot:
            view, events = app.query_one(LogView), app.query_one(EvidenceTable)
            started = time.perf_counter()
            view.load(log)
            await pilot.pause()
            result["log_load_and_first_frame_s"] = round(time.perf_counter() - started, 3)
            view.focus()
            started = time.perf_counter()
            await pilot.press("end")
            await pilot.pause()
            result["log_jump_to_end_s"] = round(time.perf_counter() - started, 3)
            assert view.visible_text(), "the log shows nothing"
            started = time.perf_counter()
            for _ in range(20):
                await pilot.press("pageup")
            await pilot.pause()
            result["log_20_pages_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            events.load(table, lambda text: text)
            await pilot.pause()
            result["table_load_and_first_frame_s"] = round(time.perf_counter() - started, 3)
            events.focus()
            started = time.perf_counter()
            await pilot.press("end")
            await pilot.pause()
            result["table_jump_to_end_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            await pilot.press("s")
            await pilot.pause()
            result["table_sort_s"] = round(time.perf_counter() - started, 3)

    asyncio.run(run())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str]) -> int:
    what, rest = argv[0], argv[1:]
    if what == "cli":
        return cli(rest)
    if what == "session":
        return session(json.loads(rest[0]))
    if what == "app":
        return app(json.loads(rest[0]))
    if what == "ui":
        print(json.dumps(ui(int(rest[0]), int(rest[1]))), flush=True)
    else:
        print(f"unknown probe {what!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
