"""Widgets carry their own styles: used in an app that loads no castui stylesheet, they still look right."""

from __future__ import annotations

from textual.app import App, ComposeResult

from castui.widgets.log_pane import LogPane


class BareApp(App[None]):
    """An app with none of castui's CSS: only what the widget brings."""

    def compose(self) -> ComposeResult:
        yield LogPane(id="pane")


async def test_a_log_pane_in_another_app_keeps_its_layout() -> None:
    app = BareApp()
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        pane = app.query_one(LogPane)
        # the search box stays hidden until asked for, the status is one line, the log takes the rest
        assert not app.query_one("#log-find").display
        assert app.query_one("#log-status").region.height == 1
        assert app.query_one("#log-lines").region.height == pane.region.height - 1
