"""Small things that surprise a responder at 3 a.m.: the home filter opens its single match at
once; the confirmation shows what really runs (the key through --set-file); a program that is not
installed is not offered for execution; a wrong name on production says so in the dialog."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from castui.screens.confirm_screen import ConfirmScreen
from castui.screens.home_screen import HomeScreen
from castui.screens.remediation_screen import RemediationScreen
from castui.screens.triage_screen import TriageScreen
from tests.app.conftest import (
    finish_triage,
    footer_keys,
    lab_on_fixed_clock,
    renamed_context,
    settings_for,
    text_of,
    wait_for,
    wait_for_screen,
)


async def test_the_home_filter_opens_a_single_match_with_one_enter(make_app) -> None:
    with lab_on_fixed_clock("healthy") as lab:
        app = make_app(lab)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_screen(pilot, HomeScreen)
            await pilot.press("slash", *"evict", "enter")
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            assert triage.symptom_ids == ["evictor-aggressive"]


@pytest.mark.skipif(shutil.which("helm") is not None, reason="this machine has helm: the case is helm missing")
async def test_helm_missing_is_said_and_the_confirmation_would_show_set_file(make_app) -> None:
    with lab_on_fixed_clock("invalid-api-key") as lab:
        app = make_app(lab)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("1")  # agent-crashloop
            triage = await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            await wait_for(pilot, lambda: (triage.highlighted_cause() or (None, None))[1] is not None
                           and triage.highlighted_cause()[1].id == "invalid-api-key", "the cursor on invalid-api-key")
            await pilot.press("f")
            fix = await wait_for_screen(pilot, RemediationScreen)
            assert "Execute" not in footer_keys(app) and "Copy" in footer_keys(app)
            assert "helm is not installed here: copy the command (c)" in text_of(fix.query_one("#fix-effect", Static))
            await pilot.press("x")  # not offered, and nothing happens
            await pilot.pause()
            assert app.screen is fix

            request = fix.request_for(fix.plan(dry_run=False))
            assert request.argv is not None and request.key_in_file
            assert "--set-file" in request.argv and "--set" not in request.argv
            assert not any("${CASTAI_API_KEY}" in arg for arg in request.argv)


async def test_a_wrong_name_on_production_says_so_in_the_dialog(make_app, tmp_path: Path) -> None:
    with lab_on_fixed_clock("heartbeat-failing") as lab:
        kubeconfig = renamed_context(lab, "prod-eu", tmp_path)
        app = make_app(lab, settings_for(lab, kubeconfig=str(kubeconfig), context="prod-eu"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await wait_for_screen(pilot, TriageScreen, on_top=False)
            await finish_triage(pilot)
            await pilot.press("f")
            await wait_for_screen(pilot, RemediationScreen)
            await pilot.press("x")
            confirm = await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press(*"prod-us", "enter")
            error = confirm.query_one("#confirm-typed-error", Static)
            await wait_for(pilot, lambda: "That is not “prod-eu”: nothing was run" in text_of(error), "the message")
            assert app.screen is confirm
            confirm.query_one(Input).value = "prod-e"
            await pilot.pause()
            assert text_of(error) == "", "typing again clears the message"
