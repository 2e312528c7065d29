"""What each `[ui]` key does in the real app, on a real server.

Every test writes the user's global config (`[ui]` is refused in a repository's
`.ptui.toml`) with a value other than the key's default and checks what the
default would not do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    press,
    server_call,
    started,
    terminal,
    until,
    write_config,
)
from tests.server.conftest import repo  # noqa: F401  (fixture)
from tui.app.app import PtuiApp

pytestmark = pytest.mark.usefixtures("app_server")


async def escape_after(key: str, config: dict[str, Any]) -> bool:
    """With `config`: open a session, press `key` then escape; did the sidebar get focus?"""
    write_config(config)
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await press(pilot, "session_open")
        assert app.focused is terminal(app)
        await pilot.press(key, "escape")
        await pilot.pause()
        return app.focused is app.main_screen.session_list


@pytest.mark.config_key("ui.theme")
async def test_theme_is_the_configured_one() -> None:
    write_config({"ui": {"theme": "ptui-light"}})
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        assert app.theme == "ptui-light"
        # ptui-dark, the default, has #ffd75f (tests/app/test_app_events.py).
        assert app.get_css_variables()["session-waiting"] == "#af8700"


@pytest.mark.config_key("ui.leader")
async def test_leader_is_the_configured_key() -> None:
    new_session("one", agent="cat")
    # Under the default leader (ctrl+]) f12 and escape both go to the program.
    assert not await escape_after("f12", {})
    assert await escape_after("f12", {"ui": {"leader": "f12"}})


@pytest.mark.config_key("ui.keys")
async def test_keys_leader_wins_over_ui_leader() -> None:
    new_session("one", agent="cat")
    config = {"ui": {"leader": "f12", "keys": {"leader": "f11"}}}
    assert await escape_after("f11", config)
    assert not await escape_after("f12", config)


async def test_ctrl_bracket_leads_whatever_the_config_says() -> None:
    """ctrl+] is the way out of a session that no configuration can take away."""
    new_session("one", agent="cat")
    config = {"ui": {"leader": "f12", "keys": {"leader": "f11"}}}
    assert await escape_after("ctrl+right_square_bracket", config)


@pytest.mark.config_key("ui.notify")
async def test_notify_none_keeps_quiet() -> None:
    write_config({"ui": {"notify": "none"}})
    ringer = new_session("ringer", agent="sh")["id"]
    new_session("zz other", agent="cat")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        bells: list[None] = []
        app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
        sidebar = app.main_screen.session_list
        sidebar.highlight("zz-other")
        await until(pilot, lambda: app.main_screen.current == "zz-other", "the other session")
        server_call("session.input", id=ringer, text="printf '\\a'\r")
        # The sidebar marks it; the default ("toast") would also say "ringer rang the bell".
        await until(pilot, lambda: sidebar.rows[ringer].unseen, "the unseen mark")
        await pilot.pause(0.2)
        assert [n.message for n in app._notifications] == [] and bells == []
