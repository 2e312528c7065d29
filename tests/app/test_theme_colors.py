"""The app's theme is what agents hear when they ask for the terminal's colours.

An agent picks its palette from the answers to OSC 10 / 11; the app tells the
server the colours its sessions' text appears on (`client.colors`), when it
connects and when the theme changes. The agent here prints the answers it gets.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import tomli_w
from rich.color import Color as RichColor

from tests.app.app_harness import (
    APP_AGENTS,
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    server_call,
    started,
    terminal,
    until,
)
from tests.server.conftest import repo  # noqa: F401  (fixture)
from tests.server.test_settings import COLOURS, colour_reply
from tui.app.app import PtuiApp


def write_light_config() -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    agents = {name: {"prompt": "none", **table} for name, table in APP_AGENTS.items()}
    agents["colours"] = {"prompt": "none", "command": [sys.executable, "-c", COLOURS]}
    path.write_text(tomli_w.dumps({"default_agent": "cat", "agents": agents,
                                   "ui": {"theme": "ptui-light"}}))  # fmt: skip


def hex_of(color: RichColor | None) -> str:
    assert color is not None
    return color.get_truecolor().hex


def agent_screen() -> str:
    return str(server_call("session.screen", id="asks")["text"])


@pytest.mark.usefixtures("app_server")
async def test_agents_hear_the_light_theme_and_then_the_dark_one() -> None:
    write_light_config()
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        await until(pilot, lambda: app.optional_methods.get("client.colors"), "colours sent")
        # What is sent is what the terminal view paints the agent's text with.
        painted = terminal(app).rich_style
        assert app.theme_colors() == (hex_of(painted.color), hex_of(painted.bgcolor))
        assert app.theme_colors() == ("#1c1c1c", "#f5f5f5")  # themes/light.toml

        new_session("ask for colours", agent="colours", name="asks")
        light = colour_reply("rgb:1c1c/1c1c/1c1c", "rgb:f5f5/f5f5/f5f5")
        await until(pilot, lambda: light in agent_screen(), "the light colours")

        app.theme = "ptui-dark"
        dark = colour_reply("rgb:d0d0/d0d0/d0d0", "rgb:1c1c/1c1c/1c1c")

        def asked_again() -> bool:
            server_call("session.input", id="asks", text="x")  # the agent asks again
            return dark in agent_screen()

        await until(pilot, asked_again, "the dark colours after the theme changed")
