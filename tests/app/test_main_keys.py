"""The main screen against a real server: switching sessions, typing, the leader key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    key_for,
    new_session,
    press,
    screen_text,
    started,
    terminal,
    until,
)
from tests.server.conftest import repo  # noqa: F401  (fixture)
from tui.app._textual_internals import batch_depth
from tui.app.app import PtuiApp
from tui.app.screens.help import HelpScreen
from tui.app.widgets.terminal_view import TerminalView


@pytest.mark.usefixtures("app_server")
async def test_switching_sessions() -> None:
    ids = [new_session(f"task {n}")["id"] for n in (1, 2, 3)]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 3)
        sidebar = app.main_screen.session_list
        assert sidebar.visible_ids() == sorted(ids)
        first, second, third = sidebar.visible_ids()
        assert sidebar.highlighted == first and terminal(app).session == first

        await press(pilot, "session_down")
        assert sidebar.highlighted == second and terminal(app).session == second
        await press(pilot, "session_down", "session_down")  # wraps around
        assert sidebar.highlighted == first
        await press(pilot, "session_up")
        assert sidebar.highlighted == third

        await pilot.press("alt+2")
        assert terminal(app).session == second
        await pilot.press("alt+right_square_bracket")
        assert terminal(app).session == third
        await pilot.press("alt+left_square_bracket", "alt+left_square_bracket")
        assert terminal(app).session == first
        # Without the kitty protocol Textual reads alt+3 (ESC 3) as macOS's option+3.
        await pilot.press("pound_sign")
        assert terminal(app).session == third
        await pilot.press("alt+9")  # no ninth session: nothing changes
        assert terminal(app).session == third


@pytest.mark.usefixtures("app_server")
async def test_a_switch_holds_frames_until_the_new_screen_arrives() -> None:
    for n in (1, 2):
        new_session(f"task {n}")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        view = terminal(app)
        await until(pilot, lambda: view.mirror.updates, "the first screen")
        assert view._hold is None  # the first picture after start-up is not held
        steps: list[str] = []
        hold, release, feed = view._hold_frames, view._release_frames, view.feed

        def logged_hold() -> None:
            steps.append(f"hold {batch_depth(app)}")
            hold()
            steps.append(f"held {batch_depth(app)}")

        def logged_release() -> None:
            steps.append("release" if view._hold is not None else "(nothing held)")
            release()

        def logged_feed(data: dict[str, Any]) -> None:
            steps.append("full screen" if data.get("full") else "update")
            feed(data)
            steps.append("held" if view._hold is not None else "drawing")

        view._hold_frames = logged_hold  # type: ignore[method-assign]
        view._release_frames = logged_release  # type: ignore[method-assign]
        app.context.screen_sinks[(view.session, view.tab)] = view.feed = logged_feed  # type: ignore[method-assign]
        first, second = app.main_screen.session_list.visible_ids()
        await pilot.press("alt+2")
        await until(pilot, lambda: "release" in steps, "frames to resume")
        # Sidebar, header and terminal are drawn together once the full screen is in:
        # the app draws nothing meanwhile (batch_update), then frames flow again.
        count = int(steps[0].split()[1])
        assert steps[:5] == [f"hold {count}", f"held {count + 1}", "full screen", "release",
                             "drawing"]  # fmt: skip
        assert view.session == second and view._hold is None
        await pilot.press("alt+1")
        await until(pilot, lambda: steps.count("release") == 2, "frames to resume again")
        assert view.session == first and steps[-3:] == ["full screen", "release", "drawing"]


@pytest.mark.usefixtures("app_server")
async def test_typing_into_a_session_echoes() -> None:
    new_session("echo me", agent="cat")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await until(pilot, lambda: terminal(app).mirror.updates, "the first screen")
        await press(pilot, "session_open")
        assert app.focused is terminal(app)
        # Keys the sidebar binds (n, d, q, ?, ctrl+p, tab) all go to the program here.
        await pilot.press(*"hello nd?q", "tab", "x", "enter")
        await until(pilot, lambda: screen_text(app).count("hello nd?q") == 2, "cat's echo")
        assert not app.screen_stack[-1:] or app.screen is app.main_screen


@pytest.mark.usefixtures("app_server")
async def test_keys_go_straight_to_the_program_and_keep_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    routed: list[str] = []
    on_key = TerminalView.on_key

    async def counted(view: TerminalView, event: events.Key) -> None:
        routed.append(event.key)
        await on_key(view, event)

    monkeypatch.setattr(TerminalView, "on_key", counted)
    new_session("order", agent="cat")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await until(pilot, lambda: terminal(app).mirror.updates, "the first screen")
        await press(pilot, "session_open")
        view = terminal(app)
        # The shortcut never takes a key a priority binding wants (alt+N, the leader).
        bindings = app.screen.active_bindings
        priority = {key for key, active in bindings.items() if active.binding.priority}
        assert "alt+2" in priority and priority <= view.reserved_keys

        await pilot.press(*"abc")
        await until(pilot, lambda: "abc" in screen_text(app), "cat's echo")
        assert routed == []  # sent from the app, not routed through Textual to on_key

        # A paste still queued for the view when the next key arrives goes first.
        app.post_message(events.Paste("PASTE"))
        app.post_message(events.Key("x", "x"))
        await until(pilot, lambda: "PASTEx" in screen_text(app) or "xPASTE" in screen_text(app),
                    "the paste and the key")  # fmt: skip
        assert "PASTEx" in screen_text(app) and routed == ["x"]


@pytest.mark.usefixtures("app_server")
async def test_leader_key_runs_actions_inside_the_terminal() -> None:
    new_session("one", agent="cat")
    new_session("two", agent="cat")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        screen = app.main_screen
        _first, second = screen.session_list.visible_ids()
        await press(pilot, "session_open")

        await press(pilot, "leader")
        assert screen.leader_pending and screen.query_one("#leader-hint").display
        await press(pilot, "session_down")  # leader j: next session, terminal keeps focus
        assert not screen.leader_pending
        assert terminal(app).session == second and app.focused is terminal(app)

        # leader leader sends the leader key (ctrl+] = GS) itself: cat's tty echoes ^]
        await until(pilot, lambda: terminal(app).mirror.updates, "the screen")
        await press(pilot, "leader", "leader")
        await pilot.press("enter")
        await until(pilot, lambda: "^]" in screen_text(app), "the echoed leader key")

        await press(pilot, "leader", "help")
        assert isinstance(app.screen, HelpScreen)
        await press(pilot, "help_close")
        assert app.screen is screen

        await press(pilot, "leader", "focus_sidebar")
        assert app.focused is screen.session_list

        # A key that is no ptui command after the leader is swallowed, not typed.
        await press(pilot, "session_open", "leader")
        await pilot.press("z")
        assert not screen.leader_pending
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert "z" not in screen_text(app)


@pytest.mark.usefixtures("app_server")
@pytest.mark.config_key("ui.leader", "ui.keys")
async def test_remapped_keys_from_config() -> None:
    from tests.app.app_harness import write_config

    write_config({"ui": {"leader": "ctrl+g", "keys": {"new_session": "N", "session_down": "J"}}})
    new_session("one")
    new_session("two")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        screen = app.main_screen
        _first, second = screen.session_list.visible_ids()
        await pilot.press("J")
        assert screen.session_list.highlighted == second
        await pilot.press(key_for("session_down"))  # j is no longer bound
        assert screen.session_list.highlighted == second
        await press(pilot, "session_open")
        await pilot.press("ctrl+g")
        assert screen.leader_pending
        await pilot.press("N")
        from tui.app.screens.new_session import NewSessionScreen

        await until(pilot, lambda: isinstance(app.screen, NewSessionScreen), "the new session form")


@pytest.mark.usefixtures("app_server")
async def test_no_frame_is_drawn_only_to_be_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up and a switch draw frames only outside a batch (inside, Textual drops them)."""
    from textual._compositor import Compositor

    ids = [new_session(f"task {n}")["id"] for n in (1, 2)]
    renders: list[int | None] = []  # the batch depth at each render of the main screen
    app = PtuiApp(repo=Path.cwd())
    render_update = Compositor.render_update

    def recording(self: Compositor, *args: Any, **kwargs: Any) -> Any:
        if app.screen_stack and self is app.screen._compositor:
            renders.append(batch_depth(app))
        return render_update(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "render_update", recording)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        await until(pilot, lambda: renders, "a first frame")
        await pilot.pause(0.2)
        drawn_at_start = len(renders)
        await pilot.press("alt+2")
        await until(pilot, lambda: terminal(app).session == ids[1], "the switch")
        await until(pilot, lambda: len(renders) > drawn_at_start + 1, "frames after the switch")
    assert drawn_at_start > 0
    assert [depth for depth in renders if depth != 0] == []


@pytest.mark.usefixtures("app_server")
async def test_each_session_key_opens_its_screen() -> None:
    from tui.app.screens.archive import ArchiveScreen
    from tui.app.screens.archived import ArchivedScreen
    from tui.app.screens.diff import DiffScreen
    from tui.app.screens.merge import MergeScreen
    from tui.app.screens.scripts import ScriptPicker

    new_session("task 1")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        opened: list[tuple[str, type[Any]]] = [
            ("diff", DiffScreen),
            ("merge", MergeScreen),
            ("archive", ArchiveScreen),
            ("archived", ArchivedScreen),
            ("run_script", ScriptPicker),
            ("help", HelpScreen),
        ]
        for binding_id, screen_class in opened:
            await press(pilot, binding_id)
            await until(pilot, lambda c=screen_class: isinstance(app.screen, c), binding_id)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main_screen, f"{binding_id} closed")
