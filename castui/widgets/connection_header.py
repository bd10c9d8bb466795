"""The header every screen shows: where castui is looking and whether it gets answers.

The app owns one `Connection` (a reactive); each screen's header watches it, so the
context, cluster, API and their reachability read the same everywhere. A production
target adds a banner that says PRODUCTION in words, not only in colour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any
from urllib.parse import urlparse

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from castui.config import DEFAULT_API_URL
from castui.sanitise import printable
from castui.widgets.styles import styles_beside


@dataclass(frozen=True)
class Reach:
    """Whether one side answers: not checked yet, yes, or no with the reason."""

    checked: bool = False
    problem: str | None = None
    #: the error's kind (castui.clients.errors): a 401 is an answer that rejected the credentials, not "no answer"
    kind: str | None = None

    @property
    def verb(self) -> str:
        """How the header words the problem."""
        if self.kind in ("unauthorized", "forbidden"):
            return "rejected"
        if self.kind in ("connection", "timeout", None):
            return "no answer"
        if self.kind == "configuration":
            return "not set up"
        return "error"

    @property
    def ok(self) -> bool:
        return self.checked and self.problem is None


@dataclass(frozen=True)
class Connection:
    context: str | None = None
    cluster_id: str | None = None
    cluster_name: str | None = None
    region: str | None = None
    api_url: str = DEFAULT_API_URL
    lab: str | None = None
    bundle: str | None = None
    #: when a replayed bundle was captured: its checks are judged at that time
    captured: str | None = None
    has_key: bool = False
    read_only: bool = False
    production: bool = False
    kube: Reach = Reach()
    api: Reach = Reach()

    def with_(self, **changes: Any) -> "Connection":
        return replace(self, **changes)

    @property
    def api_display(self) -> str:
        """The API as a person recognises it; a lab's loopback port is noise."""
        if self.lab or self.bundle:
            return "lab loopback" if self.lab else "replayed bundle"
        if self.api_url == DEFAULT_API_URL:
            return "api.cast.ai"
        return urlparse(self.api_url).netloc or self.api_url


class ConnectionHeader(Vertical):
    """Context · cluster · API · lab, a reachability line, and the production banner."""
    DEFAULT_CSS = styles_beside(__file__)

    def compose(self) -> ComposeResult:
        yield Static(id="where")
        yield Static(id="reach")
        yield Static(id="replay-line")
        yield Static(id="production-banner")

    #: the connection shown last, drawn again on a resize (the app's reactive `connection` feeds `show`)
    last_connection: Connection | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "connection", self.show, init=True)

    def on_resize(self) -> None:
        if self.last_connection is not None:
            self.show(self.last_connection)

    def show(self, connection: Connection) -> None:
        self.last_connection = connection
        wide = self.size.width >= 110
        plain = bool(getattr(getattr(self.app, "settings", None), "plain", False))
        self.query_one("#where", Static).update(where_line(connection, wide=wide))
        key_for = getattr(self.app, "key_for", None)
        key = key_for("app.api-key") if key_for else "K"
        self.query_one("#reach", Static).update(reach_line(connection, plain=plain, key=key))
        replay = self.query_one("#replay-line", Static)
        replay.display = bool(connection.bundle)
        if connection.bundle:
            replay.update(replay_line(connection, width=self.size.width))
        banner = self.query_one("#production-banner", Static)
        banner.display = connection.production
        if connection.production:
            banner.update(Text.assemble(
                (" ⚠ PRODUCTION ", "bold reverse"),
                f" context {printable(connection.context or '?')}: changes here affect production; "
                "every command asks you to type the context name",
            ))


def where_line(c: Connection, *, wide: bool) -> Text:
    cluster_id = c.cluster_id or "unknown"
    if not wide and c.cluster_id:
        cluster_id = c.cluster_id[:8] + "…"
    cluster = f"{c.cluster_name} {cluster_id}" if c.cluster_name else cluster_id
    api = c.api_display + (f" {c.region}" if c.region else "")
    parts: list[tuple[str, str]] = [("context ", "dim"), (c.context or "none", "bold"),
                                    ("  cluster ", "dim"), (cluster, "bold"),
                                    ("  API ", "dim"), (api, "bold")]
    # names, ids and the region come from the kubeconfig and the API: shown, never acted on, and
    # each cut short so one long name cannot push the rest off the line
    return Text.assemble(*[(_clip(printable(part)), style) for part, style in parts], no_wrap=True, overflow="ellipsis")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def replay_line(c: Connection, *, width: int) -> Text:
    """Which bundle and when, on a line of its own so it fits: the file name alone when its path is long."""
    when = c.captured or "at an unknown time"
    bundle = c.bundle or ""
    if len("replay of , captured ") + len(bundle) + len(when) > width:
        bundle = PurePath(bundle).name
    text = Text.assemble(("replay of ", "dim"), (printable(bundle), "bold"), (", captured ", "dim"), (printable(when), "bold"))
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def reach_text(name: str, reach: Reach, *, plain: bool, missing: str | None = None, recorded: bool = False) -> Text:
    if missing:
        return Text.assemble((f"{name} ? ", "bold" if plain else "bold yellow"), missing)
    if not reach.checked:
        return Text.assemble((f"{name} … ", "bold"), "checking")
    if reach.problem is None:
        # a replay's answers were recorded at capture time: nothing answers now
        return Text.assemble((f"{name} ✓ ", "bold" if plain else "bold green"), "recorded" if recorded else "answers")
    return Text.assemble((f"{name} ✗ ", "bold" if plain else "bold red"), f"{reach.verb}: {printable(reach.problem)}")


def reach_line(c: Connection, *, plain: bool, key: str = "K") -> Text:
    missing = None if c.has_key else f"no key: cluster checks only ({key}: enter a key)"
    recorded = bool(c.bundle)
    text = Text.assemble(reach_text("cluster", c.kube, plain=plain, recorded=recorded), "   ",
                         reach_text("API", c.api, plain=plain, missing=missing, recorded=recorded))
    if c.lab:
        text.append_text(Text.assemble(("   lab scenario ", "dim"), (printable(c.lab), "bold")))
    if c.read_only:  # before the bundle's name, so a narrow terminal still shows it
        text.append_text(Text.assemble(("   read-only", "bold")))
    text.no_wrap, text.overflow = True, "ellipsis"
    return text
