"""The one door to Textual's private names: they exist, nothing else uses them, and
without them the app still runs (each optimisation off)."""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    press,
    screen_text,
    server_call,
    started,
    terminal,
    until,
    write_config,
)
from tests.server.conftest import repo  # noqa: F401  (fixture)
from tui.app import _textual_internals
from tui.app._textual_internals import (
    PRIVATE_NAMES,
    SUPPORT,
    Support,
    batch_depth,
    can_hold_frames,
    driver_write,
)
from tui.app.app import PtuiApp

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "tui"
DOOR = TUI / "app" / "_textual_internals.py"
# Every private Textual name ptui has used; only the door may name them.
PRIVATE = re.compile(
    r"\b(_end_batch|_compositor_refresh|_batch_count|_screen_stack|_driver"
    r"|_message_queue|_display)\b"
)


class RenamedApp:
    """What a Textual that renamed its internals looks like to `Support.of`."""

    def __init__(self) -> None:
        self._batch_depth = 0
        self._output: object = None

    def _finish_batch(self) -> None: ...

    def _write(self, screen: object, renderable: object) -> None: ...


class RenamedScreen:
    def _refresh(self) -> None: ...


class OneLine(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("one line")


def test_the_installed_textual_has_every_private_name_ptui_uses() -> None:
    """The canary: fails first when an upgrade of Textual drops or changes one."""
    assert SUPPORT.missing() == []
    assert Support.of(App, Screen) == SUPPORT
    assert SUPPORT.frame_holding and can_hold_frames()
    app = OneLine()
    assert type(app._batch_count) is int and app._batch_count == 0
    assert app._driver is None  # made by run(): a Driver with `write(str)` then
    # The overridden and wrapped methods take what ptui passes them.
    assert list(inspect.signature(App._end_batch).parameters) == ["self"]
    assert list(inspect.signature(Screen._compositor_refresh).parameters) == ["self"]
    assert list(inspect.signature(App._display).parameters) == ["self", "screen", "renderable"]


def test_the_installed_textual_is_in_the_pinned_range() -> None:
    """pyproject allows only the Textual versions these tests ran on, up to the next
    minor release (where private names are most likely to move)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [Requirement(line) for line in project["project"]["dependencies"]]
    [textual] = [r for r in requirements if r.name == "textual"]
    assert textual.specifier.contains(version("textual"))
    assert any(spec.operator == "<" for spec in textual.specifier)


async def test_batch_depth_counts_batch_updates() -> None:
    app = OneLine()
    async with app.run_test() as pilot:
        await pilot.pause()
        outside = batch_depth(app)
        assert outside == 0
        with app.batch_update():
            assert batch_depth(app) == 1
            with app.batch_update():
                assert batch_depth(app) == 2
        assert batch_depth(app) == 0
        assert driver_write(app, "") is True  # a driver while the app runs


def test_a_textual_without_the_names_turns_each_optimisation_off() -> None:
    renamed = Support.of(RenamedApp, RenamedScreen)
    assert renamed.missing() == list(PRIVATE_NAMES.values())
    assert not renamed.frame_holding
    # Frames are held only with all three names: one missing and none is held.
    assert not Support(True, False, True, True, True).frame_holding
    assert not Support(False, True, True, True, True).frame_holding
    assert Support(True, True, True, False, False).frame_holding


def test_private_textual_names_appear_only_behind_the_door() -> None:
    users = sorted(
        str(path.relative_to(TUI))
        for path in TUI.rglob("*.py")
        if PRIVATE.search(path.read_text(encoding="utf-8"))
    )
    assert users == ["app/_textual_internals.py"]
    # The pattern finds a use, and not a public name that ends the same way.
    assert PRIVATE.search("app._driver.write(x)") and PRIVATE.search('getattr(a, "_batch_count")')
    assert not PRIVATE.search("app.key_display(x); screen.erase_in_display()")


def test_the_bench_probe_installs_its_frame_hook_through_the_door(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without `App._display` the UI benchmark says so instead of timing nothing."""
    monkeypatch.setattr(_textual_internals, "SUPPORT", Support.of(RenamedApp, RenamedScreen))
    with pytest.raises(RuntimeError, match="cannot see its frames"):
        _textual_internals.watch_frames(lambda app: None)


@pytest.mark.usefixtures("app_server")
async def test_without_the_private_names_the_app_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Start-up, a switch, typing and a notification, as Textual does them unaided."""
    monkeypatch.setattr(_textual_internals, "SUPPORT", Support.of(RenamedApp, RenamedScreen))
    write_config({"ui": {"notify": "osc9"}})
    ringer = new_session("ringer", agent="sh")["id"]
    other = new_session("zz other", agent="cat")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        view = terminal(app)
        assert view.session == ringer
        assert batch_depth(app) is None and not can_hold_frames()
        assert driver_write(app, "\x1b]9;nothing\x07") is False  # the driver is not reached

        # A switch is drawn as Textual draws it: no frames held for the new screen.
        held: list[bool] = []
        hold = view._hold_frames

        def watched_hold() -> None:
            hold()
            held.append(view._hold is not None)

        view._hold_frames = watched_hold  # type: ignore[method-assign]
        await pilot.press("alt+2")
        assert view.session == other and held == [False]
        await until(pilot, lambda: view.mirror.updates, "the other session's screen")
        assert not app.main_screen.frame_held

        # Keys still reach the program, and its echo the screen.
        await press(pilot, "session_open")
        await pilot.press(*"hello")
        await until(pilot, lambda: "hello" in screen_text(app), "cat's echo")

        # A session that rings: the toast still says so (OSC 9 needs the driver).
        server_call("session.input", id=ringer, text="printf '\\a'\r")
        await until(
            pilot,
            lambda: any("ringer rang the bell" in n.message for n in app._notifications),
            "the toast",
        )
