"""The terminal view against a real server: history, copy mode, mouse, paste."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomli_w
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.strip import Strip

from tests.app.app_harness import (
    APP_AGENTS,
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    press,
    screen_text,
    shown_text,
    started,
    terminal,
    until,
)
from tests.server.conftest import repo, stop_server  # noqa: F401  (fixture)
from tui.app.app import PtuiApp
from tui.app.widgets.frozen_view import FrozenView
from tui.app.widgets.terminal_render import StripRenderer, overlay, text_between
from tui.protocol import decode_runs
from tui.term.lines import Line
from tui.term.style import Style


def wheel(view: object, up: bool, x: int = 2, y: int = 1) -> events.MouseEvent:
    kind = events.MouseScrollUp if up else events.MouseScrollDown
    return kind(view, x, y, 0, -1 if up else 1, 0, False, False, False)  # type: ignore[arg-type]


@pytest.mark.usefixtures("app_server")
async def test_history_from_the_server() -> None:
    new_session("long output", agent="history")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        view = terminal(app)
        await until(pilot, lambda: "line 300" in screen_text(app), "the last line")
        assert "line 200" not in shown_text(app)
        await press(pilot, "session_open", "history_up")
        await until(pilot, lambda: "line 250" in shown_text(app), "an earlier page")
        assert view.frozen is not None and view.frozen.history_start is not None
        page = view.size.height - 1
        await press(pilot, "history_up")
        first = int(shown_text(app).split("line ", 2)[1].split()[0])
        await press(pilot, "history_down")
        assert f"line {first + page}" in shown_text(app)
        await press(pilot, "history_down", "history_down")  # back at the bottom: live again
        assert view.frozen is None
        # The mouse wheel scrolls the history too (the program does not use the mouse).
        view.post_message(wheel(view, up=True))
        await until(pilot, lambda: view.frozen is not None and view.frozen.scrolled_back, "wheel")
        # Typing goes to the program and shows the live screen again.
        await pilot.press("x", "enter")
        assert view.frozen is None
        await until(pilot, lambda: screen_text(app).count("x") >= 2, "the echo")


@pytest.mark.usefixtures("app_server")
async def test_copy_mode_copies_with_the_keyboard() -> None:
    new_session("long output", agent="history")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await until(pilot, lambda: "line 300" in screen_text(app), "the last line")
        await press(pilot, "session_open", "leader", "copy_mode")
        view = terminal(app)
        assert view.frozen is not None and view.frozen.copying
        await pilot.press("k", "0", "v", "dollar_sign", "y")
        assert app.clipboard == "line 300"
        assert view.frozen is None

        await press(pilot, "leader", "copy_mode")
        await pilot.press("k", "k", "0", "v", "j", "dollar_sign", "enter")
        assert app.clipboard == "line 299\nline 300"

        # Up past the top of the screen loads history from the server.
        await press(pilot, "leader", "copy_mode")
        await pilot.press(*["k"] * 40)
        await until(pilot, lambda: view.frozen and view.frozen.history_start is not None, "history")
        await pilot.press("y")  # nothing selected: the cursor's line
        assert app.clipboard.startswith("line ") and int(app.clipboard[5:]) < 265
        await press(pilot, "leader", "copy_mode")
        await pilot.press("escape")
        assert view.frozen is None


@pytest.fixture
def mouse_config(isolated_home: Path) -> Path:
    agents = {name: {"prompt": "none", **table} for name, table in APP_AGENTS.items()}
    agents["mouse"] = {
        "prompt": "none",
        "command": [
            "sh",
            "-c",
            r"printf '\033[?1000h\033[?1006h\033[?2004h'; stty raw -echo; exec cat -v",
        ],
    }
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps({"default_agent": "cat", "agents": agents}))
    return path


@pytest.mark.usefixtures("repo", "mouse_config")
async def test_mouse_goes_to_a_program_in_mouse_mode() -> None:
    try:
        new_session("mouse", agent="mouse")
        app = PtuiApp(repo=Path.cwd())
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, 1)
            view = terminal(app)
            await until(pilot, lambda: view.mirror.modes.get("mouse_tracking") == 1000, "mouse")
            view.post_message(wheel(view, up=True, x=2, y=1))
            await until(pilot, lambda: "^[[<64;3;2M" in screen_text(app), "the SGR wheel report")
            assert view.frozen is None
            # shift+pgup belongs to a mouse program too.
            await press(pilot, "session_open", "history_up")
            await until(pilot, lambda: "^[[5;2~" in screen_text(app), "shift+pageup")
            # A paste arrives bracketed: the program asked for it (?2004h).
            await pilot.press("ctrl+p")  # not the palette: the program gets ^P
            view.post_message(events.Paste("pasted"))
            await until(pilot, lambda: "^P^[[200~pasted^[[201~" in screen_text(app), "the paste")
    finally:
        stop_server()


def test_frozen_view_selection_and_scrolling() -> None:
    lines = [Line(((f"row {i}", Style()),)) for i in range(10)]
    view = FrozenView(lines, (0, 9), height=4)
    assert [view.line_at(y) for y in range(4)] == lines[6:]
    view.scroll(-3)
    assert view.line_at(0) == lines[3] and view.scrolled_back == 3
    view.scroll(-100)
    assert view.top == 0
    view.prepend([Line((("old", Style()),))], start=41)
    assert view.lines[0].text == "old" and view.history_start == 41 and view.top == 1
    view.copying = True
    view.cursor.row, view.cursor.col = 2, 2
    view.toggle_selection()
    view.move(rows=1, cols=2)
    assert view.selected_text() == "w 1\nrow 2"
    assert view.selected_columns(3, 80) == (0, 5)


def test_strips_are_cut_at_cell_boundaries() -> None:
    renderer = StripRenderer()
    line = decode_runs([["中文", 1], ["ab"]])
    strip = renderer.strip(line, 10)
    assert strip.cell_length == 10 and strip.text.rstrip() == "中文ab"
    assert text_between("中文ab", 0, 1) == "中"
    assert text_between("中文ab", 2, 5) == "文a"
    assert renderer.style(Style(fg=1)) is renderer.style(Style(fg=1))  # cached


def test_the_cursor_overlay_matches_a_cell_by_cell_split() -> None:
    """The fast path (one ASCII segment) and the general one lay the style on the
    same cells, across wide characters, segment edges and the line's end."""

    def cells(strip: Strip) -> list[tuple[str, RichStyle | None]]:
        out = []
        for segment in strip:
            for char in segment.text:
                out.append((char, segment.style))
        return out

    def by_divide(strip: Strip, start: int, end: int, style: RichStyle) -> Strip:
        before, middle, after = strip.divide([start, end, strip.cell_length])
        styled = [Segment(s.text, (s.style or RichStyle()) + style) for s in middle]
        return Strip.join([before, Strip(styled, middle.cell_length), after])

    red, cursor = RichStyle(color="red"), RichStyle(reverse=True)
    renderer = StripRenderer()
    for runs in ([["ab"], ["cdef", 1], ["g"]], [["中文", 1], ["abc"]], [["x中"], ["yz", 2]]):
        strip = renderer.strip(decode_runs(runs), 12)
        strip = Strip([*strip, Segment("tail", red)], strip.cell_length + 4)
        for start in range(strip.cell_length):
            for end in (start + 1, start + 2):
                got = overlay(strip, start, end, cursor)
                assert got.cell_length == strip.cell_length
                assert cells(got) == cells(by_divide(strip, start, min(end, 16), cursor)), (
                    runs,
                    start,
                    end,
                )


@pytest.mark.usefixtures("app_server")
async def test_the_echo_writer_sees_a_toast_come_and_go() -> None:
    """Which rows something covers is kept between echoes, and forgotten when the
    screen lays out again: a toast over the terminal's last rows, then gone."""
    new_session("under a toast")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(pilot, 1)
        view = terminal(app)
        writer = view._echo
        assert writer is not None
        top, bottom = view.region.y, view.region.bottom - 2
        assert not writer.covered(bottom) and not writer.covered(top)
        app.notify("a toast over the bottom right", timeout=30)
        await pilot.pause(0.3)
        assert writer.covered(bottom) and not writer.covered(top)
        app.clear_notifications()
        await pilot.pause(0.3)
        assert not writer.covered(bottom)
