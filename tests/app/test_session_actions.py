"""Session actions from the main screen, against a real server: new, stop, resume, shell,
filter, help and the command palette."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, Select, Static, TextArea

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    press,
    record_notes,
    screen_text,
    server_call,
    started,
    terminal,
    until,
)
from tests.server.conftest import git, repo  # noqa: F401  (fixture)
from tui.app.app import PtuiApp
from tui.app.commands import PtuiCommands
from tui.app.screens.help import HelpScreen
from tui.app.screens.new_session import NewSessionScreen, preview_names
from tui.app.widgets.footer import KeyFooter
from tui.protocol.messages import Settings
from tui.protocol.states import LIVE


def error_text(screen: NewSessionScreen, field: str) -> str:
    label = screen.query_one(f"#{field}-error", Static)
    return str(label.render()) if label.display else ""


@pytest.mark.usefixtures("app_server")
async def test_new_session_form_validates_then_creates_two() -> None:
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        await press(pilot, "new_session")
        form = await until(pilot, lambda: isinstance(app.screen, NewSessionScreen) and app.screen,
                           "the form")  # fmt: skip
        assert isinstance(form, NewSessionScreen)
        await until(pilot, lambda: form.branches is not None, "the branch list")
        assert form.branches == ["main"]
        assert form.query_one("#agent", Select).value == "cat"

        # Nothing typed: create shows what is missing under the field, and stays open.
        await press(pilot, "create_session")
        assert "Describe the task" in error_text(form, "task")
        assert app.screen is form

        form.query_one("#count", Input).value = "0"
        form.query_one("#name", Input).value = "Bad Name"
        form.query_one("#base", Input).value = "no-such-branch"
        await pilot.pause()
        await press(pilot, "create_session")
        assert "1 to 50" in error_text(form, "count")
        assert "must not contain spaces" in error_text(form, "name")
        assert "no-such-branch" in error_text(form, "base")

        # Fixing a field clears its message as you type.
        form.query_one("#name", Input).value = ""
        form.query_one("#base", Input).value = "main"
        form.query_one(TextArea).text = "Fix the login bug\nand add a test"
        form.query_one("#count", Input).value = "2"
        await pilot.pause()
        assert error_text(form, "task") == error_text(form, "name") == ""
        preview = str(form.query_one("#preview", Static).render())
        assert "fix-the-login-bug-and-add-a-test, fix-the-login-bug-and-add-a-test-2" in preview

        await press(pilot, "create_session")
        await until(pilot, lambda: app.screen is app.main_screen, "the form to close")
        await until(pilot, lambda: len(app.main_screen.session_list.rows) == 2, "two sessions")
        names = sorted(info["name"] for info in app.sessions.values())
        assert names == ["fix-the-login-bug-and-add-a-test", "fix-the-login-bug-and-add-a-test-2"]
        assert all(
            info["task"] == "Fix the login bug\nand add a test" for info in app.sessions.values()
        )
        # The form's result reaches the main screen a moment after the form closes.
        await until(pilot, lambda: app.focused is terminal(app), "the terminal to take focus")
        assert terminal(app).session == app.main_screen.session_list.highlighted


@pytest.mark.usefixtures("app_server")
async def test_a_form_sent_at_once_starts_the_trusted_repositorys_agent() -> None:
    # The form asks the server for the repository's settings; one sent before the
    # answer arrives must not start the user's default agent (`cat`) instead.
    where = Path.cwd()
    (where / ".ptui.toml").write_text(
        'default_agent = "repo-agent"\n[agents.repo-agent]\ncommand = ["cat"]\nprompt = "none"\n'
    )
    git(where, "add", ".ptui.toml")
    git(where, "commit", "-qm", "repo config")
    shown = server_call("trust.show", repo=str(where), base="main")
    server_call("trust.add", repo=str(where), base="main", digest=shown["digest"])
    app = PtuiApp(repo=where)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        # The server's answer, half a second late (a slow link): the form opens on
        # the user's own file's agents, and is sent before the answer arrives.
        asked = app.context.repo_settings

        def late(repo: str, base: str | None = None) -> asyncio.Future[Settings]:
            async def answer() -> Settings:
                await asyncio.sleep(0.5)
                return await asked(repo, base)

            return asyncio.ensure_future(answer())

        app.context.repo_settings = late  # type: ignore[assignment,method-assign]
        app.context.forget_settings()
        await press(pilot, "new_session")
        form = await until(pilot, lambda: isinstance(app.screen, NewSessionScreen) and app.screen,
                           "the form")  # fmt: skip
        assert isinstance(form, NewSessionScreen)
        assert form.query_one("#agent", Select).value == "cat"  # the user's, for now
        form.query_one(TextArea).text = "at once"
        await press(pilot, "create_session")
        await until(pilot, lambda: app.screen is app.main_screen, "the form to close")
    [info] = server_call("session.list")
    assert info["agent"] == "repo-agent"


@pytest.mark.usefixtures("app_server")
async def test_server_refusal_is_shown_in_the_form() -> None:
    new_session("taken", name="taken")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await press(pilot, "new_session")
        form = await until(pilot, lambda: isinstance(app.screen, NewSessionScreen) and app.screen,
                           "the form")  # fmt: skip
        form.query_one("#name", Input).value = "taken"
        await pilot.pause()
        await press(pilot, "create_session")
        status = form.query_one("#form-error", Static)
        await until(pilot, lambda: "taken" in str(status.render()) and "Creating" not in
                    str(status.render()), "the server's answer")  # fmt: skip
        assert app.screen is form
        await press(pilot, "cancel_new_session")
        assert app.screen is app.main_screen


def test_name_preview_follows_the_server_rules() -> None:
    assert preview_names("Fix the login bug!", "", 1, set()) == ["fix-the-login-bug"]
    assert preview_names("Fix it", "", 3, {"fix-it"}) == ["fix-it-2", "fix-it-3", "fix-it-4"]
    assert preview_names("任务", "", 1, set()) == ["session"]
    assert preview_names("x", "mine", 2, set()) == ["mine-1", "mine-2"]


@pytest.mark.usefixtures("app_server")
async def test_stop_resume_and_shell_tab() -> None:
    sid = new_session("work", agent="cat")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await press(pilot, "stop")
        await until(pilot, lambda: app.sessions[sid]["status"] == "stopped", "stopped")
        await until(pilot, lambda: not terminal(app).alive, "the tab to end")
        await press(pilot, "resume")
        await until(pilot, lambda: app.sessions[sid]["status"] in LIVE, "resumed")
        assert terminal(app).alive

        await press(pilot, "shell_tab")
        await until(pilot, lambda: terminal(app).tab == "shell", "the shell tab")
        assert app.focused is terminal(app)
        assert "shell" in app.sessions[sid]["tabs"]
        await pilot.press(*"echo at=$PTUI_SESSION", "enter")
        await until(pilot, lambda: f"at={sid}" in screen_text(app), "the shell's answer")

        await press(pilot, "leader", "next_tab")
        assert terminal(app).tab == "agent"


@pytest.mark.usefixtures("app_server")
async def test_resume_without_a_known_conversation_says_so() -> None:
    sid = new_session("work", agent="forgetful")["id"]
    app = PtuiApp(repo=Path.cwd())
    notes = record_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await press(pilot, "stop")
        await until(pilot, lambda: app.sessions[sid]["status"] == "stopped", "stopped")
        await press(pilot, "resume")
        await until(pilot, lambda: any("no conversation id is known" in n for n in notes), "why")
        assert any(n.startswith(f"{sid}: ") and "`cat`" in n for n in notes), notes


@pytest.mark.usefixtures("app_server")
async def test_filter_sessions() -> None:
    for task in ("fix login", "add search", "fix logout"):
        new_session(task)
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 3)
        sidebar = app.main_screen.session_list
        await press(pilot, "filter")
        await pilot.press(*"fix")
        assert sidebar.visible_ids() == ["fix-login", "fix-logout"]
        await pilot.press("enter")
        assert app.focused is sidebar
        await press(pilot, "session_down")
        assert sidebar.highlighted == "fix-logout"
        await press(pilot, "focus_sidebar")  # escape clears the filter
        assert sidebar.visible_ids() == ["add-search", "fix-login", "fix-logout"]


@pytest.mark.usefixtures("app_server")
async def test_the_footer_turns_session_actions_on_when_a_session_appears() -> None:
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)

        def diff_key_disabled() -> bool | None:
            keys = [k for k in app.screen.query_one(KeyFooter).shown if k.key == "d"]
            return not keys[0].enabled if keys else None

        await until(pilot, lambda: diff_key_disabled() is True, "a greyed-out d Diff")
        new_session("first one")  # made elsewhere (the CLI): no focus change here
        await started(pilot, 1)
        await until(pilot, lambda: diff_key_disabled() is False, "d Diff available")


@pytest.mark.usefixtures("app_server")
async def test_help_lists_every_binding() -> None:
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        await press(pilot, "help")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(
            strip.text for strip in app.screen.query_one("#help-text").render_lines(
                app.screen.query_one("#help-text").region.reset_offset
            )
        )  # fmt: skip
        for words in ("^]", "leader", "Start sessions", "Copy mode", "alt+1 … alt+9", "⚠N"):
            assert words in text, words
        await press(pilot, "help_close")
        assert app.screen is app.main_screen


@pytest.mark.usefixtures("app_server")
async def test_palette_lists_actions_and_sessions() -> None:
    new_session("fix login")
    new_session("add search")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        provider = PtuiCommands(app.screen)
        found = [str(hit.text) async for hit in provider.discover()]
        assert "Session: add-search" in found and "Session: fix-login" in found
        for action in ("New (n)", "Diff (d)", "Stop (x)", "Resume (R)", "Filter (/)"):
            assert action in found, action
        hits = [hit async for hit in provider.search("fixlogin")]
        assert hits and str(hits[0].text) == "Session: fix-login"

        await press(pilot, "command_palette")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"add-sea")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: terminal(app).session == "add-search", "the chosen session")
        server_call("session.stop", id="add-search")
