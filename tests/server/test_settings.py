"""Documented settings that reach the sessions: `[terminal]` of the config, before
and after a server restart, and the client's theme colours answering colour queries.

Each test runs the real server on this test's config file and reads what a viewer
receives (screen events) or what the program itself was told (its PTY input).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.server.conftest import AGENTS, Runner, stop_server, wait_for
from tui import protocol
from tui.client.connection import Client

# Starts a synchronized-output frame once it reads a line, and never ends it.
HELD = "read go; printf '\\033[?2026hheld text'; exec sleep 60"
# Asks for the default foreground and background (OSC 10, 11) at start and after
# every key, and prints the answers with ESC shown as ^.
COLOURS = """
import os, tty
tty.setraw(0)
while True:
    os.write(1, b"\\x1b]10;?\\x1b\\\\\\x1b]11;?\\x1b\\\\")  # ST: answered with ST
    data = b""
    while data.count(b"\\x1b\\\\") < 2:
        data += os.read(0, 100)
    os.write(1, b"reply " + data.replace(b"\\x1b", b"^") + b"\\r\\n")
    os.read(0, 1)
"""
SETTINGS_AGENTS: dict[str, dict[str, Any]] = {
    **AGENTS,
    "held": {"command": ["sh", "-c", HELD]},
    "lines": {
        "command": ["sh", "-c", "seq 1 500; exec cat"],
        "resume": ["sh", "-c", "seq 501 1000; exec cat"],
    },
    "colours": {"command": [sys.executable, "-c", COLOURS]},
}


def write_config(path: Path, terminal: dict[str, int] | None = None) -> None:
    """The test agents plus these `[terminal]` settings, in the global config file."""
    data: dict[str, Any] = {
        "default_agent": "cat",
        "agents": {name: {"prompt": "none", **table} for name, table in SETTINGS_AGENTS.items()},
    }
    if terminal:
        data["terminal"] = terminal
    path.write_text(tomli_w.dumps(data))


def screen_texts(event: dict[str, Any]) -> str:
    """The text of every line a screen event carries."""
    lines = event["data"]["lines"]
    return "\n".join("".join(run[0] for run in runs) for _, runs in lines)


def seconds_until_shown(sid: str) -> float:
    """Attach `sid` (running `held`), let it start its frame, and time how long the
    frame takes to reach the viewer."""
    with Client() as client:
        client.call("session.attach", id=sid, cols=40, rows=10)
        first = client.next_event(timeout=5)
        assert first is not None and first["data"].get("full")
        assert "held text" not in screen_texts(first)
        start = time.monotonic()
        client.send_input(sid, b"go\r")
        while time.monotonic() - start < 10:
            event = client.next_event(timeout=0.5)
            if event is not None and event["event"] == "screen" and "held" in screen_texts(event):
                return time.monotonic() - start
    raise AssertionError(f"{sid}: the held frame never reached the viewer")


@pytest.mark.config_key("terminal.sync_timeout_ms")
def test_sync_timeout_ms_is_how_long_a_frame_is_held(
    ptui: Runner, repo: Path, config: Path
) -> None:
    write_config(config)
    ptui("new", "default-hold", "--agent", "held")
    shown = seconds_until_shown("default-hold")
    assert 0.1 <= shown < 0.6, f"default 150 ms hold took {shown:.2f}s"

    write_config(config, {"sync_timeout_ms": 1000})
    ptui("new", "long-hold", "--agent", "held")
    shown = seconds_until_shown("long-hold")
    assert 0.95 <= shown < 2.5, f"a 1000 ms hold took {shown:.2f}s"


def scrollback_total(client: Client, sid: str) -> int:
    total: int = client.call("session.scrollback", id=sid, start=0, count=0)["total"]
    return total


@pytest.mark.config_key("terminal.scrollback")
def test_scrollback_setting_survives_a_server_restart(
    ptui: Runner, repo: Path, config: Path
) -> None:
    write_config(config, {"scrollback": 50})
    ptui("new", "long-output", "--agent", "lines")
    with Client() as client:
        wait_for(lambda: "500" in client.call("session.screen", id="long-output")["text"])
        assert scrollback_total(client, "long-output") == 50

    stop_server()  # a real stop; the next call starts a new server, which loads the state
    with Client() as client:
        assert client.call("session.info", id="long-output")["status"] == "stopped"
        client.call("session.resume", id="long-output")
        wait_for(
            lambda: "1000" in client.call("session.screen", id="long-output")["text"],
            what="the resumed agent's output",
        )
        assert scrollback_total(client, "long-output") == 50


def colour_reply(foreground: str, background: str) -> str:
    return f"reply ^]10;{foreground}^\\^]11;{background}^\\"


def test_client_colours_answer_colour_queries_in_new_and_running_tabs(
    ptui: Runner, repo: Path, config: Path
) -> None:
    write_config(config)
    with Client() as client:
        # A light theme's colours, before the session exists: its first query hears them.
        assert client.call("client.colors", foreground="#1c1c1c", background="#F5F5F5") is True
        ptui("new", "asks", "--agent", "colours")
        light = colour_reply("rgb:1c1c/1c1c/1c1c", "rgb:f5f5/f5f5/f5f5")
        wait_for(
            lambda: light in client.call("session.screen", id="asks")["text"],
            what="the light colours",
        )
        # Another client (the last one wins) switches theme: the running tab follows.
        with Client() as other:
            other.call("client.colors", foreground="#ffffff", background="#000080")
        client.send_input("asks", b"x")
        navy = colour_reply("rgb:ffff/ffff/ffff", "rgb:0000/0000/8080")
        wait_for(
            lambda: navy in client.call("session.screen", id="asks")["text"],
            what="the new colours",
        )


BAD_COLOURS: list[dict[str, Any]] = [
    {},
    {"foreground": "#1c1c1c"},
    {"foreground": "white", "background": "#f5f5f5"},
    {"foreground": "#1c1c1c", "background": "#fff"},
    {"foreground": "#1c1c1c", "background": "rgb:f5f5/f5f5/f5f5"},
    {"foreground": 0x1C1C1C, "background": "#f5f5f5"},
    {"foreground": "#1c1c1c", "background": ["#f5f5f5"]},
    {"foreground": "#1c1c1c", "background": "#f5f5f5\x1b\\"},
]


def test_client_colours_are_hex_or_refused(ptui: Runner, repo: Path, config: Path) -> None:
    write_config(config)
    with Client() as client:
        for params in BAD_COLOURS:
            with pytest.raises(protocol.RemoteError, match="#rrggbb") as refused:
                client.call("client.colors", **params)
            assert refused.value.code == protocol.FAILED, params
        # The connection stays, and nothing changed: the defaults still answer.
        ptui("new", "asks", "--agent", "colours")
        dark = colour_reply("rgb:d0d0/d0d0/d0d0", "rgb:1c1c/1c1c/1c1c")
        wait_for(lambda: dark in client.call("session.screen", id="asks")["text"])
