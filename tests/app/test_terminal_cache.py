"""How the terminal view repaints and what it sends, observed on the canned client.

These check internals a live server cannot pin down (which strips are rebuilt,
the exact bytes of each key); behaviour with real programs is tested against
the real server in test_terminal_view.py.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.app.canned import CannedApp, CannedClient
from tui.app.widgets.terminal_view import TerminalView
from tui.protocol import encode_runs
from tui.protocol.events import decode_event
from tui.term.lines import Line
from tui.term.style import Style


async def ready(pilot: Pilot[Any]) -> tuple[CannedApp, TerminalView, CannedClient]:
    app = pilot.app
    assert isinstance(app, CannedApp)
    view = app.main_screen.terminal
    for _ in range(200):
        if view.mirror.updates:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    client = app.client
    assert isinstance(client, CannedClient)
    return app, view, client


def line(text: str) -> list[list[Any]]:
    return encode_runs(Line(((text, Style()),)))


async def test_only_changed_rows_are_rebuilt_and_scrolls_move_strips() -> None:
    async with CannedApp().run_test(size=(100, 30)) as pilot:
        app, view, _client = await ready(pilot)
        session, rows = view.session, view.mirror.rows
        assert session is not None
        before = list(view._strips)
        assert all(strip is not None for strip in before)  # all drawn once

        refreshed: list[int] = []
        original = view.refresh_line
        view.refresh_line = lambda y: (refreshed.append(y), original(y))[1]  # type: ignore[method-assign]
        app.on_server_event(decode_event({"event": "screen", "data": {
            "session": session, "tab": "agent", "cols": view.mirror.cols, "rows": rows,
            "cursor": list(view.mirror.cursor), "lines": [[3, line("changed")]]}}))  # fmt: skip
        assert view._strips[3] is None and view._strips[4] is before[4]
        await pilot.pause()
        assert 3 in refreshed and len(set(refreshed) - {3, view.mirror.cursor[1]}) == 0
        assert "changed" in view.render_line(3).text

        # A scroll moves the cached strips; only the rows it brought in are rebuilt.
        kept = view._strips[5]
        app.on_server_event(decode_event({"event": "screen", "data": {
            "session": session, "tab": "agent", "cols": view.mirror.cols, "rows": rows,
            "cursor": list(view.mirror.cursor), "scrolled": 2,
            "lines": [[rows - 2, line("new a")], [rows - 1, line("new b")]]}}))  # fmt: skip
        assert view._strips[3] is kept  # moved up by two, not rebuilt
        assert view._strips[rows - 1] is None
        await pilot.pause()
        assert view.render_line(rows - 1).text.startswith("new b")

        # Events for a tab this view does not show are ignored.
        other = {"session": "bump-deps", "tab": "agent", "lines": [[0, line("not mine")]]}
        app.on_server_event(decode_event({"event": "screen", "data": other}))
        assert "not mine" not in view.mirror.text()


async def test_keys_are_encoded_for_the_program_and_switching_detaches() -> None:
    async with CannedApp().run_test(size=(100, 30)) as pilot:
        app, view, client = await ready(pilot)
        first = view.session
        assert first == "add-search"  # the session waiting for you comes first
        await pilot.press("enter")  # into the terminal
        client.notified.clear()
        await pilot.press("a", "up", "f5", "ctrl+c", "tab", "escape", "<ignore>")
        sent = [p.get("text") for m, p in client.notified if m == "session.input"]
        assert sent == ["a", "\x1b[A", "\x1b[15~", "\x03", "\t", "\x1b"]  # <ignore>: dropped

        view.mirror.modes = {**view.mirror.modes, "app_cursor": True, "kitty_flags": 1}
        client.notified.clear()
        await pilot.press("up", "shift+enter")
        sent = [p.get("text") for m, p in client.notified if m == "session.input"]
        assert sent == ["\x1bOA", "\x1b[13;2u"]

        client.notified.clear()
        await pilot.press("alt+3")
        assert ("session.detach", {"id": first, "tab": "agent"}) in client.notified
        assert view.session == "bump-deps"
        assert app.context.screen_sinks.keys() == {("bump-deps", "agent")}


async def test_cursor_is_drawn_in_the_programs_shape() -> None:
    async with CannedApp().run_test(size=(100, 30)) as pilot:
        _app, view, _client = await ready(pilot)
        _x, y = view.mirror.cursor
        assert view.render_line(y).text == view._strips[y].text  # type: ignore[union-attr]
        await pilot.press("enter")  # focused: the cursor shows
        segments = list(view.render_line(y))
        assert any(s.style and s.style.reverse for s in segments)  # block
        view.mirror.modes = {**view.mirror.modes, "cursor_shape": 5}  # bar
        assert "▏" in view.render_line(y).text
        view.mirror.modes = {**view.mirror.modes, "cursor_shape": 3}  # underline
        assert any(s.style and s.style.underline for s in view.render_line(y))
        view.mirror.modes = {**view.mirror.modes, "cursor_visible": False}
        assert view.render_line(y).text == view._strips[y].text  # type: ignore[union-attr]


async def test_remote_new_session_asks_for_the_repository() -> None:
    from textual.widgets import Input

    from tests.app.canned import REPO
    from tui.app.screens.new_session import NewSessionScreen

    app = CannedApp()
    app.host, app.repo = "box", None  # as `ptui --host box` (no local repository)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, NewSessionScreen)
        assert form.query_one("#repo", Input).value == REPO  # the shown session's
        form.query_one("#repo", Input).value = ""
        await pilot.press("ctrl+s")
        assert "Which repository" in str(form.query_one("#repo-error").render())
