"""Snapshots of the main screen, the new-session form, help, and each bundled theme.

The app runs on the canned client (tests/app/canned.py) so every picture is the
same on every machine; cursor blink is off.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.app.canned import CannedApp
from tui.app.screens.new_session import NewSessionScreen

SIZE = (130, 34)


async def _ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, CannedApp)
    for _ in range(200):
        if app.summaries and app.main_screen.terminal.mirror.updates:
            break
        await pilot.pause(0.02)
    await pilot.pause()


async def _no_blink(pilot: Pilot[Any]) -> None:
    for text_area in pilot.app.screen.query(TextArea):
        text_area.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("theme", ["ptui-dark", "ptui-light", "ptui-high-contrast"])
def test_main_screen(snap_compare: Any, theme: str) -> None:
    assert snap_compare(CannedApp(theme), terminal_size=SIZE, run_before=_ready)


def test_main_screen_typing_in_a_session(snap_compare: Any) -> None:
    """The terminal has the keyboard: its cursor shows, the footer shows only ptui's keys."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(CannedApp(), terminal_size=SIZE, run_before=run_before)


def test_new_session_form(snap_compare: Any) -> None:
    """The form after a create with problems: each is shown under its field."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("n")
        app = pilot.app
        for _ in range(100):
            if isinstance(app.screen, NewSessionScreen) and app.screen.branches:
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, NewSessionScreen)
        screen.query_one("#count", Input).value = "99"
        screen.query_one("#base", Input).value = "release"
        await pilot.pause()
        await pilot.press("ctrl+s")
        screen.query_one("#base", Input).focus()
        await _no_blink(pilot)

    assert snap_compare(CannedApp(), terminal_size=(130, 46), run_before=run_before)


def test_help_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(CannedApp(), terminal_size=(130, 60), run_before=run_before)
